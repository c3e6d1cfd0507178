import Foundation
import KafkaClient
import Market
import Synchronization
import XCTest
@testable import Swarm

/// The real `tickstream swarm` command, spawning two `swarm-worker` processes of the
/// built binary, against an in-process broker.
final class SwarmProcessTests: XCTestCase {
    /// Twenty clients in two worker processes; quotes are published once both workers
    /// say all their clients read from the log end, so the merged report's totals are
    /// exact: every watched quote once per watching client, no gap, no duplicate.
    func testSwarmCommandWithTwoWorkerProcessesMergesExactTotals() async throws {
        let binary = try tickstreamBinary()
        let broker = try await SwarmTestBroker.start()
        let admin = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: admin).createTopics([NewTopic(name: "prices", partitions: 4)])
        await admin.close()
        let universe = try SymbolCatalog.loadDefault().first(40)
        let report = NSTemporaryDirectory() + "/swarm-report-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: report) }

        let process = try ChildProcess(binary, ["swarm", "--bootstrap", broker.bootstrap, "--clients", "20", "--processes", "2", "--symbols", "40",
                             "--watchlist", "5", "--seed", "5", "--duration", "12s", "--report", report])

        let ready = await eventually(seconds: 60) {
            let text = process.stderr
            return (0..<2).allSatisfy { text.contains("worker \($0): 10 of 10 clients connected") }
        }
        let publisher = try QuotePublisher(bootstrap: broker.bootstrap, topic: "prices", symbols: universe)
        if ready {
            for _ in 0..<10 {
                try await publisher.publish(40)
                try await Task.sleep(for: .milliseconds(50))
            }
            await publisher.flush()
        }
        let exited = await eventually(seconds: 90) { !process.isRunning }
        if !exited { process.terminate() }
        await publisher.close()
        try await broker.stop()
        XCTAssertTrue(ready, "both workers connected their clients; log:\n\(process.stderr)")

        XCTAssertEqual(process.status, 0, process.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let summary = try XCTUnwrap(object)
        let watchlists = WatchlistGenerator(symbols: universe.map(\.ticker), size: 5, seed: 5)
        let expected = (0..<20).reduce(UInt64(0)) { $0 + publisher.expectedDeliveries(watchlist: watchlists.watchlist(forClient: $1)) }
        XCTAssertEqual(publisher.sent.values.reduce(0, +), 400)
        XCTAssertEqual(summary["clients"] as? Int, 20)
        XCTAssertEqual(summary["workers"] as? Int, 2)
        XCTAssertEqual(summary["workersLost"] as? Int, 0)
        XCTAssertEqual((summary["deliveries"] as? NSNumber)?.uint64Value, expected)
        XCTAssertEqual(summary["gaps"] as? Int, 0)
        XCTAssertEqual(summary["duplicates"] as? Int, 0)
        XCTAssertEqual(summary["reconnects"] as? Int, 0)
        let records = try XCTUnwrap((summary["records"] as? NSNumber)?.uint64Value)
        XCTAssertGreaterThanOrEqual(records, expected)
        XCTAssertEqual((summary["problems"] as? [Any])?.count, 0)
    }
}
