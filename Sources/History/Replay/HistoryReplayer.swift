/// Reads a time range from the history and hands each quote to `send` at its paced time:
/// the whole of a replay except the destination (a topic, or stdout).
public struct HistoryReplayer<Clock: ReplayClock>: Sendable {
    public var store: HistoryStore
    public var speed: ReplaySpeed
    public var clock: Clock
    /// Rows read per page of the cursor.
    public var pageSize: Int

    public init(store: HistoryStore, speed: ReplaySpeed, clock: Clock, pageSize: Int = 4096) {
        self.store = store
        self.speed = speed
        self.clock = clock
        self.pageSize = pageSize
    }

    /// Replays quotes with `from <= ts <= to` (of `symbols`, when given) in ts order;
    /// returns how many were sent. Cancelling the task stops the replay between quotes.
    @discardableResult
    public func run(from: Int64, to: Int64, symbols: [String]? = nil,
                    send: (StoredQuote) async throws -> Void) async throws -> Int {
        var cursor = store.quotes(from: from, to: to, symbols: symbols, pageSize: pageSize)
        var pacer = ReplayPacer(speed: speed, clock: clock)
        var sent = 0
        while true {
            let page = try await cursor.nextPage()
            if page.isEmpty { return sent }
            for stored in page {
                try Task.checkCancellation()
                try await pacer.wait(forTimestamp: stored.quote.timestamp)
                try await send(stored)
                sent += 1
            }
        }
    }
}
