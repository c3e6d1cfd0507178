/// One quote from the feed, encoded once: its `update` frame is shared by every
/// client, every shard and the hub that receive it.
public struct FeedQuote: Sendable {
    public var symbol: String
    public var partition: Int32
    public var offset: Int64
    /// The raw quote JSON as produced.
    public var value: [UInt8]
    /// `{"type":"update",…}`, built once.
    public var update: ServerFrame

    public init(symbol: String, partition: Int32, offset: Int64, value: [UInt8]) {
        self.symbol = symbol
        self.partition = partition
        self.offset = offset
        self.value = value
        self.update = .update(quote: value, partition: partition, offset: offset)
    }
}

/// The fan-out bookkeeping of one hub or shard, as a value: per-symbol subscriber
/// sets, the last quote of every symbol, and per client a bounded conflating outbox
/// (`ClientOutbox`), a rate gate and whether it has frames due.
///
/// No sockets, tasks or locks: every transition is a mutating call, and the owner —
/// the `QuoteHub` actor for its streams, a `HubShard` on its event loop for its
/// WebSockets — asks `takeDirty()` afterwards which clients to hand frames to. A
/// client that writes slowly simply drains less often, and its outbox conflates.
struct HubBook: Sendable {
    struct StoredQuote: Sendable {
        var partition: Int32
        var offset: Int64
        var value: [UInt8]
        /// This quote's `snapshot` frame, built on first use and shared by every subscriber.
        var snapshot: ServerFrame?
    }

    struct ClientState: Sendable {
        var permission: SymbolPermission
        var subscriptions: Set<String> = []
        var wildcard = false
        var outbox: ClientOutbox
        var gate: RateGate
        /// Listed in `dirty` (frames queued since the owner last asked).
        var isDirty = false
        /// Set while a resume reads the log: live quotes wait in `resumeBuffer`.
        var resuming = false
        var resumeBuffer: [(symbol: String, frame: ServerFrame)] = []
        /// The conflation count the client was last told in a batch (see `takeBatch`).
        var reportedConflated = 0
    }

    let configuration: HubConfiguration
    let clock: HubClock

    var latest: [String: StoredQuote] = [:]
    /// Last offset published per partition.
    var partitionHigh: [Int32: Int64] = [:]
    var subscribers: [String: Set<ClientID>] = [:]
    var wildcardClients: Set<ClientID> = []
    var clients: [ClientID: ClientState] = [:]
    /// Clients with frames queued since the last `takeDirty()`.
    private var dirty: [ClientID] = []

    var counters = HubCounters()
    /// Conflation counts of clients already gone.
    private var retiredConflated: UInt64 = 0

    init(configuration: HubConfiguration, clock: HubClock) {
        self.configuration = configuration
        self.clock = clock
    }

    // MARK: Feeding

    /// Takes the last quote of a symbol from a snapshot source; returns whether it
    /// was newer than what the book holds (see `QuoteHub.loadLatest`).
    mutating func loadLatest(_ quote: LatestQuote) -> Bool {
        guard let offset = quote.offset else {
            // No position in the feed's topic: a snapshot only, never a resume point
            // or a reason to think a live quote stale; a live quote replaces it.
            guard latest[quote.symbol] == nil else { return false }
            latest[quote.symbol] = StoredQuote(partition: quote.partition, offset: -1, value: quote.value)
            return true
        }
        if let current = latest[quote.symbol], current.partition == quote.partition, current.offset >= offset {
            return false
        }
        latest[quote.symbol] = StoredQuote(partition: quote.partition, offset: offset, value: quote.value)
        if partitionHigh[quote.partition, default: -1] < offset { partitionHigh[quote.partition] = offset }
        return true
    }

