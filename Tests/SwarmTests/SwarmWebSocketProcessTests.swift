import Foundation
import Gateway
import KafkaClient
import Logging
import Market
import XCTest
@testable import Swarm

/// The real `tickstream swarm --via ws` command: two `swarm-worker` processes whose
/// clients are WebSockets to an in-process gateway reading an in-process broker.
final class SwarmWebSocketProcessTests: XCTestCase {
    /// Twenty clients in two processes subscribe through the gateway (a snapshot of each
    /// watched symbol), then ten rounds of every symbol are published: the merged report
    /// says `ws` and counts exactly ten updates per watched symbol per client.
    func testSwarmCommandViaWebSocketCountsEveryUpdateOnce() async throws {
        let binary = try tickstreamBinary()
        let broker = try await SwarmTestBroker.start()
        let admin = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: admin).createTopics([NewTopic(name: "prices", partitions: 4)])
        await admin.close()
        var logger = Logger(label: "swarm-tests.gateway")
        logger.logLevel = .critical
        let gateway = try await GatewayRuntime.start(bootstrap: broker.bootstrap, httpPort: 0, historyPath: nil, logger: logger,
                                                     latestTopic: nil)
        let universe = try SymbolCatalog.loadDefault().first(40).map(\.ticker)
        let publisher = try WebSocketSwarmTransportTests.RoundRobinPublisher(bootstrap: broker.bootstrap, symbols: universe)
        let feeding = await eventually(seconds: 60) {
            try? await publisher.publish(universe[0])
            await publisher.producer.flush()
            return gateway.stats.snapshot.counters.quotesIn > 0
        }
        XCTAssertTrue(feeding, "the gateway's feed reads the topic")
        try await publisher.publishRound()
        await publisher.producer.flush()
        let everySymbolKnown = await eventually(seconds: 30) { gateway.stats.snapshot.counters.symbols == 40 }
        XCTAssertTrue(everySymbolKnown)

        let report = NSTemporaryDirectory() + "/swarm-ws-report-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: report) }
        let process = try ChildProcess(binary, ["swarm", "--via", "ws", "--gateway", "127.0.0.1:\(gateway.port)", "--clients", "20", "--processes", "2",
                             "--symbols", "40", "--watchlist", "5", "--seed", "5", "--duration", "12s", "--report", report])

        // Subscribed: each client has had its five snapshots.
        let ready = await eventually(seconds: 60) { gateway.stats.snapshot.counters.framesOut >= 100 }
        if ready {
            for _ in 0..<10 {
                try await publisher.publishRound()
                await publisher.producer.flush()
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let exited = await eventually(seconds: 90) { !process.isRunning }
        if !exited { process.terminate() }
        await publisher.close()
        await gateway.stop()
        try await broker.stop()
        XCTAssertTrue(ready, "every client subscribed; log:\n\(process.stderr)")

        XCTAssertEqual(process.status, 0, process.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let summary = try XCTUnwrap(object)
        XCTAssertEqual(summary["transport"] as? String, "ws")
        XCTAssertEqual(summary["clients"] as? Int, 20)
        XCTAssertEqual(summary["workers"] as? Int, 2)
        XCTAssertEqual(summary["workersLost"] as? Int, 0)
        XCTAssertEqual(summary["deliveries"] as? Int, 20 * 5 * 10)
        XCTAssertEqual(summary["snapshots"] as? Int, 20 * 5)
        XCTAssertEqual(summary["gaps"] as? Int, 0)
        XCTAssertEqual(summary["duplicates"] as? Int, 0)
        XCTAssertEqual(summary["gatewayGaps"] as? Int, 0)
        XCTAssertEqual(summary["conflated"] as? Int, 0)
        XCTAssertEqual(summary["records"] as? Int, 20 * 5 * 11, "updates and snapshots, nothing else")
        XCTAssertEqual((summary["problems"] as? [Any])?.count, 0)
    }
}
