import NIOCore
import Testing
@testable import KafkaProtocol

@Suite struct RecordBatchTests {
    static func sampleBatch(records: Int = 3) -> ByteBuffer {
        var builder = RecordBatchBuilder(producerID: 42, producerEpoch: 1, baseSequence: 10)
        for index in 0..<records {
            builder.append(
                timestamp: 1_732_460_000_000 + Int64(index) * 5,
                key: Array("key-\(index)".utf8),
                value: index == 1 ? nil : Array("value-\(index)".utf8),
                headers: index == 2 ? [RecordHeader(key: "h", value: ByteBuffer(string: "v")), RecordHeader(key: "n", value: nil)] : []
            )
        }
        return builder.finish()
    }

    @Test func builtBatchValidatesAndReadsBack() throws {
        let bytes = Self.sampleBatch()
        let batch = try RecordBatch(validating: bytes)
        #expect(batch.header.magic == 2)
        #expect(batch.header.recordCount == 3)
        #expect(batch.header.lastOffsetDelta == 2)
        #expect(batch.header.baseTimestamp == 1_732_460_000_000)
        #expect(batch.header.maxTimestamp == 1_732_460_000_010)
        #expect(batch.header.producerID == 42)
        #expect(batch.header.baseSequence == 10)
        #expect(batch.header.lastSequence == 12)
        #expect(batch.header.totalSize == bytes.readableBytes)
        let records = try batch.records()
        #expect(records.map(\.offset) == [0, 1, 2])
        #expect(records.map(\.timestamp) == [1_732_460_000_000, 1_732_460_000_005, 1_732_460_000_010])
        #expect(records[0].key == ByteBuffer(string: "key-0"))
        #expect(records[0].value == ByteBuffer(string: "value-0"))
        #expect(records[1].value == nil)
        #expect(records[2].headers == [RecordHeader(key: "h", value: ByteBuffer(string: "v")), RecordHeader(key: "n", value: nil)])
    }

    @Test func everyFlippedByteInTheChecksummedSpanFailsTheCRC() throws {
        let bytes = Self.sampleBatch()
        for index in RecordBatchHeader.Offset.attributes..<bytes.readableBytes {
            var corrupt = bytes
            corrupt.setInteger(bytes.getInteger(at: index, as: UInt8.self)! ^ 0x40, at: index)
            #expect(throws: KafkaProtocolError.self, "byte \(index)") { _ = try RecordBatch(validating: corrupt) }
        }
    }

    @Test func baseOffsetAndLeaderEpochAreOutsideTheCRC() throws {
        var bytes = Self.sampleBatch()
        bytes.setInteger(Int64(1_000), at: 0)
        bytes.setInteger(Int32(7), at: RecordBatchHeader.Offset.partitionLeaderEpoch)
        let batch = try RecordBatch(validating: bytes)
        #expect(try batch.records().map(\.offset) == [1_000, 1_001, 1_002])
    }

    @Test func truncatedBatchesAreErrorsNotTraps() {
        let bytes = Self.sampleBatch()
        for length in 0..<bytes.readableBytes {
            let prefix = bytes.getSlice(at: 0, length: length)!
            #expect(throws: KafkaProtocolError.self) { _ = try RecordBatch(validating: prefix) }
        }
    }

    @Test func wrongMagicIsRejected() {
        var bytes = Self.sampleBatch()
        bytes.setInteger(Int8(1), at: RecordBatchHeader.Offset.magic)
        #expect(throws: KafkaProtocolError.invalidRecordBatch(reason: "magic 1 (only record batch v2 is supported)")) {
            _ = try RecordBatch(validating: bytes)
        }
    }

    @Test func compressedBatchIsRejectedByTheReaderWithAClearError() throws {
        var bytes = Self.sampleBatch()
        bytes.setInteger(Int16(CompressionCodec.zstd.rawValue), at: RecordBatchHeader.Offset.attributes)
        RecordBatchHeader.rewriteCRC(in: &bytes, at: 0)
        let batch = try RecordBatch(validating: bytes)  // storing it is fine
        #expect(batch.header.attributes.compression == .zstd)
        #expect(throws: KafkaProtocolError.unsupportedCompression(codec: 4)) { _ = try batch.records() }
    }

    @Test func logAppendTimeRewriteKeepsTheBatchValid() throws {
        var bytes = Self.sampleBatch()
        var attributes = RecordBatchAttributes(rawValue: bytes.getInteger(at: RecordBatchHeader.Offset.attributes)!)
        attributes.isLogAppendTime = true
        bytes.setInteger(attributes.rawValue, at: RecordBatchHeader.Offset.attributes)
        bytes.setInteger(Int64(99), at: RecordBatchHeader.Offset.maxTimestamp)
        RecordBatchHeader.rewriteCRC(in: &bytes, at: 0)
        let batch = try RecordBatch(validating: bytes)
        #expect(try batch.records().map(\.timestamp) == [99, 99, 99])
    }

    @Test func sequenceOfBatchesStopsAtAPartialTail() throws {
        var joined = Self.sampleBatch(records: 2)
        var second = Self.sampleBatch(records: 5)
        joined.writeBuffer(&second)
        var third = Self.sampleBatch(records: 1)
        joined.writeImmutableBuffer(third.readSlice(length: 30)!)
        var iterator = RecordBatchSequence(joined).makeIterator()
        #expect(iterator.next()?.header.recordCount == 2)
        #expect(iterator.next()?.header.recordCount == 5)
        #expect(iterator.next() == nil)
        #expect(iterator.error == nil)
    }

    @Test func sequenceReportsACorruptBatch() throws {
        var joined = Self.sampleBatch(records: 2)
        let corruptAt = joined.writerIndex + 70
        joined.writeImmutableBuffer(Self.sampleBatch(records: 3))
        joined.setInteger(UInt8(0xee), at: corruptAt)
        var iterator = RecordBatchSequence(joined).makeIterator()
        #expect(iterator.next() != nil)
        #expect(iterator.next() == nil)
        if case .crcMismatch = iterator.error {} else { Issue.record("expected a CRC mismatch, got \(String(describing: iterator.error))") }
    }
}

extension RecordBatch: Equatable {
    public static func == (lhs: RecordBatch, rhs: RecordBatch) -> Bool { lhs.bytes == rhs.bytes }
}