    /// One quote from the log: remembered as its symbol's latest and queued for every
    /// subscriber. A quote whose offset is not past the last one seen on its partition
    /// (a consumer re-delivery) is ignored; returns whether it was taken.
    @discardableResult
    mutating func publish(_ quote: FeedQuote) -> Bool {
        if let high = partitionHigh[quote.partition], quote.offset <= high {
            counters.staleQuotes += 1
            return false
        }
        counters.quotesIn += 1
        partitionHigh[quote.partition] = quote.offset
        latest[quote.symbol] = StoredQuote(partition: quote.partition, offset: quote.offset, value: quote.value)
        if clients.isEmpty { return true }
        let now = clock.monotonicNanos()
        if let ids = subscribers[quote.symbol] {
            for id in ids { deliver(quote.update, symbol: quote.symbol, to: id, now: now) }
        }
        for id in wildcardClients { deliver(quote.update, symbol: quote.symbol, to: id, now: now) }
        return true
    }

    // MARK: Clients

    /// Registers client `id` allowed `permission`; `maxRate` may lower the configured
    /// per-symbol update cap for this client (never raise it).
    mutating func connect(_ id: ClientID, permission: SymbolPermission, maxRate: Int?) {
        var rate = configuration.maxRate
        if let requested = maxRate, requested > 0 { rate = rate > 0 ? min(rate, requested) : requested }
        clients[id] = ClientState(
            permission: permission,
            outbox: ClientOutbox(bound: configuration.queueBound, controlCapacity: configuration.controlCapacity),
            gate: RateGate(maxRate: rate)
        )
    }

    /// Forgets a client; false if it was not there.
    @discardableResult
    mutating func disconnect(_ id: ClientID) -> Bool {
        guard let state = clients.removeValue(forKey: id) else { return false }
        for symbol in state.subscriptions {
            subscribers[symbol]?.remove(id)
            if subscribers[symbol]?.isEmpty == true { subscribers.removeValue(forKey: symbol) }
        }
        wildcardClients.remove(id)
        retiredConflated += UInt64(state.outbox.conflatedCount + state.gate.conflatedCount)
        return true
    }

    /// Answers a malformed request with a `badRequest` error frame.
    mutating func refuse(_ error: ClientRequest.ParseError, from id: ClientID) {
        sendControl(.error(code: .badRequest, message: error.description), to: id)
    }

    /// Subscribes to `symbols`: one `snapshot` frame per symbol with a known quote
    /// (in the order asked; all symbols sorted by name for `*`), then live updates.
    /// Symbols the client may not see are refused with one `forbidden` error frame.
    mutating func subscribe(_ id: ClientID, symbols: [String]) {
        guard let added = addSubscriptions(id, symbols: symbols) else { return }
        for symbol in added.symbols { sendSnapshot(of: symbol, to: id) }
        if added.wildcard {
            for symbol in latest.keys.sorted() { sendSnapshot(of: symbol, to: id) }
        }
    }

    /// Stops updates of `symbols` (`*` ends a wildcard subscription).
    mutating func unsubscribe(_ id: ClientID, symbols: [String]) {
        guard let index = clients.index(forKey: id) else { return }
        for symbol in symbols {
            if symbol == "*" {
                clients.values[index].wildcard = false
                wildcardClients.remove(id)
                continue
            }
            guard clients.values[index].subscriptions.remove(symbol) != nil else { continue }
            subscribers[symbol]?.remove(id)
            if subscribers[symbol]?.isEmpty == true { subscribers.removeValue(forKey: symbol) }
            if !clients.values[index].wildcard {
                clients.values[index].gate.remove(symbol: symbol)
                clients.values[index].outbox.dropSlot(symbol: symbol)
            }
        }
    }

    // MARK: Draining

    /// The clients with frames queued since the last call, each once.
    mutating func takeDirty() -> [ClientID] {
        guard !dirty.isEmpty else { return [] }
        let taken = dirty
        dirty.removeAll(keepingCapacity: true)
        for id in taken { clients[id]?.isDirty = false }
        return taken
    }

