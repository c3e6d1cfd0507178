import Foundation
import KafkaProtocol
import NIOCore
import XCTest
@testable import Broker

/// Per-partition error codes and offsets as the Produce and Fetch handlers put them on the wire.
final class HandlerErrorCodeTests: XCTestCase {
    private var broker: WireTestBroker!
    private var connection: WireConnection!

    override func setUp() async throws {
        broker = try await WireTestBroker.start()
        connection = try await WireConnection.connect(port: broker.port)
    }

    override func tearDown() async throws {
        await connection?.close()
        try await broker?.stop()
    }

    private func fetchPartition(_ topic: String, partition: Int32 = 0, offset: Int64) async throws -> FetchResponse.PartitionData {
        let response = try await connection.send(Wire.fetch(topic, partition: partition, offset: offset), version: 12)
        return try XCTUnwrap(response.responses.first?.partitions.first)
    }

    private func produce(_ topic: String, _ partitions: [(Int32, ByteBuffer)]) async throws -> [ProduceResponse.PartitionProduceResponse] {
        let response = try await connection.send(Wire.produce(topic, partitions), version: 9)
        return try XCTUnwrap(response.responses.first).partitionResponses
    }

    func testACorruptBatchFailsItsPartitionWhileAnotherPartitionOfTheRequestIsStored() async throws {
        try await connection.createTopic("crc", partitions: 2)
        var corrupt = makeBatch(count: 3)
        let last = corrupt.writerIndex - 1
        corrupt.setInteger(corrupt.getInteger(at: last, as: UInt8.self)! ^ 0xFF, at: last)  // a value byte, under the CRC

        let results = try await produce("crc", [(0, corrupt), (1, makeBatch(count: 3))])
        XCTAssertEqual(results.map(\.index), [0, 1])
        XCTAssertEqual(results.map(\.errorCode), [KafkaErrorCode.corruptMessage.rawValue, 0])
        XCTAssertEqual(results.map(\.baseOffset), [-1, 0])

        let failed = try await fetchPartition("crc", partition: 0, offset: 0)
        XCTAssertEqual(failed.highWatermark, 0)
        XCTAssertEqual(failed.records?.readableBytes ?? 0, 0)
        let stored = try await fetchPartition("crc", partition: 1, offset: 0)
        XCTAssertEqual(stored.highWatermark, 3)
        XCTAssertEqual(try decodeRecords(stored.records).map(\.offset), [0, 1, 2])
    }

