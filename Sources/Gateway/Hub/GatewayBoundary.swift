/// The gateway's boundary with the rest of tickstream.
///
/// The gateway never talks to Kafka or SQLite itself: the lead wires these small
/// protocols to the Kafka client and the History store. Every quote value crossing
/// the boundary is the raw JSON record value exactly as the pricer produced it.

/// One record read back from the `prices` log.
public struct LogRecord: Sendable, Hashable {
    /// Offset of the record in its partition.
    public var offset: Int64
    /// The record key (the quote's symbol).
    public var symbol: String
    /// The raw quote JSON as produced.
    public var value: [UInt8]

    public init(offset: Int64, symbol: String, value: [UInt8]) {
        self.offset = offset
        self.symbol = symbol
        self.value = value
    }
}

/// What a `QuoteLogReader` found at the requested position.
public enum LogReadResult: Sendable, Hashable {
    /// Records at or after the requested offset, in offset order, already filtered to
    /// the requested symbols. An empty array means the reader has reached the end of
    /// the log.
    case records([LogRecord])
    /// The requested offset is no longer retained (older than the log start offset).
    case outOfRange
}

/// Reads missed quotes back from the log to serve a client's resume token.
public protocol QuoteLogReader: Sendable {
    /// Records of `partition` from `fromOffset` on whose symbol is in `symbols`,
    /// at most `limit` of them, in offset order. An empty `symbols` set means every
    /// symbol (a client subscribed to `*`). Returning fewer than `limit` records
    /// tells the gateway the end of the log was reached.
    func read(partition: Int32, fromOffset: Int64, symbols: Set<String>, limit: Int) async throws -> LogReadResult
}

/// The latest quote of one symbol and, when known, where it sits in the topic the hub
/// is fed from.
public struct LatestQuote: Sendable, Hashable {
    public var symbol: String
    /// The quote's partition (a compacted copy keyed alike has the same one).
    public var partition: Int32
    /// Its offset in the feed's topic, or nil when unknown: a quote read from the
    /// compacted `prices.latest` has that topic's offset, which says nothing about
    /// where the quote sits in `prices`, so it must not become a resume position.
    public var offset: Int64?
    /// The raw quote JSON as produced.
    public var value: [UInt8]

    public init(symbol: String, partition: Int32, offset: Int64?, value: [UInt8]) {
        self.symbol = symbol
        self.partition = partition
        self.offset = offset
        self.value = value
    }
}

/// Source of the last known quote per symbol at startup (for example the compacted
/// `prices.latest` topic), so that the first subscribers get a snapshot at once.
public protocol LatestQuotesSource: Sendable {
    func latestQuotes() async throws -> [LatestQuote]
}

/// History lookups behind `/api/history`.
public protocol HistoryQuerying: Sendable {
    /// Quotes of `symbol` with `ts >= sinceNs`, oldest first, at most `limit`, each
    /// a JSON object (the stored quote JSON).
    func history(symbol: String, sinceNs: Int64, limit: Int) async throws -> [[UInt8]]
}
