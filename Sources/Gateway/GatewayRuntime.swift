import Foundation
import Hummingbird
import KafkaClient
import Logging
import Synchronization

/// A running gateway wired to Kafka and SQLite: the HTTP/WebSocket/SSE server, the one
/// Kafka consumer feeding its hub, resume from the log, snapshots from
/// `prices.latest`, `/api/history` from the sink's database. `tickstream gateway` and
/// `tickstream demo` both run it.
public final class GatewayRuntime: Sendable {
    public let stats: GatewayStats
    /// The bound HTTP port (an ephemeral one when asked for port 0).
    public let port: Int
    private let client: KafkaClusterClient
    /// The log reader's own connection (see `KafkaLogReader`).
    private let logClient: KafkaClusterClient
    private let tasks: Mutex<[Task<Void, Never>]>
    private let hub: QuoteHub
    private let logger: Logger

    private init(stats: GatewayStats, port: Int, client: KafkaClusterClient, logClient: KafkaClusterClient,
                 tasks: [Task<Void, Never>], hub: QuoteHub, logger: Logger) {
        self.logger = logger
        self.logClient = logClient
        self.stats = stats
        self.port = port
        self.client = client
        self.tasks = Mutex(tasks)
        self.hub = hub
    }

    /// Starts the server and the feed; returns once the server listens.
    public static func start(
        bootstrap: String, httpPort: Int, historyPath: String?, logger: Logger,
        topic: String = "prices", latestTopic: String? = "prices.latest",
        configuration: GatewayConfiguration = GatewayConfiguration()
    ) async throws -> GatewayRuntime {
        var clientConfiguration = ClientConfiguration()
        clientConfiguration.allowAutoTopicCreation = false
        let client = try KafkaClusterClient(bootstrap: bootstrap, configuration: clientConfiguration, logger: logger)
        let logClient = try KafkaClusterClient(bootstrap: bootstrap, configuration: clientConfiguration, logger: logger)
        var configuration = configuration
        configuration.port = httpPort
        let stats = GatewayStats()
        let server = GatewayServer(
            configuration: configuration,
            logReader: KafkaLogReader(client: logClient, topic: topic),
            latestSource: latestTopic.map { KafkaLatestQuotes(client: client, topic: $0) },
            history: historyPath.map { SQLiteHistory(path: $0) },
            stats: stats, logger: logger)
        if let latest = server.latestSource {
            if let count = try? await server.hub.loadLatest(from: latest), count > 0 {
                logger.info("gateway loaded latest quotes", metadata: ["count": "\(count)"])
            }
        }
        let (bound, boundContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = try await server.makeApplication { port in boundContinuation.yield(port) }
        let serverTask = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await application.run() }
                    group.addTask { await server.runTimers() }
                    try await group.next()
                    group.cancelAll()
                }
            } catch {
                logger.error("gateway server stopped", metadata: ["error": "\(error)"])
            }
            boundContinuation.finish()
        }
        var iterator = bound.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw GatewayRuntimeError.serverDidNotStart
        }
        let feed = KafkaQuoteFeed(client: client, topic: topic, hub: server.hub, logger: logger)
        let feedTask = Task { await feed.run() }
        logger.info("gateway listening", metadata: ["address": "http://\(configuration.host):\(port)/"])
        return GatewayRuntime(stats: stats, port: port, client: client, logClient: logClient, tasks: [feedTask, serverTask],
                              hub: server.hub, logger: logger)
    }

    /// Stops the feed and the server, closing every client stream. Idempotent.
    public func stop() async {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        guard !running.isEmpty else { return }
        await hub.shutdown()
        for task in running { task.cancel() }
        // A fetch or a connection being torn down must not hold the process hostage.
        if !(await Self.waitForAll(running, timeout: .seconds(5))) {
            logger.warning("the gateway did not stop within 5 s; leaving its tasks behind")
        }
        await client.close()
        await logClient.close()
    }

    /// True when every task finished within `timeout`.
    private static func waitForAll(_ tasks: [Task<Void, Never>], timeout: Duration) async -> Bool {
        let first = FirstOutcome()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            first.set(continuation)
            Task { for task in tasks { await task.value }; first.finish(true) }
            Task { try? await Task.sleep(for: timeout); first.finish(false) }
        }
    }
}

public enum GatewayRuntimeError: Error, CustomStringConvertible {
    case serverDidNotStart

    public var description: String { "the gateway's HTTP server did not start (is the port in use?)" }
}

/// Resumes a continuation with whichever outcome arrives first.
private final class FirstOutcome: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Bool, Never>?, done: Bool)>((nil, false))

    func set(_ continuation: CheckedContinuation<Bool, Never>) { state.withLock { $0.continuation = continuation } }

    func finish(_ value: Bool) {
        let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard !state.done, let continuation = state.continuation else { return nil }
            state.done = true
            return continuation
        }
        continuation?.resume(returning: value)
    }
}
