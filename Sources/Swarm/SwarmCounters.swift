/// The counters the swarm adds up, per second, per worker and for the whole run.
///
/// - `deliveries`: watched quotes accepted (in order or after a gap), catch-up included;
/// - `catchUpDeliveries`: the part of `deliveries` sent while the client was away
///   (paused or disconnected) — their latency is kept apart, see `SwarmStats`;
/// - `records`/`bytes`: everything received, watched or not;
/// - `gaps`: gap events; `missingQuotes`: quotes skipped in them (sum of seq − expected);
/// - `duplicates`, `reconnects`, `pauses`: as named.
public struct SwarmCounters: Codable, Sendable, Equatable {
    public var deliveries: UInt64 = 0
    public var catchUpDeliveries: UInt64 = 0
    public var records: UInt64 = 0
    public var bytes: UInt64 = 0
    public var gaps: UInt64 = 0
    public var missingQuotes: UInt64 = 0
    public var duplicates: UInt64 = 0
    public var reconnects: UInt64 = 0
    public var pauses: UInt64 = 0

    public init() {}

    public init(deliveries: UInt64 = 0, catchUpDeliveries: UInt64 = 0, records: UInt64 = 0, bytes: UInt64 = 0,
                gaps: UInt64 = 0, missingQuotes: UInt64 = 0, duplicates: UInt64 = 0, reconnects: UInt64 = 0, pauses: UInt64 = 0) {
        self.deliveries = deliveries
        self.catchUpDeliveries = catchUpDeliveries
        self.records = records
        self.bytes = bytes
        self.gaps = gaps
        self.missingQuotes = missingQuotes
        self.duplicates = duplicates
        self.reconnects = reconnects
        self.pauses = pauses
    }

    public static func += (lhs: inout SwarmCounters, rhs: SwarmCounters) {
        lhs.deliveries += rhs.deliveries
        lhs.catchUpDeliveries += rhs.catchUpDeliveries
        lhs.records += rhs.records
        lhs.bytes += rhs.bytes
        lhs.gaps += rhs.gaps
        lhs.missingQuotes += rhs.missingQuotes
        lhs.duplicates += rhs.duplicates
        lhs.reconnects += rhs.reconnects
        lhs.pauses += rhs.pauses
    }
}
