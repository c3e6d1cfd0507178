/// The counters the swarm adds up, per second, per worker and for the whole run.
///
/// - `deliveries`: watched quotes accepted (in order or after a gap), catch-up included;
/// - `catchUpDeliveries`: the part of `deliveries` sent while the client was away
///   (paused or disconnected) — their latency is kept apart, see `SwarmStats`;
/// - `records`/`bytes`: everything received, watched or not;
/// - `gaps`: gap events; `missingQuotes`: quotes skipped in them (sum of seq − expected);
/// - `duplicates`, `reconnects`, `pauses`: as named;
/// - WebSocket only: `snapshots` (snapshot frames, not deliveries), `gatewayGaps`
///   (`gap` frames: the gateway could not replay what a resuming client missed),
///   `conflated` (quotes the gateway reported replacing for slow clients) and
///   `conflatedSkips` (`seq` skips those reports explain — not in `gaps`).
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
    public var snapshots: UInt64 = 0
    public var gatewayGaps: UInt64 = 0
    public var conflated: UInt64 = 0
    public var conflatedSkips: UInt64 = 0

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

    private enum CodingKeys: String, CodingKey {
        case deliveries, catchUpDeliveries, records, bytes, gaps, missingQuotes, duplicates, reconnects, pauses
        case snapshots, gatewayGaps, conflated, conflatedSkips
    }

    /// Absent fields read as 0, so reports from a worker without the WebSocket
    /// counters still parse.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value(_ key: CodingKeys) throws -> UInt64 { try container.decodeIfPresent(UInt64.self, forKey: key) ?? 0 }
        deliveries = try value(.deliveries)
        catchUpDeliveries = try value(.catchUpDeliveries)
        records = try value(.records)
        bytes = try value(.bytes)
        gaps = try value(.gaps)
        missingQuotes = try value(.missingQuotes)
        duplicates = try value(.duplicates)
        reconnects = try value(.reconnects)
        pauses = try value(.pauses)
        snapshots = try value(.snapshots)
        gatewayGaps = try value(.gatewayGaps)
        conflated = try value(.conflated)
        conflatedSkips = try value(.conflatedSkips)
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
        lhs.snapshots += rhs.snapshots
        lhs.gatewayGaps += rhs.gatewayGaps
        lhs.conflated += rhs.conflated
        lhs.conflatedSkips += rhs.conflatedSkips
    }
}
