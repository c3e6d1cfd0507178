import Foundation
import NIOCore
import Testing
@testable import KafkaProtocol

/// Reading a batch must not copy record payloads: a record's key and value are slices of
/// the buffer the batch was read from, at the exact address where their bytes sit.
@Suite struct RecordZeroCopyTests {
    /// The address of the first readable byte.
    static func address(of buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }

    /// Where `needle` first occurs in `haystack`.
    static func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }

    @Test func keysAndValuesPointIntoTheBatchBuffer() throws {
        let bytes = RecordBatchTests.sampleBatch()
        let batchBytes = Array(bytes.readableBytesView)
        let base = Self.address(of: bytes)
        let batch = try RecordBatch(validating: bytes)
        #expect(Self.address(of: batch.bytes) == base)
        let records = try batch.records()
        #expect(records.count == 3)
        for (index, record) in records.enumerated() {
            let key = try #require(record.key)
            let keyOffset = try #require(Self.offset(of: Array("key-\(index)".utf8), in: batchBytes))
            #expect(Self.address(of: key) == base + UInt(keyOffset), "record \(index) key")
            #expect(key.readableBytes == 5)
            if let value = record.value {
                let valueOffset = try #require(Self.offset(of: Array("value-\(index)".utf8), in: batchBytes))
                #expect(Self.address(of: value) == base + UInt(valueOffset), "record \(index) value")
                #expect(value.readableBytes == 7)
            } else {
                #expect(index == 1, "only record 1 has a null value")
            }
        }
        // A header value is a slice too.
        let headerValue = try #require(records[2].headers.first?.value)
        let headerOffset = try #require(Self.offset(of: [0x02, 0x68, 0x02, 0x76], in: batchBytes))  // key "h", value "v"
        #expect(Self.address(of: headerValue) == base + UInt(headerOffset + 3))
    }

    @Test func recordsOfAReceivedProduceFrameStayInTheFrameBuffer() throws {
        // The whole path a broker takes: frame bytes → request → records field → batch → record.
        let data = try Data(contentsOf: GoldenFrameTests.directory.appendingPathComponent("confluent-Produce-v9.bin"))
        let frameBytes = Array(data)
        var buffer = ByteBuffer(bytes: frameBytes)
        let base = Self.address(of: buffer)
        buffer.moveReaderIndex(forwardBy: 4)
        guard case .produce(let request) = try KafkaRequestFrame(parsing: buffer).decodeBody() else {
            Issue.record("not Produce"); return
        }
        let records = try #require(request.topicData.first?.partitionData.first?.records)
        let lowerBound = base
        let upperBound = base + UInt(frameBytes.count)
        #expect((lowerBound..<upperBound).contains(Self.address(of: records)))
        let decoded = try RecordBatch(validating: records).records()
        #expect(decoded.count == 3)
        for (index, record) in decoded.enumerated() {
            let key = try #require(record.key)
            let value = try #require(record.value)
            // "k0" + varint 4 + "v0": the key directly followed by the value's length and the value.
            let keyOffset = try #require(Self.offset(of: Array("k\(index)".utf8) + [0x04] + Array("v\(index)".utf8), in: frameBytes))
            #expect(Self.address(of: key) == base + UInt(keyOffset), "record \(index) key")
            #expect(Self.address(of: value) == base + UInt(keyOffset + 3), "record \(index) value")
            #expect(Self.address(of: value) + UInt(value.readableBytes) <= upperBound)
        }
    }
}
