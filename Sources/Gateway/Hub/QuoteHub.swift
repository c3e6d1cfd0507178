import NIOCore
import NIOPosix
import Synchronization

/// The gateway's fan-out: where the feed publishes and every client subscribes.
///
/// Two kinds of owner share the work, each with its own `HubBook`:
/// - one `HubShard` per event loop holds that loop's WebSocket connections; the hub
///   hands each shard every fetched batch once, already encoded, and the shard
///   writes to its sockets on its own loop (no per-quote or per-client hop);
/// - the actor itself holds the clients that drain by awaiting `nextFrames(for:)`
///   (SSE streams, and tests that drive the book directly through this API).
///
/// Every book sees every quote, so each keeps its own copy of the latest quote per
/// symbol (a few hundred entries sharing their frames): that is cheaper than any
/// lock a shared copy would need on the delivery path.
public actor QuoteHub {
    public let configuration: HubConfiguration
    let logReader: (any QuoteLogReader)?
    let clock: HubClock

    /// The actor's own clients' bookkeeping (SSE and direct API use).
    var book: HubBook
    /// Writers parked in `nextFrames(for:)`, one per client.
    private var waiters: [ClientID: CheckedContinuation<[ServerFrame]?, Never>] = [:]
    private var isShutDown = false

    /// The WebSocket shards, one per event loop of `eventLoopGroup` (immutable once made).
    nonisolated let shards: ShardSet
    /// The event loops the gateway's server runs on (the shards' loops).
    public nonisolated let eventLoopGroup: any EventLoopGroup

    public init(configuration: HubConfiguration = HubConfiguration(), logReader: (any QuoteLogReader)? = nil,
                clock: HubClock = .system, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.logReader = logReader
        self.clock = clock
        self.book = HubBook(configuration: configuration, clock: clock)
        self.eventLoopGroup = eventLoopGroup
        self.shards = ShardSet(eventLoopGroup: eventLoopGroup, configuration: configuration, logReader: logReader, clock: clock)
    }

    // MARK: Feeding

    /// Loads the last quote per symbol (e.g. from `prices.latest`) so that snapshots
    /// are ready before the first live quote. Quotes older than what the hub already
    /// holds are ignored. Returns how many were taken.
    @discardableResult
    public func loadLatest(from source: any LatestQuotesSource) async throws -> Int {
        let quotes = try await source.latestQuotes()
        var taken: [LatestQuote] = []
        for quote in quotes where book.loadLatest(quote) { taken.append(quote) }
        let loaded = taken
        shards.forEach { shard in shard.loadLatest(loaded) }
        return loaded.count
    }

    /// One quote from the log: remembered as its symbol's latest and sent to every
    /// subscriber as `{"type":"update","quote":<value>,"token":"partition:offset"}`.
    /// `value` is embedded byte for byte. A quote whose offset is not past the last one
    /// seen on its partition (a consumer re-delivery) is ignored.
    public func publish(symbol: String, partition: Int32, offset: Int64, value: [UInt8]) {
        publish([FeedQuote(symbol: symbol, partition: partition, offset: offset, value: value)])
    }

    /// Publishes several quotes of one fetch in order.
    public func publish(_ records: [(symbol: String, partition: Int32, offset: Int64, value: [UInt8])]) {
        publish(records.map { FeedQuote(symbol: $0.symbol, partition: $0.partition, offset: $0.offset, value: $0.value) })
    }

    /// Publishes one fetched batch, each quote encoded once: the actor's own clients
    /// get it here, each shard gets the whole batch in one hop to its loop.
    public func publish(_ quotes: [FeedQuote]) {
        var accepted: [FeedQuote] = []
        accepted.reserveCapacity(quotes.count)
        for quote in quotes where book.publish(quote) { accepted.append(quote) }
        wakeDirty()
        guard !accepted.isEmpty else { return }
        let batch = accepted
        shards.forEach { shard in shard.publish(batch) }
    }

    // MARK: Clients

    /// Registers a client allowed `permission`; `maxRate` may lower the configured
    /// per-symbol update cap for this client (never raise it).
    public func connect(permission: SymbolPermission, maxRate: Int? = nil) -> ClientID {
        let id = ClientID.next()
        book.connect(id, permission: permission, maxRate: maxRate)
        if isShutDown { disconnect(id) }
        return id
    }

    /// Forgets a client; a writer waiting in `nextFrames` gets nil.
    public func disconnect(_ id: ClientID) {
        book.disconnect(id)
        waiters.removeValue(forKey: id)?.resume(returning: nil)
    }

    /// Carries out one parsed request frame of a client.
    public func handle(_ request: ClientRequest, from id: ClientID) async {
        switch request {
        case .subscribe(let symbols): subscribe(id, symbols: symbols)
        case .unsubscribe(let symbols): unsubscribe(id, symbols: symbols)
        case .resume(let token, let symbols): await resume(id, token: token, symbols: symbols)
        }
    }

    /// Carries out one raw request frame; a malformed one is answered with an error frame.
    public func handle(requestBytes bytes: [UInt8], from id: ClientID) async {
        do {
            let request = try ClientRequest(parsing: bytes)
            await handle(request, from: id)
        } catch {
            book.refuse(error, from: id)
            wakeDirty()
        }
    }

    /// Subscribes to `symbols`: one `snapshot` frame per symbol with a known quote
    /// (in the order asked; all symbols sorted by name for `*`), then live updates.
    /// Symbols the client may not see are refused with one `forbidden` error frame.
    public func subscribe(_ id: ClientID, symbols: [String]) {
        book.subscribe(id, symbols: symbols)
        wakeDirty()
    }

    /// Stops updates of `symbols` (`*` ends a wildcard subscription).
    public func unsubscribe(_ id: ClientID, symbols: [String]) {
        book.unsubscribe(id, symbols: symbols)
        wakeDirty()
    }

    /// Resumes a client from `token`: subscribes it to `symbols` and replays what it
    /// missed on the token's partitions from the `QuoteLogReader` (see `ResumePlan`).
    public func resume(_ id: ClientID, token: ResumeToken, symbols: [String]) async {
        guard let plan = book.beginResume(id, token: token, symbols: symbols) else {
            wakeDirty()
            return
        }
        wakeDirty()
        let outcomes = await HubBook.readMissed(plan, reader: logReader, configuration: configuration)
        book.finishResume(plan, outcomes: outcomes)
        wakeDirty()
    }

    // MARK: Draining

    /// Everything queued for the client now (possibly nothing); nil if it is gone.
    public func drain(_ id: ClientID) -> [ServerFrame]? {
        book.drain(id)
    }

    /// The next batch of frames for the client, waiting until there is one; nil once
    /// the client is disconnected or the hub shut down. One waiter per client.
    public func nextFrames(for id: ClientID) async -> [ServerFrame]? {
        guard book.clients[id] != nil else { return nil }
        if !book.isIdle(id) { return book.drain(id) }
        if waiters[id] != nil { return nil }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[ServerFrame]?, Never>) in
                if Task.isCancelled || book.clients[id] == nil {
                    continuation.resume(returning: nil)
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Whether the client's outbox overflowed with control frames (it should be closed).
    public func hasOverflowed(_ id: ClientID) -> Bool { book.hasOverflowed(id) }

    /// Quote frames queued for the client in order (at most the queue bound).
    public func queuedCount(_ id: ClientID) -> Int { book.queuedCount(id) }

    // MARK: Timers

    /// Releases rate-capped updates whose time has come, here and in every shard.
    /// Call it often (the server does every 50 ms).
    public func tick() {
        book.tick()
        wakeDirty()
        shards.forEach { $0.tick() }
    }

    /// Queues a `stats` heartbeat frame for every client, here and in every shard.
    public func heartbeat() {
        book.heartbeat()
        wakeDirty()
        shards.forEach { $0.heartbeat() }
    }

    /// Disconnects everybody and refuses new clients (graceful shutdown).
    public func shutdown() {
        isShutDown = true
        for id in Array(book.clients.keys) { disconnect(id) }
        shards.forEach { $0.shutdown() }
    }

    // MARK: Reading

    /// The latest raw quote of every symbol the permission allows, sorted by symbol.
    public func latestQuotes(permission: SymbolPermission = .all) -> [[UInt8]] {
        book.latestQuotes(permission: permission)
    }

    /// The latest raw quote of one symbol.
    public func latestQuote(of symbol: String) -> [UInt8]? { book.latest[symbol]?.value }

    /// Running totals over the actor's clients and every shard's. Quotes in and stale
    /// quotes are counted once, here: every book sees the same feed.
    public func currentCounters() async -> HubCounters {
        var total = book.currentCounters()
        for shard in shards.all {
            let counters = await shard.counters()
            total.clients += counters.clients
            total.framesOut += counters.framesOut
            total.conflated += counters.conflated
            total.resumesReplayed += counters.resumesReplayed
            total.resumeGaps += counters.resumeGaps
        }
        return total
    }

    // MARK: Internals

    /// Hands each dirty client's frames to its parked writer, if there is one.
    private func wakeDirty() {
        for id in book.takeDirty() {
            guard let waiter = waiters[id], !book.isIdle(id), let frames = book.drain(id) else { continue }
            waiters[id] = nil
            waiter.resume(returning: frames)
        }
    }

    private func cancelWaiter(_ id: ClientID) {
        waiters.removeValue(forKey: id)?.resume(returning: nil)
    }
}

extension ClientID {
    private static let counter = Atomic<UInt64>(0)

    /// A fresh id, unique across the hub and all its shards.
    static func next() -> ClientID {
        ClientID(rawValue: counter.add(1, ordering: .relaxed).newValue)
    }
}
