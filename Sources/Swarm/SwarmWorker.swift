import Logging
import Synchronization

/// One worker process's run: builds its clients (watchlists, behaviours), connects
/// them through the transport, carries out the behaviour plan, and emits a
/// `second` report every second of the run and a `final` report at the end.
///
/// The loop is single-task; deliveries arrive concurrently through
/// `SwarmAccounting`. `stop()` ends the run early (SIGTERM/SIGINT), still with a
/// final report.
public final class SwarmWorker: Sendable {
    public let configuration: SwarmWorkerConfiguration
    public let accounting: SwarmAccounting
    private let subscriptions: [SwarmSubscription]
    private let plan: [ScheduledAction]
    private let stopRequested = Atomic<Bool>(false)
    private let logger: Logger

    /// Builds the worker's clients; `partition` maps a symbol to its partition.
    public init(configuration: SwarmWorkerConfiguration, partition: (String) -> Int32,
                logger: Logger = Logger(label: "tickstream.swarm.worker")) {
        self.configuration = configuration
        self.logger = logger
        let watchlists = WatchlistGenerator(symbols: configuration.symbols, size: configuration.watchlistSize,
                                            skew: configuration.watchlistSkew, seed: configuration.seed)
        let planner = BehaviourPlanner(settings: configuration.behaviour, seed: configuration.seed)
        var clients: [MobileClient] = []
        var links: [Int: SlowReaderLink] = [:]
        var subscriptions: [SwarmSubscription] = []
        var plan: [ScheduledAction] = []
        let clientRange = configuration.firstClient..<(configuration.firstClient + configuration.clientCount)
        for client in clientRange {
            let watchlist = watchlists.watchlist(forClient: client)
            clients.append(MobileClient(id: client, watchlist: watchlist))
            var subscription = SwarmSubscription(client: client, symbols: watchlist,
                                                 partitions: WatchlistGenerator.partitions(for: watchlist, partition: partition))
            if case .slowReader(let bytesPerSecond, let addedLatencyMillis) = planner.behaviour(forClient: client) {
                links[client] = SlowReaderLink(bytesPerSecond: bytesPerSecond, addedLatencyNanos: Int64(addedLatencyMillis) * 1_000_000)
                subscription.maxBytesPerSecond = bytesPerSecond
            }
            subscriptions.append(subscription)
            plan += planner.actions(forClient: client, durationMillis: configuration.durationMillis)
        }
        self.subscriptions = subscriptions
        self.plan = plan.sorted()
        accounting = SwarmAccounting(clients: clients, firstClient: configuration.firstClient, links: links,
                                     startSecond: 0)
    }

    /// The behaviour plan, in time order (for inspection and tests).
    public var scheduledActions: [ScheduledAction] { plan }

