import Broker
import Foundation
import KafkaClient
import NIOCore
import XCTest

/// Stopping a producer whose broker is gone: `close(timeout:)` returns and says what was lost.
final class ProducerCloseTests: XCTestCase {
    func testBoundedCloseFailsWhatTheDeadBrokerNeverAcknowledged() async throws {
        let broker = try await TestBroker.start()
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "t", partitions: 2)])
        var configuration = ProducerConfiguration()
        configuration.linger = .milliseconds(1)
        let producer = KafkaProducer(client: client, configuration: configuration)
        let results = ResultCollector()
        for index in 0..<100 {
            try await producer.send(topic: "t", key: bytes("k\(index % 7)"), value: bytes("\(index)")) { results.add(index, $0) }
        }
        await producer.flush()
        XCTAssertEqual(results.all.filter { (try? $0.1.get()) != nil }.count, 100)

        try await broker.stop()
        // A linger long enough that these are still queued when close starts.
        for index in 100..<150 {
            try await producer.send(topic: "t", key: bytes("k\(index % 7)"), value: bytes("\(index)")) { results.add(index, $0) }
        }
        await producer.close(timeout: .milliseconds(500))
        await client.close()

        let all = results.all
        XCTAssertEqual(all.count, 150, "every record's completion ran")
        let failed = all.filter { if case .failure = $0.1 { return true } else { return false } }.map(\.0).sorted()
        XCTAssertEqual(failed, Array(100..<150))
        do {
            try await producer.send(topic: "t", key: nil, value: bytes("late")) { _ in }
            XCTFail("a closed producer refuses sends")
        } catch {
            XCTAssertEqual(error as? KafkaClientError, .closed)
        }
    }
}
