import KafkaClient
import Market
import NIOCore
import Synchronization
import XCTest
@testable import Swarm

/// The swarm over real Kafka consumers against an in-process broker.
final class KafkaSwarmTransportTests: XCTestCase {
    func testWatchedKeysMatchTickersByBytes() {
        let keys = WatchedKeys(["AAPL", "BRK.B", "A", "ABCDEFGHIJKLMNOP"])
        XCTAssertEqual(keys.count, 4)
        XCTAssertEqual(keys.symbol(forKey: ByteBuffer(string: "AAPL")), "AAPL")
        XCTAssertEqual(keys.symbol(forKey: ByteBuffer(string: "BRK.B")), "BRK.B")
        XCTAssertEqual(keys.symbol(forKey: ByteBuffer(string: "A")), "A")
        XCTAssertEqual(keys.symbol(forKey: ByteBuffer(string: "ABCDEFGHIJKLMNOP")), "ABCDEFGHIJKLMNOP")
        XCTAssertNil(keys.symbol(forKey: ByteBuffer(string: "AAP")))
        XCTAssertNil(keys.symbol(forKey: ByteBuffer(string: "AAPLX")))
        XCTAssertNil(keys.symbol(forKey: ByteBuffer(string: "ABCDEFGHIJKLMNOPQ")))
        XCTAssertNil(keys.symbol(forKey: ByteBuffer(string: "")))
        var slice = ByteBuffer(string: "xxMSFT")
        slice.moveReaderIndex(forwardBy: 2)
        XCTAssertNil(keys.symbol(forKey: slice))
        XCTAssertEqual(WatchedKeys(["MSFT"]).symbol(forKey: slice), "MSFT")
    }

    func testPassedOverRecordsAdvanceTheClientButAreNotDeliveries() {
        var client = MobileClient(id: 0, watchlist: ["AAPL"])
        XCTAssertFalse(client.passedOver(partition: 1, through: 9), "idle clients ignore records")
        client.connected(atNanos: 0)
        client.startedReading(partition: 1, at: 5)
        XCTAssertTrue(client.passedOver(partition: 1, through: 9))
        XCTAssertTrue(client.passedOver(partition: 1, through: 7), "an older offset does not move it back")
        XCTAssertEqual(client.resumeOffsets, [1: 10])
        XCTAssertEqual(client.deliveries, 0)
    }

    /// Fifty clients, each a consumer with its own connection, with churn (disconnect,
    /// reconnect resuming from the accounted offsets), backgrounding (pause, resume,
    /// catch up) and slow readers, while a producer publishes quotes keyed by ticker:
    /// every watched quote reaches every watching client exactly once.
    func testFiftyClientsWithChurnGetEveryWatchedQuoteExactlyOnce() async throws {
        let broker = try await SwarmTestBroker.start()
        let admin = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: admin).createTopics([NewTopic(name: "prices", partitions: 4)])
        await admin.close()

        let catalog = try SymbolCatalog.loadDefault()
        let universe = catalog.first(40)
        var settings = BehaviourSettings()
        settings.fleetClients = 50
        settings.churnPerMinute = 750
        settings.reconnectDelayMillis = 100...400
        settings.backgroundFraction = 0.2
        settings.backgroundEveryMillis = 1500
        settings.backgroundForMillis = 200...600
        settings.slowFraction = 0.1
        settings.slowBytesPerSecond = 256 * 1024
        settings.slowAddedLatencyMillis = 20
        var configuration = SwarmWorkerConfiguration(
            worker: 0, firstClient: 0, clientCount: 50, symbols: universe.map(\.ticker), watchlistSize: 5, seed: 11,
            durationMillis: 120_000, epochNanos: WallClock.nowNanos(), behaviour: settings)
        configuration.bootstrap = broker.bootstrap

        let transport = try await KafkaSwarmTransport.connect(bootstrap: broker.bootstrap,
                                                              configuration: KafkaSwarmTransport.Configuration(topic: "prices"))
        XCTAssertEqual(transport.partitionCount, 4)
        let setup = transport.setup
        XCTAssertEqual(setup.partition("AAPL"), Murmur2.partition(forKey: ByteBuffer(string: "AAPL"), partitionCount: 4))
        let worker = SwarmWorker(configuration: configuration, partition: setup.partition)
        let early = worker.scheduledActions.filter { $0.atMillis < 2000 }
        XCTAssertGreaterThan(early.filter { $0.action == .reconnect }.count, 0, "the seed plans reconnects while quotes flow")
        XCTAssertGreaterThan(early.filter { $0.action == .resume }.count, 0, "the seed plans background periods while quotes flow")

        let reports = Mutex<[WorkerReport]>([])
        let run = Task { await worker.run(transport: setup.transport) { report in reports.withLock { $0.append(report) } } }
        // Quotes flow once every client reads from the log end.
        let allReading = await eventually(seconds: 60) {
            (0..<50).allSatisfy { worker.accounting.client($0)?.lastOffsets.isEmpty == false }
        }
        XCTAssertTrue(allReading, "every client started reading")

        let publisher = try QuotePublisher(bootstrap: broker.bootstrap, topic: "prices", symbols: universe)
        for _ in 0..<40 {
            try await publisher.publish(30)
            try await Task.sleep(for: .milliseconds(50))
        }
        await publisher.flush()
        let watchlists = WatchlistGenerator(symbols: universe.map(\.ticker), size: 5, seed: 11)
        let expected = (0..<50).reduce(UInt64(0)) { $0 + publisher.expectedDeliveries(watchlist: watchlists.watchlist(forClient: $1)) }
        XCTAssertEqual(publisher.sent.values.reduce(0, +), 1200)

        let converged = await eventually(seconds: 60) { worker.accounting.stats.totals.deliveries >= expected }
        worker.stop()
        let stats = await run.value
        await publisher.close()

        XCTAssertTrue(converged, "delivered \(stats.totals.deliveries) of \(expected)")
        XCTAssertEqual(stats.totals.deliveries, expected)
        XCTAssertEqual(stats.totals.gaps, 0)
        XCTAssertEqual(stats.totals.missingQuotes, 0)
        XCTAssertEqual(stats.totals.duplicates, 0)
        XCTAssertGreaterThan(stats.totals.reconnects, 0)
        XCTAssertGreaterThan(stats.totals.pauses, 0)
        XCTAssertGreaterThanOrEqual(stats.totals.records, stats.totals.deliveries)
        XCTAssertEqual(stats.latency.count + stats.catchUpLatency.count, expected)
        for index in 0..<50 {
            let client = try XCTUnwrap(worker.accounting.client(index))
            for symbol in client.watchlist where publisher.sent[symbol, default: 0] > 0 {
                XCTAssertEqual(client.expectedSeq[symbol], publisher.sent[symbol]! + 1, "client \(index) saw all of \(symbol)")
            }
        }
        XCTAssertEqual(reports.withLock { $0.last?.kind }, .final)
        XCTAssertEqual(transport.openClients, 0)
        try await broker.stop()
    }
}
