@testable import KafkaClient
import KafkaProtocol
import NIOCore
import XCTest

final class FetchedRecordsTests: XCTestCase {
    func batch(baseOffset: Int64, count: Int, compression: CompressionCodec = .none) -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for index in 0..<count {
            builder.append(timestamp: 1000 + Int64(index), key: ByteBuffer(string: "k\(index)"), value: ByteBuffer(string: "v\(index)"))
        }
        var bytes = builder.finish()
        bytes.setInteger(baseOffset, at: RecordBatchHeader.Offset.baseOffset)
        if compression != .none {
            var attributes = RecordBatchAttributes(rawValue: 0)
            attributes.compression = compression
            bytes.setInteger(attributes.rawValue, at: RecordBatchHeader.Offset.attributes)
            RecordBatchHeader.rewriteCRC(in: &bytes, at: 0)
        }
        return bytes
    }

    func testRecordsBeforeThePositionInsideABatchAreSkipped() throws {
        var records = batch(baseOffset: 10, count: 5)
        var second = batch(baseOffset: 15, count: 2)
        records.writeBuffer(&second)
        // A partial third batch, as a fetch cut by max bytes ends.
        let third = batch(baseOffset: 17, count: 3)
        records.writeBytes(third.readableBytesView.prefix(30))
        let parsed = try FetchedRecords.parse(records, topic: "t", partition: 0, position: 12)
        XCTAssertEqual(parsed.records.map(\.offset), [12, 13, 14, 15, 16])
        XCTAssertEqual(parsed.records.first?.key?.text, "k2")
        XCTAssertEqual(parsed.records.first?.timestamp, 1002)
        XCTAssertEqual(parsed.nextFetchOffset, 17)
    }

    func testCompressedBatchFailsWithClearError() {
        XCTAssertThrowsError(try FetchedRecords.parse(batch(baseOffset: 0, count: 2, compression: .gzip), topic: "t", partition: 3, position: 0)) { error in
            XCTAssertEqual(error as? KafkaClientError, .compressedBatch(topic: "t", partition: 3, codec: 1))
        }
    }

    func testCRCIsCheckedUnlessTurnedOff() throws {
        var records = batch(baseOffset: 0, count: 3)
        let crcAt = RecordBatchHeader.Offset.crc
        records.setInteger(records.getInteger(at: crcAt, as: UInt32.self)! ^ 1, at: crcAt)
        XCTAssertThrowsError(try FetchedRecords.parse(records, topic: "t", partition: 0, position: 0)) { error in
            guard case .codec(.crcMismatch) = error as? KafkaClientError else { return XCTFail("\(error)") }
        }
        let unchecked = try FetchedRecords.parse(records, topic: "t", partition: 0, position: 0, verifyCRC: false)
        XCTAssertEqual(unchecked.records.map(\.offset), [0, 1, 2])
        XCTAssertEqual(unchecked.nextFetchOffset, 3)
    }
}
