import Foundation
import KafkaProtocol
import NIOCore
import XCTest
@testable import Broker

/// The connection rules of issue 3 over a real socket: the ApiVersions v0 fallback,
/// pipelined requests answered in the order sent, and a long-polling fetch woken by a produce.
final class RequestOrderingTests: XCTestCase {
    func testApiVersionsInAnUnsupportedVersionIsAnsweredInV0WithErrorAndRanges() async throws {
        let broker = try await WireTestBroker.start()
        let connection = try await WireConnection.connect(port: broker.port)

        // ApiVersions v99 as a newer client would send it: header v2 (client id, then
        // tagged fields), a flexible body (compact client software name and version).
        var request = ByteBuffer()
        request.writeInteger(Int32(0))  // size, set below
        request.writeInteger(Int16(18))  // ApiVersions
        request.writeInteger(Int16(99))
        request.writeInteger(Int32(4242))  // correlation id
        request.writeInteger(Int16(9))
        request.writeString("wire-test")
        request.writeInteger(UInt8(0))  // no header tagged fields
        request.writeInteger(UInt8(5))
        request.writeString("wire")
        request.writeInteger(UInt8(2))
        request.writeString("1")
        request.writeInteger(UInt8(0))  // no body tagged fields
        request.setInteger(Int32(request.readableBytes - 4), at: 0)
        try await connection.write(request)

        var frame = try await connection.nextFrame()
        let expected = SupportedAPIVersions.sorted.map { key, versions in
            ApiVersionsResponse.ApiVersion(apiKey: key.rawValue, minVersion: versions.lowerBound, maxVersion: versions.upperBound)
        }
        XCTAssertEqual(expected.count, 24)
        // Header v0 (correlation id only), then the v0 body: error code, the array of
        // (key, min, max) and nothing else — no throttle time, no tagged fields.
        XCTAssertEqual(frame.readableBytes, 4 + 2 + 4 + 6 * expected.count)
        XCTAssertEqual(frame.readInteger(as: Int32.self), 4242)
        XCTAssertEqual(frame.getInteger(at: frame.readerIndex, as: Int16.self), 35)  // UNSUPPORTED_VERSION
        XCTAssertEqual(frame.getInteger(at: frame.readerIndex + 2, as: Int32.self), Int32(expected.count))
        let body = try ApiVersionsResponse(decoding: frame, version: 0)
        XCTAssertEqual(body.errorCode, KafkaErrorCode.unsupportedVersion.rawValue)
        XCTAssertEqual(body.apiKeys, expected)
        XCTAssertEqual(body.apiKeys.first { $0.apiKey == APIKey.fetch.rawValue }.map { [$0.minVersion, $0.maxVersion] }, [4, 12])
        XCTAssertEqual(body.apiKeys.first { $0.apiKey == APIKey.produce.rawValue }.map { [$0.minVersion, $0.maxVersion] }, [3, 9])

        // The connection stays open: the client retries in a version the broker listed.
        let retried = try await connection.send(ApiVersionsRequest(clientSoftwareName: "wire", clientSoftwareVersion: "1"), version: 3)
        XCTAssertEqual(retried.errorCode, 0)
        XCTAssertEqual(retried.apiKeys, expected)

        await connection.close()
        try await broker.stop()
    }

