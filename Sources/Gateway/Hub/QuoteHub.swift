/// The fan-out core of the gateway: per-symbol subscriber sets, the last quote of
/// every symbol, and one bounded, conflating outbox per client.
///
/// An actor: the Kafka consumer publishes into it and every connection drains from
/// it, so its state has one owner. It knows nothing about sockets — connections call
/// `nextFrames(for:)` and write what they get; a connection that writes slowly simply
/// drains less often, and its outbox conflates (see `ClientOutbox`).
public actor QuoteHub {
    struct StoredQuote: Sendable {
        var partition: Int32
        var offset: Int64
        var value: [UInt8]
    }

    struct ClientState: Sendable {
        var permission: SymbolPermission
        var subscriptions: Set<String> = []
        var wildcard = false
        var outbox: ClientOutbox
        var gate: RateGate
        var waiter: CheckedContinuation<[ServerFrame]?, Never>?
        /// Set while a resume reads the log: live quotes wait in `resumeBuffer`.
        var resuming = false
        var resumeBuffer: [(symbol: String, frame: ServerFrame)] = []
        /// The conflation count the client was last told in a batch (see `takeBatch`).
        var reportedConflated = 0
    }

    public let configuration: HubConfiguration
    let logReader: (any QuoteLogReader)?
    let clock: HubClock

    var latest: [String: StoredQuote] = [:]
    /// Last offset published per partition.
    var partitionHigh: [Int32: Int64] = [:]
    var subscribers: [String: Set<ClientID>] = [:]
    var wildcardClients: Set<ClientID> = []
    var clients: [ClientID: ClientState] = [:]
    private var nextClientID: UInt64 = 1
    private var isShutDown = false

    var counters = HubCounters()
    /// Conflation counts of clients already gone.
    private var retiredConflated: UInt64 = 0

    public init(configuration: HubConfiguration = HubConfiguration(), logReader: (any QuoteLogReader)? = nil,
                clock: HubClock = .system) {
        self.configuration = configuration
        self.logReader = logReader
        self.clock = clock
    }

    // MARK: Feeding

    /// Loads the last quote per symbol (e.g. from `prices.latest`) so that snapshots
    /// are ready before the first live quote. Quotes older than what the hub already
    /// holds are ignored. Returns how many were taken.
    @discardableResult
    public func loadLatest(from source: any LatestQuotesSource) async throws -> Int {
        let quotes = try await source.latestQuotes()
        var taken = 0
        for quote in quotes {
            guard let offset = quote.offset else {
                // No position in the feed's topic: a snapshot only, never a resume point
                // or a reason to think a live quote stale; a live quote replaces it.
                if latest[quote.symbol] == nil {
                    latest[quote.symbol] = StoredQuote(partition: quote.partition, offset: -1, value: quote.value)
                    taken += 1
                }
                continue
            }
            if let current = latest[quote.symbol], current.partition == quote.partition, current.offset >= offset {
                continue
            }
            latest[quote.symbol] = StoredQuote(partition: quote.partition, offset: offset, value: quote.value)
            if partitionHigh[quote.partition, default: -1] < offset { partitionHigh[quote.partition] = offset }
            taken += 1
        }
        return taken
    }

    /// One quote from the log: remembered as its symbol's latest and sent to every
    /// subscriber as `{"type":"update","quote":<value>,"token":"partition:offset"}`.
    /// `value` is embedded byte for byte. A quote whose offset is not past the last one
    /// seen on its partition (a consumer re-delivery) is ignored.
    public func publish(symbol: String, partition: Int32, offset: Int64, value: [UInt8]) {
        if let high = partitionHigh[partition], offset <= high {
            counters.staleQuotes += 1
            return
        }
        counters.quotesIn += 1
        partitionHigh[partition] = offset
        latest[symbol] = StoredQuote(partition: partition, offset: offset, value: value)
        let frame = ServerFrame.update(quote: value, partition: partition, offset: offset)
        if let ids = subscribers[symbol] {
            for id in ids { deliver(frame, symbol: symbol, to: id) }
        }
        for id in wildcardClients { deliver(frame, symbol: symbol, to: id) }
    }

    /// Publishes several quotes of one fetch in order.
    public func publish(_ records: [(symbol: String, partition: Int32, offset: Int64, value: [UInt8])]) {
        for record in records {
            publish(symbol: record.symbol, partition: record.partition, offset: record.offset, value: record.value)
        }
    }

    // MARK: Clients

    /// Registers a client allowed `permission`; `maxRate` may lower the configured
    /// per-symbol update cap for this client (never raise it).
    public func connect(permission: SymbolPermission, maxRate: Int? = nil) -> ClientID {
        let id = ClientID(rawValue: nextClientID)
        nextClientID += 1
        var rate = configuration.maxRate
        if let requested = maxRate, requested > 0 { rate = rate > 0 ? min(rate, requested) : requested }
        clients[id] = ClientState(
            permission: permission,
            outbox: ClientOutbox(bound: configuration.queueBound, controlCapacity: configuration.controlCapacity),
            gate: RateGate(maxRate: rate)
        )
        if isShutDown { disconnect(id) }
        return id
    }

    /// Forgets a client; a writer waiting in `nextFrames` gets nil.
    public func disconnect(_ id: ClientID) {
        guard let state = clients.removeValue(forKey: id) else { return }
        for symbol in state.subscriptions {
            subscribers[symbol]?.remove(id)
            if subscribers[symbol]?.isEmpty == true { subscribers.removeValue(forKey: symbol) }
        }
        wildcardClients.remove(id)
        retiredConflated += UInt64(state.outbox.conflatedCount + state.gate.conflatedCount)
        state.waiter?.resume(returning: nil)
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
            sendControl(.error(code: .badRequest, message: error.description), to: id)
        }
    }

    /// Subscribes to `symbols`: one `snapshot` frame per symbol with a known quote
    /// (in the order asked; all symbols sorted by name for `*`), then live updates.
    /// Symbols the client may not see are refused with one `forbidden` error frame.
    public func subscribe(_ id: ClientID, symbols: [String]) {
        guard let added = addSubscriptions(id, symbols: symbols) else { return }
        for symbol in added.symbols { sendSnapshot(of: symbol, to: id) }
        if added.wildcard {
            for symbol in latest.keys.sorted() { sendSnapshot(of: symbol, to: id) }
        }
        wake(id)
    }

    /// Stops updates of `symbols` (`*` ends a wildcard subscription).
    public func unsubscribe(_ id: ClientID, symbols: [String]) {
        guard var state = clients[id] else { return }
        for symbol in symbols {
            if symbol == "*" {
                state.wildcard = false
                wildcardClients.remove(id)
                continue
            }
            guard state.subscriptions.remove(symbol) != nil else { continue }
            subscribers[symbol]?.remove(id)
            if subscribers[symbol]?.isEmpty == true { subscribers.removeValue(forKey: symbol) }
            if !state.wildcard {
                state.gate.remove(symbol: symbol)
                state.outbox.dropSlot(symbol: symbol)
            }
        }
        clients[id] = state
    }

    // MARK: Draining

    /// Everything queued for the client now (possibly nothing); nil if it is gone.
    public func drain(_ id: ClientID) -> [ServerFrame]? {
        guard var state = clients[id] else { return nil }
        let frames = takeBatch(&state)
        clients[id] = state
        counters.framesOut += UInt64(frames.count)
        return frames
    }

    /// The next batch of frames for the client, waiting until there is one; nil once
    /// the client is disconnected or the hub shut down. One waiter per client.
    public func nextFrames(for id: ClientID) async -> [ServerFrame]? {
        guard let state = clients[id] else { return nil }
        if !state.outbox.isEmpty { return drain(id) }
        if state.waiter != nil { return nil }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[ServerFrame]?, Never>) in
                if Task.isCancelled || clients[id] == nil {
                    continuation.resume(returning: nil)
                } else {
                    clients[id]?.waiter = continuation
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Whether the client's outbox overflowed with control frames (it should be closed).
    public func hasOverflowed(_ id: ClientID) -> Bool {
        clients[id]?.outbox.overflowed ?? false
    }

    /// Quote frames queued for the client in order (at most the queue bound).
    public func queuedCount(_ id: ClientID) -> Int { clients[id]?.outbox.queuedCount ?? 0 }

    // MARK: Timers

    /// Releases rate-capped updates whose time has come. Call it often (the server
    /// does every 50 ms).
    public func tick() {
        let now = clock.monotonicNanos()
        for id in clients.keys {
            guard var state = clients[id], !state.gate.isUnlimited, state.gate.heldCount > 0 else { continue }
            let released = state.gate.due(now: now)
            for entry in released { state.outbox.enqueueQuote(symbol: entry.symbol, frame: entry.frame) }
            clients[id] = state
            if !released.isEmpty { wake(id) }
        }
    }

    /// Queues a `stats` heartbeat frame for every client.
    public func heartbeat() {
        let now = clock.unixMillis()
        for (id, state) in clients {
            let subscribed = state.wildcard ? latest.count : state.subscriptions.count
            let conflated = state.outbox.conflatedCount + state.gate.conflatedCount
            sendControl(.stats(unixMillis: now, subscribed: subscribed, conflated: conflated), to: id, droppable: true)
        }
    }

    /// Disconnects everybody and refuses new clients (graceful shutdown).
    public func shutdown() {
        isShutDown = true
        for id in Array(clients.keys) { disconnect(id) }
    }

    // MARK: Reading

    /// The latest raw quote of every symbol the permission allows, sorted by symbol.
    public func latestQuotes(permission: SymbolPermission = .all) -> [[UInt8]] {
        latest.keys.sorted().filter { permission.allows($0) }.map { latest[$0]!.value }
    }

    /// The latest raw quote of one symbol.
    public func latestQuote(of symbol: String) -> [UInt8]? { latest[symbol]?.value }

    /// Running totals.
    public func currentCounters() -> HubCounters {
        var snapshot = counters
        snapshot.clients = clients.count
        snapshot.symbols = latest.count
        snapshot.conflated = retiredConflated + clients.values.reduce(0) {
            $0 + UInt64($1.outbox.conflatedCount + $1.gate.conflatedCount)
        }
        return snapshot
    }

    // MARK: Internals

    /// Sends an update through the client's rate gate into its outbox (or into its
    /// resume buffer while a resume is reading the log).
    func deliver(_ frame: ServerFrame, symbol: String, to id: ClientID) {
        guard var state = clients[id] else { return }
        if state.resuming {
            state.resumeBuffer.append((symbol, frame))
            if state.resumeBuffer.count > configuration.queueBound * 4 {
                state.resumeBuffer = Self.latestPerSymbol(state.resumeBuffer)
            }
            clients[id] = state
            return
        }
        if let admitted = state.gate.admit(symbol: symbol, frame: frame, now: clock.monotonicNanos()) {
            state.outbox.enqueueQuote(symbol: symbol, frame: admitted)
            clients[id] = state
            wake(id)
        } else {
            clients[id] = state
        }
    }

    /// Adds permitted symbols to the client's subscriptions; refuses the others with
    /// a `forbidden` error frame. Returns the newly added symbols (and whether `*`
    /// was newly added), or nil if the client is gone.
    func addSubscriptions(_ id: ClientID, symbols: [String]) -> (symbols: [String], wildcard: Bool)? {
        guard var state = clients[id] else { return nil }
        var refused: [String] = []
        var added: [String] = []
        var overLimit: [String] = []
        var addedWildcard = false
        for symbol in symbols {
            if symbol == "*" {
                guard state.permission.allowsWildcard else { refused.append(symbol); continue }
                if !state.wildcard { addedWildcard = true }
                state.wildcard = true
                wildcardClients.insert(id)
                continue
            }
            guard state.permission.allows(symbol) else { refused.append(symbol); continue }
            guard !state.subscriptions.contains(symbol) else { continue }
            guard state.subscriptions.count < configuration.maxSymbolsPerClient else { overLimit.append(symbol); continue }
            state.subscriptions.insert(symbol)
            subscribers[symbol, default: []].insert(id)
            added.append(symbol)
        }
        clients[id] = state
        if !refused.isEmpty {
            sendControl(.error(code: .forbidden, message: "not authorised for these symbols", symbols: refused), to: id)
        }
        if !overLimit.isEmpty {
            sendControl(.error(code: .badRequest, message: "at most \(configuration.maxSymbolsPerClient) symbols per client",
                               symbols: overLimit), to: id)
        }
        return (state.wildcard && !addedWildcard ? [] : added, addedWildcard)
    }

    func sendSnapshot(of symbol: String, to id: ClientID) {
        guard let stored = latest[symbol], clients[id] != nil else { return }
        let frame = ServerFrame.snapshot(quote: stored.value, partition: stored.partition, offset: stored.offset)
        clients[id]?.outbox.enqueueQuote(symbol: symbol, frame: frame)
    }

    func sendControl(_ frame: ServerFrame, to id: ClientID, droppable: Bool = false) {
        guard clients[id] != nil else { return }
        clients[id]?.outbox.enqueueControl(frame, droppable: droppable)
        wake(id)
    }

    /// Hands the outbox to a waiting writer, if there is one and something to send.
    func wake(_ id: ClientID) {
        guard var state = clients[id], let waiter = state.waiter, !state.outbox.isEmpty else { return }
        state.waiter = nil
        let frames = takeBatch(&state)
        clients[id] = state
        counters.framesOut += UInt64(frames.count)
        waiter.resume(returning: frames)
    }

    /// Drains the client's outbox. When quotes were conflated since the client was
    /// last told, a `stats` frame with the new count leads the batch: it reaches the
    /// client before the quote that reveals the skip, so a client can tell skips the
    /// gateway made on purpose from quotes lost (the swarm's gap accounting relies on it).
    func takeBatch(_ state: inout ClientState) -> [ServerFrame] {
        var frames = state.outbox.drain()
        let conflated = state.outbox.conflatedCount + state.gate.conflatedCount
        if conflated > state.reportedConflated {
            state.reportedConflated = conflated
            let subscribed = state.wildcard ? latest.count : state.subscriptions.count
            frames.insert(.stats(unixMillis: clock.unixMillis(), subscribed: subscribed, conflated: conflated), at: 0)
        }
        return frames
    }

    private func cancelWaiter(_ id: ClientID) {
        guard let waiter = clients[id]?.waiter else { return }
        clients[id]?.waiter = nil
        waiter.resume(returning: nil)
    }

    /// Keeps the newest entry per symbol, in the order of their offsets.
    static func latestPerSymbol(_ entries: [(symbol: String, frame: ServerFrame)]) -> [(symbol: String, frame: ServerFrame)] {
        var newest: [String: ServerFrame] = [:]
        for entry in entries { newest[entry.symbol] = entry.frame }
        return newest.map { ($0.key, $0.value) }.sorted { $0.frame.offset < $1.frame.offset }
    }
}