    /// Everything queued for the client now (possibly nothing); nil if it is gone.
    mutating func drain(_ id: ClientID) -> [ServerFrame]? {
        guard let index = clients.index(forKey: id) else { return nil }
        let frames = takeBatch(at: index)
        counters.framesOut += UInt64(frames.count)
        return frames
    }

    /// Whether the client has nothing queued (true when it is gone).
    func isIdle(_ id: ClientID) -> Bool { clients[id]?.outbox.isEmpty ?? true }

    /// Whether the client's outbox overflowed with control frames (it should be closed).
    func hasOverflowed(_ id: ClientID) -> Bool { clients[id]?.outbox.overflowed ?? false }

    /// Quote frames queued for the client in order (at most the queue bound).
    func queuedCount(_ id: ClientID) -> Int { clients[id]?.outbox.queuedCount ?? 0 }

    // MARK: Timers

    /// Releases rate-capped updates whose time has come.
    mutating func tick() {
        let now = clock.monotonicNanos()
        for index in clients.indices {
            guard !clients.values[index].gate.isUnlimited, clients.values[index].gate.heldCount > 0 else { continue }
            let released = clients.values[index].gate.due(now: now)
            guard !released.isEmpty else { continue }
            for entry in released { clients.values[index].outbox.enqueueQuote(symbol: entry.symbol, frame: entry.frame) }
            markDirty(at: index)
        }
    }

    /// Queues a `stats` heartbeat frame for every client.
    mutating func heartbeat() {
        let now = clock.unixMillis()
        for index in clients.indices {
            let state = clients.values[index]
            let subscribed = state.wildcard ? latest.count : state.subscriptions.count
            let conflated = state.outbox.conflatedCount + state.gate.conflatedCount
            clients.values[index].outbox.enqueueControl(
                .stats(unixMillis: now, subscribed: subscribed, conflated: conflated), droppable: true)
            markDirty(at: index)
        }
    }

    // MARK: Reading

    /// The latest raw quote of every symbol the permission allows, sorted by symbol.
    func latestQuotes(permission: SymbolPermission) -> [[UInt8]] {
        latest.keys.sorted().filter { permission.allows($0) }.map { latest[$0]!.value }
    }

