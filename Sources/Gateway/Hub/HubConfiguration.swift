import Foundation

/// Tuning of a `QuoteHub`.
public struct HubConfiguration: Sendable, Hashable {
    /// Quote frames queued per client before its quotes are conflated to the latest
    /// per symbol.
    public var queueBound: Int
    /// Default cap on updates per symbol per second for each client; 0 = no cap.
    /// A client may ask for a lower cap, never a higher one.
    public var maxRate: Int
    /// Control frames (gap, error, stats) queued per client.
    public var controlCapacity: Int
    /// Most symbols one client may subscribe to.
    public var maxSymbolsPerClient: Int
    /// Records asked of the log reader per read while resuming.
    public var resumeReadBatch: Int
    /// Most records replayed for one resume; past that the client gets gap + snapshot.
    public var maxResumeRecords: Int

    public init(
        queueBound: Int = 256,
        maxRate: Int = 0,
        controlCapacity: Int = 32,
        maxSymbolsPerClient: Int = 2_000,
        resumeReadBatch: Int = 500,
        maxResumeRecords: Int = 10_000
    ) {
        self.queueBound = queueBound
        self.maxRate = maxRate
        self.controlCapacity = controlCapacity
        self.maxSymbolsPerClient = maxSymbolsPerClient
        self.resumeReadBatch = resumeReadBatch
        self.maxResumeRecords = maxResumeRecords
    }
}

/// The hub's two clocks, injectable so tests are deterministic.
public struct HubClock: Sendable {
    /// Monotonic time in nanoseconds (rate caps).
    public var monotonicNanos: @Sendable () -> UInt64
    /// Wall-clock Unix time in milliseconds (stats frames).
    public var unixMillis: @Sendable () -> Int64

    public init(monotonicNanos: @escaping @Sendable () -> UInt64, unixMillis: @escaping @Sendable () -> Int64) {
        self.monotonicNanos = monotonicNanos
        self.unixMillis = unixMillis
    }

    /// The system clocks.
    public static var system: HubClock {
        let start = ContinuousClock.now
        return HubClock(
            monotonicNanos: {
                let elapsed = start.duration(to: .now).components
                return UInt64(elapsed.seconds) &* 1_000_000_000 &+ UInt64(elapsed.attoseconds / 1_000_000_000)
            },
            unixMillis: { Int64(Date().timeIntervalSince1970 * 1000) }
        )
    }
}

/// Identifies one connected client of a hub.
public struct ClientID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public var description: String { "client-\(rawValue)" }
}

/// Running totals of a hub, for `/api/stats` and `/metrics`.
public struct HubCounters: Sendable, Hashable {
    /// Clients connected now.
    public var clients: Int
    /// Symbols with a known latest quote.
    public var symbols: Int
    /// Quotes published into the hub.
    public var quotesIn: UInt64
    /// Quotes ignored because their offset was not past the partition's last one.
    public var staleQuotes: UInt64
    /// Frames handed to client connections.
    public var framesOut: UInt64
    /// Quotes replaced by a newer quote of the same symbol before reaching a client.
    public var conflated: UInt64
    /// Resume requests served from the log / answered with a gap.
    public var resumesReplayed: UInt64
    public var resumeGaps: UInt64

    public init(clients: Int = 0, symbols: Int = 0, quotesIn: UInt64 = 0, staleQuotes: UInt64 = 0, framesOut: UInt64 = 0,
                conflated: UInt64 = 0, resumesReplayed: UInt64 = 0, resumeGaps: UInt64 = 0) {
        self.clients = clients
        self.symbols = symbols
        self.quotesIn = quotesIn
        self.staleQuotes = staleQuotes
        self.framesOut = framesOut
        self.conflated = conflated
        self.resumesReplayed = resumesReplayed
        self.resumeGaps = resumeGaps
    }
}