    /// Ends the run at the next turn of the loop.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    private func elapsedMillis() -> Int64 {
        (WallClock.nowNanos() - configuration.epochNanos) / 1_000_000
    }

    /// Runs to the end of the configured duration (or `stop()`), emitting reports.
    /// Returns the worker's final statistics.
    @discardableResult
    public func run(transport: any SwarmTransport, emit: @Sendable (WorkerReport) -> Void) async -> SwarmStats {
        let worker = configuration.worker
        // Wait for the common start so every worker counts seconds alike.
        let wait = -elapsedMillis()
        if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
        await connectAll(transport: transport)
        logger.info("worker \(worker): \(accounting.connectedClients) of \(subscriptions.count) clients connected")
        var nextAction = 0
        var retries: [(atMillis: Int64, client: Int)] = []
        let end = configuration.durationMillis
        while !stopRequested.load(ordering: .relaxed) {
            let now = elapsedMillis()
            // At the end the current second is closed below, with the final report.
            if now >= end { break }
            let second = Int(max(0, now) / 1000)
            if second > accounting.currentSecond {
                let snapshot = accounting.closeSecond(next: second)
                emit(.second(worker: worker, snapshot))
            }
            while nextAction < plan.count, plan[nextAction].atMillis <= now {
                await perform(plan[nextAction], transport: transport)
                nextAction += 1
            }
            for client in accounting.takeLostConnections() {
                logger.debug("client \(client) lost its connection; reconnecting")
                retries.append((now + configuration.behaviour.reconnectDelayMillis.lowerBound, client))
            }
            let due = retries.filter { $0.atMillis <= now }
            retries.removeAll { $0.atMillis <= now }
            for retry in due {
                await perform(ScheduledAction(atMillis: now, client: retry.client, action: .reconnect), transport: transport)
            }
            var wake = min(end, Int64(second + 1) * 1000)
            if nextAction < plan.count { wake = min(wake, plan[nextAction].atMillis) }
            if let retry = retries.map(\.atMillis).min() { wake = min(wake, retry) }
            let sleep = max(1, min(wake - elapsedMillis(), 250))
            try? await Task.sleep(for: .milliseconds(sleep))
        }
        if configuration.drainMillis > 0 && !stopRequested.load(ordering: .relaxed) {
            await drain(transport: transport, emit: emit)
        }
        await transport.shutdown()
        let last = accounting.closeSecond(next: accounting.currentSecond + 1)
        emit(.second(worker: worker, last))
        let stats = accounting.stats
        emit(.final(worker: worker, stats: stats))
        return stats
    }

    /// After the duration: every client comes back (paused ones resume, churned ones
    /// reconnect) and reads on until it has read its partitions to the end offsets of
    /// this moment, or `drainMillis` pass. Seconds keep being reported meanwhile.
    private func drain(transport: any SwarmTransport, emit: @Sendable (WorkerReport) -> Void) async {
        let worker = configuration.worker
        let ends: [Int32: Int64]
        do {
            guard let offsets = try await transport.endOffsets() else {
                logger.info("worker \(worker): this transport cannot drain; stopping at the end of the duration")
                return
            }
            ends = offsets
        } catch {
            logger.warning("worker \(worker): no end offsets to drain to: \(error)")
            return
        }
        for subscription in subscriptions {
            if accounting.markResumed(subscription.client, atNanos: WallClock.nowNanos()) {
                await transport.resume(client: subscription.client)
            } else if accounting.client(subscription.client)?.state == .disconnected {
                await connect(subscription, transport: transport)
            }
        }
        let partitions = Dictionary(uniqueKeysWithValues: subscriptions.map { ($0.client, $0.partitions) })
        let deadline = elapsedMillis() + configuration.drainMillis
        var behind = accounting.clientsBehind(ends) { partitions[$0] ?? [] }
        while !behind.isEmpty && !stopRequested.load(ordering: .relaxed) {
            let now = elapsedMillis()
            guard now < deadline else {
                logger.warning("worker \(worker): \(behind.count) clients had not read to the end after the drain of \(configuration.drainMillis) ms")
                return
            }
            let second = Int(max(0, now) / 1000)
            if second > accounting.currentSecond {
                emit(.second(worker: worker, accounting.closeSecond(next: second)))
            }
            for client in accounting.takeLostConnections() {
                if let subscription = subscription(for: client) { await connect(subscription, transport: transport) }
            }
            try? await Task.sleep(for: .milliseconds(100))
            behind = accounting.clientsBehind(ends) { partitions[$0] ?? [] }
        }
        logger.info("worker \(worker): every client read to the end offsets (drained)")
    }

    /// Connects every client at the start, `initialConnectWidth` at a time: each
    /// connect waits for a TCP handshake and a round trip or two, so doing them one
    /// by one would take thousands of round trips before the run begins.
    private func connectAll(transport: any SwarmTransport) async {
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() {
                guard next < subscriptions.count, !stopRequested.load(ordering: .relaxed) else { return }
                let subscription = subscriptions[next]
                next += 1
                group.addTask { await self.connect(subscription, transport: transport) }
            }
            for _ in 0..<Self.initialConnectWidth { startNext() }
            while await group.next() != nil { startNext() }
        }
    }

    /// How many clients connect at once at the start of a run.
    public static let initialConnectWidth = 32

    private func subscription(for client: Int) -> SwarmSubscription? {
        let index = client - configuration.firstClient
        return subscriptions.indices.contains(index) ? subscriptions[index] : nil
    }

    private func connect(_ subscription: SwarmSubscription, transport: any SwarmTransport) async {
        var subscription = subscription
        subscription.resumeFrom = accounting.markConnected(subscription.client, atNanos: WallClock.nowNanos())
        do {
            try await transport.connect(subscription, sink: accounting)
        } catch {
            logger.warning("client \(subscription.client) could not connect: \(error)")
            accounting.connectionLost(client: subscription.client, reason: "\(error)")
        }
    }

    private func perform(_ action: ScheduledAction, transport: any SwarmTransport) async {
        switch action.action {
        case .disconnect:
            if accounting.markDisconnected(action.client) { await transport.disconnect(client: action.client) }
        case .reconnect:
            guard accounting.client(action.client)?.state == .disconnected, let subscription = subscription(for: action.client) else { return }
            await connect(subscription, transport: transport)
        case .pause:
            if accounting.markPaused(action.client) { await transport.pause(client: action.client) }
        case .resume:
            if accounting.markResumed(action.client, atNanos: WallClock.nowNanos()) { await transport.resume(client: action.client) }
        }
    }
}