    /// Running totals of this book alone.
    func currentCounters() -> HubCounters {
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
    mutating func deliver(_ frame: ServerFrame, symbol: String, to id: ClientID, now: UInt64) {
        guard let index = clients.index(forKey: id) else { return }
        // One in-place access per delivery: reading `clients.values[index].field` copies
        // the whole ClientState (its copy and destroy were ~4% of a loaded gateway's CPU).
        if Self.offer(frame, symbol: symbol, now: now, resumeBound: configuration.queueBound * 4,
                      to: &clients.values[index]) {
            dirty.append(id)
        }
    }

    /// Queues `frame` for one client; true when that made the client newly dirty.
    private static func offer(_ frame: ServerFrame, symbol: String, now: UInt64, resumeBound: Int,
                              to client: inout ClientState) -> Bool {
        if client.resuming {
            client.resumeBuffer.append((symbol, frame))
            if client.resumeBuffer.count > resumeBound { client.resumeBuffer = latestPerSymbol(client.resumeBuffer) }
            return false
        }
        guard let admitted = client.gate.admit(symbol: symbol, frame: frame, now: now) else { return false }
        client.outbox.enqueueQuote(symbol: symbol, frame: admitted)
        return setDirty(&client)
    }

    private static func setDirty(_ client: inout ClientState) -> Bool {
        guard !client.isDirty else { return false }
        client.isDirty = true
        return true
    }

    mutating func markDirty(at index: Dictionary<ClientID, ClientState>.Index) {
        if Self.setDirty(&clients.values[index]) { dirty.append(clients.keys[index]) }
    }

    mutating func markDirty(_ id: ClientID) {
        if let index = clients.index(forKey: id) { markDirty(at: index) }
    }

    /// Adds permitted symbols to the client's subscriptions; refuses the others with
    /// a `forbidden` error frame. Returns the newly added symbols (and whether `*`
    /// was newly added), or nil if the client is gone.
    mutating func addSubscriptions(_ id: ClientID, symbols: [String]) -> (symbols: [String], wildcard: Bool)? {
        guard let index = clients.index(forKey: id) else { return nil }
        var refused: [String] = []
        var added: [String] = []
        var overLimit: [String] = []
        var addedWildcard = false
        for symbol in symbols {
            if symbol == "*" {
                guard clients.values[index].permission.allowsWildcard else { refused.append(symbol); continue }
                if !clients.values[index].wildcard { addedWildcard = true }
                clients.values[index].wildcard = true
                wildcardClients.insert(id)
                continue
            }
            guard clients.values[index].permission.allows(symbol) else { refused.append(symbol); continue }
            guard !clients.values[index].subscriptions.contains(symbol) else { continue }
            guard clients.values[index].subscriptions.count < configuration.maxSymbolsPerClient else {
                overLimit.append(symbol)
                continue
            }
            clients.values[index].subscriptions.insert(symbol)
            subscribers[symbol, default: []].insert(id)
            added.append(symbol)
        }
        let wildcard = clients.values[index].wildcard
        if !refused.isEmpty {
            sendControl(.error(code: .forbidden, message: "not authorised for these symbols", symbols: refused), to: id)
        }
        if !overLimit.isEmpty {
            sendControl(.error(code: .badRequest, message: "at most \(configuration.maxSymbolsPerClient) symbols per client",
                               symbols: overLimit), to: id)
        }
        return (wildcard && !addedWildcard ? [] : added, addedWildcard)
    }

    mutating func sendSnapshot(of symbol: String, to id: ClientID) {
        guard let stored = latest[symbol], let index = clients.index(forKey: id) else { return }
        let frame: ServerFrame
        if let cached = stored.snapshot {
            frame = cached
        } else {
            frame = .snapshot(quote: stored.value, partition: stored.partition, offset: stored.offset)
            latest[symbol]?.snapshot = frame
        }
        clients.values[index].outbox.enqueueQuote(symbol: symbol, frame: frame)
        markDirty(at: index)
    }

    mutating func sendControl(_ frame: ServerFrame, to id: ClientID, droppable: Bool = false) {
        guard let index = clients.index(forKey: id) else { return }
        clients.values[index].outbox.enqueueControl(frame, droppable: droppable)
        markDirty(at: index)
    }

    /// Drains the client's outbox. When quotes were conflated since the client was
    /// last told, a `stats` frame with the new count leads the batch: it reaches the
    /// client before the quote that reveals the skip, so a client can tell skips the
    /// gateway made on purpose from quotes lost (the swarm's gap accounting relies on it).
    mutating func takeBatch(at index: Dictionary<ClientID, ClientState>.Index) -> [ServerFrame] {
        var frames = clients.values[index].outbox.drain()
        let state = clients.values[index]
        let conflated = state.outbox.conflatedCount + state.gate.conflatedCount
        if conflated > state.reportedConflated {
            clients.values[index].reportedConflated = conflated
            let subscribed = state.wildcard ? latest.count : state.subscriptions.count
            frames.insert(.stats(unixMillis: clock.unixMillis(), subscribed: subscribed, conflated: conflated), at: 0)
        }
        return frames
    }

    /// Keeps the newest entry per symbol, in the order of their offsets.
    static func latestPerSymbol(_ entries: [(symbol: String, frame: ServerFrame)]) -> [(symbol: String, frame: ServerFrame)] {
        var newest: [String: ServerFrame] = [:]
        for entry in entries { newest[entry.symbol] = entry.frame }
        return newest.map { ($0.key, $0.value) }.sorted { $0.frame.offset < $1.frame.offset }
    }
}
