import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// The gateway as a swift-service-lifecycle `Service`: a Hummingbird application
/// serving the dashboard, the WebSocket and SSE streams and the JSON APIs, plus
/// the timers that release rate-capped updates, send heartbeats and sample stats.
///
/// The lead's wiring feeds `hub` from one Kafka consumer (`hub.publish(...)`) and
/// sets the external panels on `stats`. On graceful shutdown the hub disconnects
/// every client so that open streams end and the server can stop.
public struct GatewayServer: Service {
    public let configuration: GatewayConfiguration
    /// The fan-out hub; publish quotes into it.
    public let hub: QuoteHub
    /// Counters and external panels served by `/api/stats` and `/metrics`.
    public let stats: GatewayStats
    let latestSource: (any LatestQuotesSource)?
    let history: (any HistoryQuerying)?
    let logger: Logger

    /// - Parameters:
    ///   - logReader: serves resume tokens from the log; without one, every resume
    ///     gets a gap and a snapshot.
    ///   - latestSource: loaded into the hub when the server starts.
    ///   - history: backs `/api/history`; without one it answers 501.
    public init(
        configuration: GatewayConfiguration = GatewayConfiguration(),
        logReader: (any QuoteLogReader)? = nil,
        latestSource: (any LatestQuotesSource)? = nil,
        history: (any HistoryQuerying)? = nil,
        stats: GatewayStats = GatewayStats(),
        clock: HubClock = .system,
        logger: Logger = Logger(label: "tickstream.gateway")
    ) {
        self.configuration = configuration
        self.hub = QuoteHub(configuration: configuration.hub, logReader: logReader, clock: clock)
        self.stats = stats
        self.latestSource = latestSource
        self.history = history
        self.logger = logger
    }

    /// Runs until graceful shutdown (or cancellation).
    public func run() async throws {
        if let latestSource {
            do {
                let count = try await hub.loadLatest(from: latestSource)
                logger.info("loaded latest quotes", metadata: ["count": "\(count)"])
            } catch {
                logger.warning("could not load latest quotes; snapshots start empty", metadata: ["error": "\(error)"])
            }
        }
        let application = try await makeApplication()
        let hub = self.hub
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await application.run() }
                group.addTask { await self.runTimers() }
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            Task { await hub.shutdown() }
        }
    }

    /// The Hummingbird application (tests drive it with HummingbirdTesting).
    /// `onServerRunning` gets the bound port once listening. Throws
    /// `GatewayAuthError.secretTooShort` for a token secret under 32 bytes.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        async throws -> some ApplicationProtocol
    {
        let auth = try await GatewayAuth(secret: configuration.tokenSecret)
        let routes = GatewayRoutes(
            hub: hub, stats: stats, auth: auth, history: history, configuration: configuration, logger: logger)
        let router = Router(context: BasicRequestContext.self)
        routes.addHTTPRoutes(to: router)
        // `/ws` upgrades to a push connection on its event loop's shard; everything
        // else is the router's. The server runs on the hub's loops, where the shards are.
        let shards = hub.shards
        let maxRequestBytes = configuration.maxRequestBytes
        let server = HTTPServerBuilder { responder in
            GatewayChannel(responder: responder, shards: shards, auth: auth, maxRequestBytes: maxRequestBytes)
        }
        return Application(
            router: router,
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: configuration.serverName
            ),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            eventLoopGroupProvider: .shared(hub.eventLoopGroup),
            logger: logger
        )
    }

    /// Releases rate-capped updates, samples stats and sends heartbeats until cancelled.
    func runTimers() async {
        let clock = ContinuousClock()
        let start = clock.now
        var nextHeartbeat = start + configuration.heartbeatInterval
        var nextSample = start
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.tickInterval) } catch { return }
            await hub.tick()
            let now = clock.now
            if now >= nextSample {
                let elapsed = start.duration(to: now).components
                let nanos = UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)
                stats.record(await hub.currentCounters(), atNanos: nanos)
                nextSample = now + .seconds(1)
            }
            if now >= nextHeartbeat {
                await hub.heartbeat()
                nextHeartbeat = now + configuration.heartbeatInterval
            }
        }
    }
}
