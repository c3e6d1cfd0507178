import Gateway
import KafkaClient
import Logging
import Market
import NIOCore
import Synchronization
import XCTest
@testable import Swarm

/// The swarm over the gateway's WebSocket: an in-process broker, a gateway reading it
/// (resuming from the Kafka log), a producer publishing gap-free quotes per symbol.
final class WebSocketSwarmTransportTests: XCTestCase {
    /// Publishes quotes of every symbol in turn (round-robin), keyed by ticker, with
    /// per-symbol `seq` from 1 and `ts` the wall clock now.
    final class RoundRobinPublisher {
        let client: KafkaClusterClient
        let producer: KafkaProducer
        let symbols: [String]
        private(set) var sent: [String: UInt64] = [:]

        init(bootstrap: String, symbols: [String]) throws {
            client = try KafkaClusterClient(bootstrap: bootstrap)
            producer = KafkaProducer(client: client)
            self.symbols = symbols
        }

        func publish(_ symbol: String) async throws {
            let seq = sent[symbol, default: 0] + 1
            sent[symbol] = seq
            let now = WallClock.nowNanos()
            let quote = Quote(symbol: symbol, seq: seq, bid: 99.99, ask: 100.01, last: 100, volume: 100, timestamp: now)
            try await producer.send(topic: "prices", key: ByteBuffer(string: symbol), value: ByteBuffer(bytes: try quote.jsonBytes()),
                                    timestamp: now / 1_000_000) { _ in }
        }

        func publishRound() async throws {
            for symbol in symbols { try await publish(symbol) }
        }

        func close() async {
            await producer.flush()
            await producer.close()
            await client.close()
        }
    }

    /// Twenty WebSocket clients with churn (each reconnect resumes with the token of
    /// the highest offsets it saw, served from the Kafka log), backgrounding and slow
    /// links: every quote of their watchlists published after they subscribed arrives
    /// exactly once, with no gap frame and nothing conflated.
    func testTwentyClientsWithChurnOverTheGatewayGetEveryWatchedQuoteExactlyOnce() async throws {
        let broker = try await SwarmTestBroker.start()
        let admin = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: admin).createTopics([NewTopic(name: "prices", partitions: 4)])
        await admin.close()
        var logger = Logger(label: "swarm-tests.gateway")
        logger.logLevel = .warning
        let gateway = try await GatewayRuntime.start(bootstrap: broker.bootstrap, httpPort: 0, historyPath: nil, logger: logger,
                                                     latestTopic: nil)

        let universe = try SymbolCatalog.loadDefault().first(40).map(\.ticker)
        let publisher = try RoundRobinPublisher(bootstrap: broker.bootstrap, symbols: universe)
        // The gateway's feed starts at the log end: wait until it reads, then give every
        // symbol a latest quote so subscriptions start with snapshots.
        let feeding = await eventually(seconds: 60) {
            try? await publisher.publish(universe[0])
            await publisher.producer.flush()
            return gateway.stats.snapshot.counters.quotesIn > 0
        }
        XCTAssertTrue(feeding, "the gateway's feed reads the topic")
        try await publisher.publishRound()
        await publisher.producer.flush()

        var settings = BehaviourSettings()
        settings.fleetClients = 20
        settings.churnPerMinute = 600
        settings.reconnectDelayMillis = 100...400
        settings.backgroundFraction = 0.2
        settings.backgroundEveryMillis = 1500
        settings.backgroundForMillis = 200...600
        settings.slowFraction = 0.1
        settings.slowBytesPerSecond = 256 * 1024
        settings.slowAddedLatencyMillis = 20
        var configuration = SwarmWorkerConfiguration(
            worker: 0, firstClient: 0, clientCount: 20, symbols: universe, watchlistSize: 5, seed: 11,
            durationMillis: 120_000, epochNanos: WallClock.nowNanos(), behaviour: settings)
        configuration.via = "ws"
        configuration.gateway = "127.0.0.1:\(gateway.port)"
        let transport = WebSocketSwarmTransport(configuration: try .init(gateway: configuration.gateway))
        let setup = transport.setup
        let worker = SwarmWorker(configuration: configuration, partition: setup.partition)
        let reports = Mutex<[WorkerReport]>([])
        let run = Task { await worker.run(transport: setup.transport) { report in reports.withLock { $0.append(report) } } }

        // Every client is level with everything published so far (by snapshot or update).
        let warmedUp = await eventually(seconds: 60) {
            (0..<20).allSatisfy { index in
                guard let client = worker.accounting.client(index) else { return false }
                return client.watchlist.allSatisfy { client.expectedSeq[$0] == publisher.sent[$0, default: 0] + 1 }
            }
        }
        XCTAssertTrue(warmedUp, "every client has a baseline for each watched symbol")
        let baseline = publisher.sent
        let deliveriesBefore = worker.accounting.stats.totals.deliveries

        for _ in 0..<60 {
            try await publisher.publishRound()
            await publisher.producer.flush()
            try await Task.sleep(for: .milliseconds(50))
        }
        let watchlists = WatchlistGenerator(symbols: universe, size: 5, seed: 11)
        let expected = (0..<20).reduce(UInt64(0)) { total, index in
            total + watchlists.watchlist(forClient: index).reduce(UInt64(0)) { $0 + publisher.sent[$1]! - baseline[$1]! }
        }
        XCTAssertEqual(expected, 20 * 5 * 60)
        let converged = await eventually(seconds: 60) {
            worker.accounting.stats.totals.deliveries - deliveriesBefore >= expected
        }
        worker.stop()
        let stats = await run.value
        await publisher.close()
        await gateway.stop()

        XCTAssertTrue(converged, "delivered \(stats.totals.deliveries - deliveriesBefore) of \(expected)")
        XCTAssertEqual(stats.totals.deliveries - deliveriesBefore, expected)
        XCTAssertEqual(stats.totals.gaps, 0)
        XCTAssertEqual(stats.totals.missingQuotes, 0)
        XCTAssertEqual(stats.totals.duplicates, 0)
        XCTAssertEqual(stats.totals.gatewayGaps, 0)
        XCTAssertEqual(stats.totals.conflated, 0)
        XCTAssertEqual(stats.totals.conflatedSkips, 0)
        XCTAssertGreaterThan(stats.totals.reconnects, 0)
        XCTAssertGreaterThan(stats.totals.pauses, 0)
        XCTAssertGreaterThanOrEqual(stats.totals.snapshots, 20 * 5, "each client starts from a snapshot of each symbol")
        for index in 0..<20 {
            let client = try XCTUnwrap(worker.accounting.client(index))
            for symbol in client.watchlist {
                XCTAssertEqual(client.expectedSeq[symbol], publisher.sent[symbol]! + 1, "client \(index) saw all of \(symbol)")
            }
        }
        XCTAssertEqual(reports.withLock { $0.last?.kind }, .final)
        XCTAssertEqual(transport.openClients, 0)
        try await broker.stop()
    }
}
