import Foundation
import KafkaProtocol
import NIOCore
import Testing
@testable import Broker

@Suite struct PartitionLogTests {
    @Test func appendAssignsConsecutiveOffsetsAndReadsBack() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        let first = try log.append(makeBatch(count: 3), now: 0)
        let second = try log.append(makeBatch(count: 2, valuePrefix: "w"), now: 0)
        #expect(first.baseOffset == 0 && first.lastOffset == 2)
        #expect(second.baseOffset == 3 && second.lastOffset == 4)
        // The high watermark is last offset + 1, not base offset of the last batch + 1.
        #expect(log.logEndOffset == 5)
        let records = try decodeRecords(try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true))
        #expect(records.map(\.offset) == [0, 1, 2, 3, 4])
        #expect(records.map { String(buffer: $0.value!) } == ["v0", "v1", "v2", "w0", "w1"])
        #expect(try log.read(from: 5, maxBytes: 1 << 20, minOneBatch: true) == nil)
    }

    @Test func fetchFromMiddleOfBatchReturnsWholeBatch() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        for cacheBytes in [0, 4 << 20] {  // from disk and from the tail cache
            let log = try PartitionLog(directory: directory.path + "/t-\(cacheBytes)", config: LogConfig(), cacheBytes: cacheBytes)
            _ = try log.append(makeBatch(count: 10), now: 0)
            _ = try log.append(makeBatch(count: 10), now: 0)
            let bytes = try #require(try log.read(from: 13, maxBytes: 1 << 20, minOneBatch: true))
            let batches = Array(RecordBatchSequence(bytes))
            #expect(batches.first?.header.baseOffset == 10, "cache \(cacheBytes)")
            #expect(try decodeRecords(bytes).map(\.offset) == Array(10...19))
        }
    }

    @Test func maxBytesIsRespectedButOneBatchAlwaysComesBack() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        for cacheBytes in [0, 4 << 20] {
            let log = try PartitionLog(directory: directory.path + "/t-\(cacheBytes)", config: LogConfig(), cacheBytes: cacheBytes)
            let batch = makeBatch(count: 20)
            for _ in 0..<5 { _ = try log.append(batch, now: 0) }
            let size = batch.readableBytes
            let two = try #require(try log.read(from: 0, maxBytes: 2 * size + 10, minOneBatch: false))
            #expect(two.readableBytes == 2 * size)
            let one = try #require(try log.read(from: 0, maxBytes: 10, minOneBatch: true))
            #expect(one.readableBytes == size)
            #expect(try log.read(from: 0, maxBytes: 10, minOneBatch: false) == nil)
        }
    }

    @Test func offsetsOutsideTheLogAreOutOfRange() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try PartitionLog(directory: directory.path + "/t-0", config: LogConfig())
        _ = try log.append(makeBatch(count: 3), now: 0)
        #expect(throws: ReadError.offsetOutOfRange(logStartOffset: 0, logEndOffset: 3)) {
            _ = try log.read(from: 4, maxBytes: 100, minOneBatch: true)
        }
        #expect(throws: ReadError.offsetOutOfRange(logStartOffset: 0, logEndOffset: 3)) {
            _ = try log.read(from: -1, maxBytes: 100, minOneBatch: true)
        }
    }

    @Test func segmentsRollBySizeAndReadsCrossThem() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        let batch = makeBatch(count: 10)
        config.segmentBytes = batch.readableBytes * 3
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config, cacheBytes: 0)
        for _ in 0..<10 { _ = try log.append(batch, now: 0) }
        #expect(log.segmentBaseOffsets == [0, 30, 60, 90])
        var offset: Int64 = 0
        var seen: [Int64] = []
        while let bytes = try log.read(from: offset, maxBytes: 1 << 20, minOneBatch: true) {
            let records = try decodeRecords(bytes)
            seen += records.map(\.offset)
            offset = records.last!.offset + 1
        }
        #expect(seen == Array(0..<100))
    }

    @Test func segmentsRollByAge() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.segmentMs = 1000
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        _ = try log.append(makeBatch(count: 1), now: 10_000)
        _ = try log.append(makeBatch(count: 1), now: 10_999)
        _ = try log.append(makeBatch(count: 1), now: 11_000)
        #expect(log.segmentBaseOffsets == [0, 2])
    }

    @Test func retentionByTimeDeletesOldSegmentsAndAdvancesLogStart() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        let batch = makeBatch(count: 5, firstTimestamp: 1_000)
        config.segmentBytes = batch.readableBytes
        config.retentionMs = 10_000
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        _ = try log.append(batch, now: 0)
        _ = try log.append(batch, now: 0)
        _ = try log.append(makeBatch(count: 5, firstTimestamp: 50_000), now: 0)
        _ = try log.append(makeBatch(count: 5, firstTimestamp: 50_000), now: 0)
        #expect(log.segmentBaseOffsets == [0, 5, 10, 15])
        #expect(try log.applyRetention(now: 20_000) == 2)
        #expect(log.segmentBaseOffsets == [10, 15])
        #expect(log.logStartOffset == 10)
        #expect(throws: ReadError.self) { _ = try log.read(from: 5, maxBytes: 100, minOneBatch: true) }
        // The active segment is never deleted, however old.
        #expect(try log.applyRetention(now: 1_000_000) == 1)
        #expect(log.segmentBaseOffsets == [15])
    }

    @Test func retentionBySizeKeepsTheNewestSegments() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        let batch = makeBatch(count: 5)
        config.segmentBytes = batch.readableBytes
        config.retentionBytes = Int64(batch.readableBytes * 2)
        config.retentionMs = -1
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        for _ in 0..<5 { _ = try log.append(batch, now: 0) }
        #expect(try log.applyRetention(now: 0) == 3)
        #expect(log.segmentBaseOffsets == [15, 20])
        #expect(log.logStartOffset == 15)
    }

    @Test func reopenKeepsEverything() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.segmentBytes = 2000
        config.indexIntervalBytes = 100
        let path = directory.path + "/t-0"
        do {
            let log = try PartitionLog(directory: path, config: config)
            for index in 0..<50 { _ = try log.append(makeBatch(count: 3, firstTimestamp: Int64(index) * 10), now: 0) }
            log.close()
        }
        let log = try PartitionLog(directory: path, config: config)
        #expect(log.logEndOffset == 150)
        #expect(log.segmentCount == 3)
        var offset: Int64 = 77
        var seen: [Int64] = []
        while let bytes = try log.read(from: offset, maxBytes: 500, minOneBatch: true) {
            let records = try decodeRecords(bytes).filter { $0.offset >= offset }
            seen += records.map(\.offset)
            offset = records.last!.offset + 1
        }
        #expect(seen == Array(77..<150))
        _ = try log.append(makeBatch(count: 1), now: 0)
        #expect(log.logEndOffset == 151)
    }

    @Test func recoveryCutsATornTailBatchAndKeepsTheRest() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/t-0"
        var lastBatchSize = 0
        do {
            let log = try PartitionLog(directory: path, config: LogConfig())
            for _ in 0..<4 { _ = try log.append(makeBatch(count: 5), now: 0) }
            let last = makeBatch(count: 7)
            lastBatchSize = last.readableBytes
            _ = try log.append(last, now: 0)
            log.close()
        }
        let segment = path + "/00000000000000000000.log"
        let size = try FileManager.default.attributesOfItem(atPath: segment)[.size] as! Int
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: segment))
        try handle.truncate(atOffset: UInt64(size - lastBatchSize / 2))
        try handle.close()

        let log = try PartitionLog(directory: path, config: LogConfig())
        #expect(log.logEndOffset == 20)
        #expect(try decodeRecords(try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true)).count == 20)
        // New appends continue where the good data ends.
        #expect(try log.append(makeBatch(count: 1), now: 0).baseOffset == 20)
    }

    @Test func recoveryCutsAtACorruptBatch() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/t-0"
        let batch = makeBatch(count: 5)
        do {
            let log = try PartitionLog(directory: path, config: LogConfig())
            for _ in 0..<4 { _ = try log.append(batch, now: 0) }
            log.close()
        }
        // Flip a byte inside the third batch's records.
        let segment = path + "/00000000000000000000.log"
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: segment))
        try handle.seek(toOffset: UInt64(batch.readableBytes * 2 + 70))
        try handle.write(contentsOf: Data([0xEE]))
        try handle.close()
        let log = try PartitionLog(directory: path, config: LogConfig())
        #expect(log.logEndOffset == 10)
    }

    @Test func invalidBatchesAreRefusedAndNothingIsAppended() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.maxMessageBytes = 500
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        var corrupt = makeBatch(count: 2)
        corrupt.setInteger(UInt8(0x55), at: corrupt.writerIndex - 1)
        var twoBatches = makeBatch(count: 2)
        twoBatches.writeImmutableBuffer(corrupt)
        #expect(throws: AppendError.self) { _ = try log.append(twoBatches, now: 0) }
        #expect(log.logEndOffset == 0)
        #expect(throws: AppendError.messageTooLarge(size: makeBatch(count: 40).readableBytes, limit: 500)) {
            _ = try log.append(makeBatch(count: 40), now: 0)
        }
        #expect(throws: AppendError.self) { _ = try log.append(ByteBuffer(bytes: [1, 2, 3]), now: 0) }
        #expect(log.logEndOffset == 0)
    }

    @Test func timestampLookupFindsTheFirstRecordAtOrAfter() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.indexIntervalBytes = 1
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        for index in 0..<10 {
            _ = try log.append(makeBatch(count: 10, firstTimestamp: 1_000 + Int64(index) * 100, step: 10), now: 0)
        }
        // Records have timestamps 1000, 1010, ..., 1990 at offsets 0...99.
        #expect(try log.offset(forTimestamp: 0)?.offset == 0)
        #expect(try log.offset(forTimestamp: 1_455)?.offset == 46)
        #expect(try log.offset(forTimestamp: 1_455)?.timestamp == 1_460)
        #expect(try log.offset(forTimestamp: 1_990)?.offset == 99)
        #expect(try log.offset(forTimestamp: 1_991) == nil)
        #expect(try log.offsetOfMaxTimestamp()?.offset == 99)
    }

    @Test func logAppendTimeStampsTheBatch() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        var config = LogConfig()
        config.logAppendTime = true
        let log = try PartitionLog(directory: directory.path + "/t-0", config: config)
        let result = try log.append(makeBatch(count: 3), now: 42_000)
        #expect(result.logAppendTime == 42_000)
        let bytes = try #require(try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true))
        let batch = try RecordBatch(validating: bytes)  // CRC still valid
        #expect(try batch.records().map(\.timestamp) == [42_000, 42_000, 42_000])
    }

    @Test func deleteRecordsAdvancesTheLogStartAndSurvivesRestart() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/t-0"
        var config = LogConfig()
        config.segmentBytes = makeBatch(count: 5).readableBytes
        do {
            let log = try PartitionLog(directory: path, config: config)
            for _ in 0..<4 { _ = try log.append(makeBatch(count: 5), now: 0) }
            #expect(try log.deleteRecords(before: 12) == 12)
            #expect(log.segmentBaseOffsets == [10, 15])
            #expect(throws: ReadError.offsetOutOfRange(logStartOffset: 12, logEndOffset: 20)) {
                _ = try log.read(from: 11, maxBytes: 100, minOneBatch: true)
            }
            #expect(throws: ReadError.self) { _ = try log.deleteRecords(before: 21) }
            log.close()
        }
        let log = try PartitionLog(directory: path, config: config)
        #expect(log.logStartOffset == 12)
    }
}
