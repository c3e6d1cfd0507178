import Foundation
import KafkaProtocol
import NIOCore
import XCTest
@testable import Broker

/// `tickstream broker` as a process: graceful shutdown on SIGTERM, a restart on the same
/// data directory, and the Prometheus endpoint of `--metrics-port`.
final class BrokerProcessTests: XCTestCase {
    func testSigtermExitsCleanlyAndARestartOnTheSameDataDirectoryServesEveryRecord() async throws {
        let executable = try tickstreamExecutable()
        let directory = TemporaryDirectory("tickstream-broker-process")
        defer { directory.cleanUp() }

        let first = try BrokerChildProcess(executable: executable, dataDirectory: directory.path)
        defer { first.kill() }
        let connection = try await WireConnection.connect(port: try await first.port(after: "address=127.0.0.1:"))
        try await connection.createTopic("kept", partitions: 2)
        // 1,000 records: ten batches of 100, alternating between the two partitions.
        var expected: [Int32: [String]] = [0: [], 1: []]
        for batch in 0..<10 {
            let partition = Int32(batch % 2)
            let response = try await connection.send(Wire.produce("kept", [(partition, makeBatch(count: 100, valuePrefix: "b\(batch)-"))]),
                                                     version: 9)
            XCTAssertEqual(response.responses.first?.partitionResponses.first?.errorCode, 0)
            XCTAssertEqual(response.responses.first?.partitionResponses.first?.baseOffset, Int64(expected[partition]!.count))
            expected[partition]! += (0..<100).map { "b\(batch)-\($0)" }
        }
        await connection.close()

        let exit = try await first.terminate(within: 20)
        XCTAssertEqual(exit?.reason, .exit, "still running 20 s after SIGTERM, or killed by a signal: \(first.output.suffix(2000))")
        XCTAssertEqual(exit?.status, 0, first.output.suffix(2000).description)

        let second = try BrokerChildProcess(executable: executable, dataDirectory: directory.path)
        defer { second.kill() }
        let reader = try await WireConnection.connect(port: try await second.port(after: "address=127.0.0.1:"))
        for partition: Int32 in [0, 1] {
            var offset: Int64 = 0
            var values: [String] = []
            var offsets: [Int64] = []
            var highWatermark: Int64 = -1
            while highWatermark < 0 || offset < highWatermark {
                let response = try await reader.send(Wire.fetch("kept", partition: partition, offset: offset), version: 12)
                let data = try XCTUnwrap(response.responses.first?.partitions.first)
                XCTAssertEqual(data.errorCode, 0)
                highWatermark = data.highWatermark
                let records = try decodeRecords(data.records).filter { $0.offset >= offset }
                guard let last = records.last else { break }
                offsets += records.map(\.offset)
                values += records.map { $0.value.map { String(buffer: $0) } ?? "" }
                offset = last.offset + 1
            }
            XCTAssertEqual(highWatermark, 500, "partition \(partition)")
            XCTAssertEqual(offsets, Array(0..<500), "partition \(partition)")
            XCTAssertEqual(values, expected[partition], "partition \(partition)")
        }
        await reader.close()
        let secondExit = try await second.terminate(within: 20)
        XCTAssertEqual(secondExit?.status, 0)
    }

    func testMetricsPortServesRequestCountsAndBytesInPrometheusText() async throws {
        let executable = try tickstreamExecutable()
        let directory = TemporaryDirectory("tickstream-broker-metrics")
        defer { directory.cleanUp() }
        let broker = try BrokerChildProcess(executable: executable, dataDirectory: directory.path, extraArguments: ["--metrics-port", "0"])
        defer { broker.kill() }
        let connection = try await WireConnection.connect(port: try await broker.port(after: "address=127.0.0.1:"))
        let metricsPort = try await broker.port(after: "metrics at http://127.0.0.1:")

        _ = try await connection.send(ApiVersionsRequest(clientSoftwareName: "wire", clientSoftwareVersion: "1"), version: 3)
        try await connection.createTopic("counted")
        for _ in 0..<2 { _ = try await connection.send(Wire.metadata("counted"), version: 12) }
        for round in 0..<3 {
            _ = try await connection.send(Wire.produce("counted", [(0, makeBatch(count: 10, valuePrefix: "r\(round)-"))]), version: 9)
        }
        _ = try await connection.send(Wire.fetch("counted", offset: 0), version: 12)
        _ = try await connection.send(Wire.listLatestOffset("counted"), version: 7)

        let (status, body) = try await httpGet(port: metricsPort, path: "/metrics")
        XCTAssertEqual(status, "HTTP/1.1 200 OK")
        XCTAssertTrue(body.contains("# TYPE tickstream_broker_requests_total counter"), body)
        let requests = { (api: String) in prometheusSample(body, "tickstream_broker_requests_total{api=\"\(api)\"}") }
        XCTAssertEqual(requests("ApiVersions"), 1)
        XCTAssertEqual(requests("CreateTopics"), 1)
        XCTAssertEqual(requests("Metadata"), 2)
        XCTAssertEqual(requests("Produce"), 3)
        XCTAssertEqual(requests("Fetch"), 1)
        XCTAssertEqual(requests("ListOffsets"), 1)
        XCTAssertEqual(requests("DeleteTopics"), 0)
        XCTAssertEqual(prometheusSample(body, "tickstream_broker_records_in_total"), 30)
        // This connection is the broker's only client: its bytes are all the broker's bytes.
        XCTAssertEqual(prometheusSample(body, "tickstream_broker_bytes_in_total"), Double(connection.bytesSent))
        XCTAssertEqual(prometheusSample(body, "tickstream_broker_bytes_out_total"), Double(connection.bytesReceived))
        XCTAssertGreaterThan(connection.bytesSent, 3 * 10 * 8)

        await connection.close()
        let exit = try await broker.terminate(within: 20)
        XCTAssertEqual(exit?.status, 0)
    }
}
