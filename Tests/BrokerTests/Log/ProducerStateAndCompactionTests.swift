import Foundation
import KafkaProtocol
import NIOCore
import Testing
@testable import Broker

@Suite struct ProducerStateTests {
    func batch(producer: Int64 = 7, epoch: Int16 = 0, sequence: Int32, count: Int = 3) -> ByteBuffer {
        makeBatch(count: count, producerID: producer, producerEpoch: epoch, baseSequence: sequence)
    }

    @Test func aRetriedBatchIsAnsweredWithItsOriginalOffsetsAndNotStoredTwice() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        let first = try log.append(batch(sequence: 0), now: 0)
        let second = try log.append(batch(sequence: 3), now: 0)
        let retry = try log.append(batch(sequence: 0), now: 0)
        #expect(retry.baseOffset == first.baseOffset && retry.lastOffset == first.lastOffset)
        #expect(try log.append(batch(sequence: 3), now: 0).baseOffset == second.baseOffset)
        #expect(log.logEndOffset == 6)
    }

    @Test func aSkippedSequenceIsOutOfOrder() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        _ = try log.append(batch(sequence: 0), now: 0)
        #expect(throws: AppendError.outOfOrderSequence("producer 7 sent sequence 5, expected 3")) {
            _ = try log.append(batch(sequence: 5), now: 0)
        }
        #expect(log.logEndOffset == 3)
    }

    @Test func epochsFenceOldProducersAndNewEpochsStartAtZero() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        _ = try log.append(batch(epoch: 1, sequence: 0), now: 0)
        #expect(throws: AppendError.self) { _ = try log.append(batch(epoch: 0, sequence: 3), now: 0) }
        #expect(throws: AppendError.self) { _ = try log.append(batch(epoch: 2, sequence: 3), now: 0) }
        #expect(try log.append(batch(epoch: 2, sequence: 0), now: 0).baseOffset == 3)
    }

    @Test func onlyTheLastFiveBatchesAreRememberedForDuplicates() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        for index in 0..<7 { _ = try log.append(batch(sequence: Int32(index * 3)), now: 0) }
        #expect(try log.append(batch(sequence: 6), now: 0).baseOffset == 6)  // batch 3 of 7: still known
        #expect(throws: AppendError.self) { _ = try log.append(batch(sequence: 3), now: 0) }  // batch 2: forgotten
    }

    @Test(arguments: [true, false])
    func stateIsRebuiltOnRestart(withSnapshot: Bool) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/t-0"
        var config = LogConfig()
        config.segmentBytes = 400
        do {
            let log = try PartitionLog(directory: path, config: config)
            for index in 0..<10 { _ = try log.append(batch(sequence: Int32(index * 3)), now: 0) }
            log.close()
        }
        if !withSnapshot { try FileManager.default.removeItem(atPath: path + "/producer-state.snapshot") }
        let log = try PartitionLog(directory: path, config: config)
        #expect(log.segmentCount > 2)
        #expect(try log.append(batch(sequence: 27), now: 0).baseOffset == 27)  // duplicate of the last batch
        #expect(log.logEndOffset == 30)
        #expect(throws: AppendError.self) { _ = try log.append(batch(sequence: 33), now: 0) }
        #expect(try log.append(batch(sequence: 30), now: 0).baseOffset == 30)
    }
}

@Suite struct CompactionTests {
    func update(key: Int, version: Int, value: String? = nil, timestamp: Int64 = 1_000) -> ByteBuffer {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: timestamp, key: Array("key-\(key)".utf8), value: value.map { Array($0.utf8) } ?? Array("v\(version)".utf8))
        return builder.finish()
    }

    @Test func compactionKeepsTheLastRecordOfEveryKeyWithItsOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.cleanupPolicy = .compact
        config.segmentBytes = 2_000
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        var lastOffset: [Int: Int64] = [:]
        for version in 0..<20 {
            for key in 0..<10 {
                lastOffset[key] = try log.append(update(key: key, version: version), now: 0).baseOffset
            }
        }
        let endBefore = log.logEndOffset
        let result = try #require(try log.compact(now: 0, force: true))
        #expect(result.recordsAfter < result.recordsBefore)
        #expect(log.logEndOffset == endBefore)
        var latest: [String: (offset: Int64, value: String)] = [:]
        var count = 0
        var offset: Int64 = 0
        while let bytes = try log.read(from: offset, maxBytes: 1 << 20, minOneBatch: true) {
            let records = try decodeRecords(bytes)
            for record in records where record.offset >= offset {
                latest[String(buffer: record.key!)] = (record.offset, String(buffer: record.value!))
                count += 1
            }
            offset = records.last!.offset + 1
        }
        // Every key's latest value, at its original offset; far fewer records than written.
        for key in 0..<10 {
            #expect(latest["key-\(key)"]?.value == "v19")
            #expect(latest["key-\(key)"]?.offset == lastOffset[key])
        }
        #expect(count < 200)
        #expect(count >= 10)
    }

    @Test func oldTombstonesAreRemovedAndRecentOnesKept() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.cleanupPolicy = .compact
        config.segmentBytes = 300
        config.deleteRetentionMs = 1_000
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        _ = try log.append(update(key: 1, version: 0), now: 0)
        _ = try log.append(update(key: 2, version: 0), now: 0)
        var tombstone = RecordBatchBuilder()
        tombstone.append(timestamp: 1_000, key: Array("key-1".utf8), value: nil as [UInt8]?)
        _ = try log.append(tombstone.finish(), now: 0)
        var recent = RecordBatchBuilder()
        recent.append(timestamp: 9_500, key: Array("key-2".utf8), value: nil as [UInt8]?)
        _ = try log.append(recent.finish(), now: 0)
        for version in 0..<10 { _ = try log.append(update(key: 3, version: version), now: 0) }
        _ = try log.compact(now: 10_000, force: true)
        let records = try decodeRecords(try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true))
        let keys = records.map { String(buffer: $0.key!) }
        #expect(!keys.contains("key-1"))                    // its tombstone expired, and the value before it went
        #expect(records.first { String(buffer: $0.key!) == "key-2" }?.value == nil)  // recent tombstone stays
    }

    @Test func recordsWithoutKeysAreRefusedByCompactedTopics() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.cleanupPolicy = .compact
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 0, key: nil as [UInt8]?, value: Array("x".utf8))
        #expect(throws: AppendError.invalidRecord("compacted topic requires a key on every record")) {
            _ = try log.append(builder.finish(), now: 0)
        }
    }
}
