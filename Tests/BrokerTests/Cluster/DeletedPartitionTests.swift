import Foundation
import KafkaProtocol
import NIOCore
import Testing
@testable import Broker

/// A request that picked up a partition just before DeleteTopics removed it (a produce
/// whose fsync is still queued on the thread pool, a fetch, a retention pass) meets a
/// closed log: an error or nothing to do, never a crash.
@Suite struct DeletedPartitionTests {
    @Test func aDeletedPartitionAnswersEveryLateCallerWithoutTrapping() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        let partition = Partition(topic: "t", index: 0, log: log)
        _ = try partition.append(makeBatch(count: 3), now: 0)
        #expect(partition.offsets.highWatermark == 3)
        #expect(partition.flushIsDue(now: 10_000, interval: 1))  // unflushed data: a flush was due

        try partition.delete()
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/t-0"))
        #expect(log.isClosed)
        // The flush of the produce that raced the deletion: nothing to sync, no file touched.
        #expect(partition.flushIsDue(now: 20_000, interval: 1) == false)
        #expect(try partition.flush() == 0)
        #expect(try log.beginFlush() == nil)
        #expect(partition.offsets.highWatermark == 3, "the end it had, not a trap on the missing segment")
        #expect(throws: AppendError.self) { try partition.append(makeBatch(count: 1), now: 0) }
        #expect(throws: ReadError.self) { try partition.deleteRecords(before: 1) }
        #expect(try partition.applyRetention(now: .max) == 0)
        #expect(try partition.compact(now: 0, force: true) == nil)
        try log.roll()
        #expect(log.segmentCount == 0)
        guard case .success(let read) = partition.read(from: 0, maxBytes: 1 << 20, minOneBatch: true) else {
            Issue.record("a read of a deleted partition answers (with nothing)")
            return
        }
        #expect(read.records == nil)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/t-0"), "no late caller recreated a file")
    }

    @Test func aClosedLogTakesNoAppendsAndItsFlushTouchesNoDescriptor() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        _ = try log.append(makeBatch(count: 2), now: 0)
        log.close()
        #expect(log.isClosed)
        #expect(log.flushedOffset == 2, "close flushes what was appended")
        #expect(try log.beginFlush() == nil)
        #expect(throws: AppendError.self) { try log.append(makeBatch(count: 1), now: 0) }
        #expect(log.logEndOffset == 2)
        log.close()  // idempotent
        let reopened = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        #expect(reopened.logEndOffset == 2)
        #expect(try decodeRecords(try reopened.read(from: 0, maxBytes: 1 << 20, minOneBatch: true)).map(\.offset) == [0, 1])
        reopened.close()
    }
}