    func testABatchOverMaxMessageBytesIsMessageTooLargeAndOneExactlyAtTheLimitIsStored() async throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 1_700_000_000_000, key: Array("key".utf8), value: Array(repeating: UInt8(ascii: "x"), count: 600))
        let batch = builder.finish()
        let size = batch.readableBytes
        try await connection.createTopic("at-limit", configs: ["max.message.bytes": String(size)])
        try await connection.createTopic("under-limit", configs: ["max.message.bytes": String(size - 1)])

        let accepted = try await produce("at-limit", [(0, batch)])
        XCTAssertEqual(accepted.map(\.errorCode), [0])
        XCTAssertEqual(accepted.map(\.baseOffset), [0])
        let rejected = try await produce("under-limit", [(0, batch)])
        XCTAssertEqual(rejected.map(\.errorCode), [KafkaErrorCode.messageTooLarge.rawValue])
        XCTAssertEqual(rejected.map(\.baseOffset), [-1])
        let fetched = try await fetchPartition("under-limit", offset: 0)
        XCTAssertEqual(fetched.highWatermark, 0)
    }

    func testAFetchPastTheLogEndIsOffsetOutOfRangeAndOneAtTheEndIsEmpty() async throws {
        try await connection.createTopic("ends")
        _ = try await produce("ends", [(0, makeBatch(count: 3))])

        let past = try await fetchPartition("ends", offset: 4)
        XCTAssertEqual(past.errorCode, KafkaErrorCode.offsetOutOfRange.rawValue)
        XCTAssertEqual(past.highWatermark, 3)
        XCTAssertEqual(past.lastStableOffset, 3)
        XCTAssertEqual(past.logStartOffset, 0)
        XCTAssertEqual(past.records?.readableBytes ?? 0, 0)

        let atEnd = try await fetchPartition("ends", offset: 3)
        XCTAssertEqual(atEnd.errorCode, 0)
        XCTAssertEqual(atEnd.highWatermark, 3)
        XCTAssertEqual(atEnd.records?.readableBytes ?? 0, 0)
    }

    func testFetchOffsetsAreExactAfterDeleteRecords() async throws {
        try await connection.createTopic("trimmed")
        _ = try await produce("trimmed", [(0, makeBatch(count: 5))])
        _ = try await produce("trimmed", [(0, makeBatch(count: 5, valuePrefix: "w"))])

        let deleted = try await connection.send(DeleteRecordsRequest(topics: [.init(name: "trimmed", partitions: [
            .init(partitionIndex: 0, offset: 7),
        ])], timeoutMs: 30_000), version: 2)
        let result = try XCTUnwrap(deleted.topics.first?.partitions.first)
        XCTAssertEqual(result.errorCode, 0)
        XCTAssertEqual(result.lowWatermark, 7)

        // Offset 7 lies in the second batch (5...9), which comes back whole.
        let fetched = try await fetchPartition("trimmed", offset: 7)
        XCTAssertEqual(fetched.errorCode, 0)
        XCTAssertEqual(fetched.highWatermark, 10)
        XCTAssertEqual(fetched.lastStableOffset, 10)
        XCTAssertEqual(fetched.logStartOffset, 7)
        XCTAssertEqual(try decodeRecords(fetched.records).map(\.offset), [5, 6, 7, 8, 9])

        let below = try await fetchPartition("trimmed", offset: 6)
        XCTAssertEqual(below.errorCode, KafkaErrorCode.offsetOutOfRange.rawValue)
        XCTAssertEqual(below.highWatermark, 10)
        XCTAssertEqual(below.lastStableOffset, 10)
        XCTAssertEqual(below.logStartOffset, 7)
    }

    func testFetchOffsetsAreExactAfterRetentionDeletesSegments() async throws {
        // Each batch of 4 records is over 100 bytes, so every batch gets a segment of its
        // own; their timestamps (November 2023) are far older than retention.ms.
        try await connection.createTopic("aged", configs: ["segment.bytes": "100", "retention.ms": "60000"])
        for round in 0..<3 {
            let results = try await produce("aged", [(0, makeBatch(count: 4, valuePrefix: "r\(round)-"))])
            XCTAssertEqual(results.map(\.baseOffset), [Int64(round * 4)])
        }
        let partition = try broker.partition("aged", 0)
        XCTAssertEqual(partition.withLog { $0.segmentBaseOffsets }, [0, 4, 8])

        broker.cluster.runLogMaintenance()
        XCTAssertEqual(partition.withLog { $0.segmentBaseOffsets }, [8])

        let fetched = try await fetchPartition("aged", offset: 8)
        XCTAssertEqual(fetched.errorCode, 0)
        XCTAssertEqual(fetched.highWatermark, 12)
        XCTAssertEqual(fetched.lastStableOffset, 12)
        XCTAssertEqual(fetched.logStartOffset, 8)
        XCTAssertEqual(try decodeRecords(fetched.records).map(\.offset), [8, 9, 10, 11])

        let gone = try await fetchPartition("aged", offset: 0)
        XCTAssertEqual(gone.errorCode, KafkaErrorCode.offsetOutOfRange.rawValue)
        XCTAssertEqual(gone.highWatermark, 12)
        XCTAssertEqual(gone.lastStableOffset, 12)
        XCTAssertEqual(gone.logStartOffset, 8)
    }
}