    func testFiftyPipelinedRequestsInOneWriteAreAnsweredInTheOrderSent() async throws {
        let broker = try await WireTestBroker.start()
        let connection = try await WireConnection.connect(port: broker.port)
        try await connection.createTopic("pipelined")

        // Kinds cycle ApiVersions, Metadata, Fetch (a 200 ms long poll on the empty
        // partition), ListOffsets: every slow Fetch is followed by fast requests that
        // finish first and must still wait their turn. Correlation ids are a
        // permutation, so order by id and order sent differ.
        let count = 50
        let ids = (0..<count).map { Int32(100 + ($0 * 37) % count) }
        XCTAssertEqual(Set(ids).count, count)
        var batch = ByteBuffer()
        for index in 0..<count {
            let id = ids[index]
            let frame: ByteBuffer = switch index % 4 {
            case 0: try connection.encode(ApiVersionsRequest(clientSoftwareName: "wire", clientSoftwareVersion: "1"), version: 3, correlationID: id)
            case 1: try connection.encode(Wire.metadata("pipelined"), version: 12, correlationID: id)
            case 2: try connection.encode(Wire.fetch("pipelined", offset: 0, maxWaitMs: 200), version: 12, correlationID: id)
            default: try connection.encode(Wire.listLatestOffset("pipelined"), version: 7, correlationID: id)
            }
            batch.writeImmutableBuffer(frame)
        }
        try await connection.write(batch)  // one socket write

        var received: [Int32] = []
        var kinds = [0, 0, 0, 0]
        for index in 0..<count {
            var frame = try await connection.nextFrame()
            guard let id = frame.getInteger(at: frame.readerIndex, as: Int32.self) else { return XCTFail("empty frame \(index)") }
            received.append(id)
            guard id == ids[index] else { continue }
            switch index % 4 {
            case 0:
                let response = try WireConnection.decode(ApiVersionsResponse.self, from: &frame, version: 3, correlationID: id)
                XCTAssertEqual(response.errorCode, 0)
            case 1:
                let response = try WireConnection.decode(MetadataResponse.self, from: &frame, version: 12, correlationID: id)
                XCTAssertEqual(response.topics.map(\.name), ["pipelined"])
                XCTAssertEqual(response.topics.first?.partitions.count, 1)
            case 2:
                let response = try WireConnection.decode(FetchResponse.self, from: &frame, version: 12, correlationID: id)
                let partition = try XCTUnwrap(response.responses.first?.partitions.first)
                XCTAssertEqual(partition.errorCode, 0)
                XCTAssertEqual(partition.highWatermark, 0)
                XCTAssertEqual(partition.records?.readableBytes ?? 0, 0)
            default:
                let response = try WireConnection.decode(ListOffsetsResponse.self, from: &frame, version: 7, correlationID: id)
                XCTAssertEqual(response.topics.first?.partitions.first?.offset, 0)
            }
            kinds[index % 4] += 1
        }
        XCTAssertEqual(received, ids)
        XCTAssertEqual(kinds, [13, 13, 12, 12])

        await connection.close()
        try await broker.stop()
    }

    func testALongPollingFetchIsWokenByAProduceOnAnotherConnection() async throws {
        let broker = try await WireTestBroker.start()
        let consumer = try await WireConnection.connect(port: broker.port)
        let producer = try await WireConnection.connect(port: broker.port)
        try await producer.createTopic("wake")

        let fetchID = consumer.takeCorrelationID()
        let started = ContinuousClock.now
        try await consumer.write(try consumer.encode(Wire.fetch("wake", offset: 0, maxWaitMs: 20_000, minBytes: 1),
                                                     version: 12, correlationID: fetchID))
        try await Task.sleep(for: .milliseconds(300))
        let produced = try await producer.send(Wire.produce("wake", [(0, makeBatch(count: 1))]), version: 9)
        XCTAssertEqual(produced.responses.first?.partitionResponses.first?.baseOffset, 0)

        var frame = try await consumer.nextFrame(timeout: 30)
        let elapsed = ContinuousClock.now - started
        let response = try WireConnection.decode(FetchResponse.self, from: &frame, version: 12, correlationID: fetchID)
        let partition = try XCTUnwrap(response.responses.first?.partitions.first)
        XCTAssertEqual(partition.errorCode, 0)
        XCTAssertEqual(partition.highWatermark, 1)
        let records = try decodeRecords(partition.records)
        XCTAssertEqual(records.map(\.offset), [0])
        XCTAssertEqual(records.map { $0.value.map { String(buffer: $0) } }, ["v0"])
        // The one timing assertion the issue asks for: a fetch that merely expired would
        // answer after max_wait_ms (20 s), and with the record too, so only the time
        // tells being woken by the append from expiring. 10 s leaves a slow machine
        // plenty of room while staying far below 20 s.
        XCTAssertLessThan(elapsed, .seconds(10))

        await consumer.close()
        await producer.close()
        try await broker.stop()
    }
}
