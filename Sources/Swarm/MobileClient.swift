/// The accounting state of one simulated mobile client, as a value type.
///
/// It knows nothing about sockets: a transport pushes `Delivery` values in and
/// `accept(_:)` says what each one meant. It keeps
/// - the watchlist, and ignores quotes for other symbols (after noting their offset);
/// - the next expected `seq` per watched symbol: the first quote seen for a symbol
///   sets the baseline, unless the client is resuming, in which case the expected
///   value carried over from before the disconnect must match; `seq < expected` is a
///   duplicate and `seq > expected` a gap of `seq - expected` quotes;
/// - the last offset seen per partition, so a reconnecting client resumes at
///   `last + 1` and sees neither gap nor duplicate.
public struct MobileClient: Sendable {
    /// Where the client is in its life; only `.connected` and `.paused` accept deliveries.
    public enum ConnectionState: Sendable, Hashable {
        case idle
        case connected
        case paused
        case disconnected
    }

    /// What one delivery meant for this client.
    public enum Outcome: Sendable, Hashable {
        /// A symbol not on the watchlist: the offset advanced, nothing else.
        case unwatched
        /// Arrived while disconnected (in flight when the connection dropped): ignored
        /// entirely, the offset does not advance so resuming fetches it again.
        case ignoredWhileDisconnected
        /// The expected quote (or the first one for a symbol).
        case inOrder
        /// `missing` quotes were skipped before this one; this one is counted.
        case gap(missing: UInt64)
        /// Already seen (`seq` below the expected value); not counted as a delivery.
        case duplicate
        /// Counted like `.inOrder`, but `skipped` quotes before it were conflated by the
        /// gateway on purpose (covered by its `stats` reports); `missing` more were not
        /// covered and are a real gap.
        case conflated(skipped: UInt64, missing: UInt64)
        /// A gateway snapshot of a watched symbol: not a delivery, a new baseline.
        /// `missing` quotes between the last one seen and the snapshot's never arrived.
        case snapshot(missing: UInt64)
    }

    public let id: Int
    public let watchlist: Set<String>
    public private(set) var state: ConnectionState = .idle
    /// Next expected `seq` per watched symbol; absent until the symbol's first quote.
    public private(set) var expectedSeq: [String: UInt64] = [:]
    /// Last offset delivered per partition (every symbol, watched or not).
    public private(set) var lastOffsets: [Int32: Int64] = [:]
    public private(set) var deliveries: UInt64 = 0
    public private(set) var gaps: UInt64 = 0
    public private(set) var missingQuotes: UInt64 = 0
    public private(set) var duplicates: UInt64 = 0
    public private(set) var reconnects: UInt64 = 0
    /// Snapshot frames accepted (WebSocket transport).
    public private(set) var snapshots: UInt64 = 0
    /// `seq` skips explained by the gateway's conflation reports.
    public private(set) var conflatedSkips: UInt64 = 0
    /// Quotes the gateway reported conflating that no skip has accounted for yet. The
    /// gateway sends the report before the quote revealing the skip, so a skip is
    /// explained exactly when credit is there.
    public private(set) var conflationCredit: UInt64 = 0
    /// Unix nanoseconds of the last (re)connect or resume; quotes sent before it and
    /// delivered after it are catch-up (see `SwarmStats`).
    public private(set) var catchUpBeforeNanos: Int64 = .min

    public init(id: Int, watchlist: some Sequence<String>) {
        self.id = id
        self.watchlist = Set(watchlist)
    }

    /// The positions to resume from: the next offset per partition already read.
    public var resumeOffsets: [Int32: Int64] {
        lastOffsets.mapValues { $0 + 1 }
    }

    /// The client (re)connected at `nowNanos`. A reconnect keeps the expected
    /// sequence numbers, so a resumed stream must continue exactly where it stopped.
    public mutating func connected(atNanos nowNanos: Int64) {
        if state == .disconnected {
            reconnects += 1
            catchUpBeforeNanos = nowNanos
        }
        state = .connected
    }

    /// The transport started reading `partition` at `offset` (a fresh subscription
    /// at the log end); the client treats the offset before it as read.
    public mutating func startedReading(partition: Int32, at offset: Int64) {
        if lastOffsets[partition] == nil {
            lastOffsets[partition] = offset - 1
        }
    }

    public mutating func disconnected() {
        state = .disconnected
    }

    /// Deliberately stopped reading (backgrounded app).
    public mutating func paused() {
        if state == .connected { state = .paused }
    }

    /// Came back to the foreground at `nowNanos`; quotes sent before that are catch-up.
    public mutating func resumed(atNanos nowNanos: Int64) {
        if state == .paused {
            state = .connected
            catchUpBeforeNanos = nowNanos
        }
    }

    /// Whether a quote sent at `timestampNanos` was published while this client was
    /// away (paused or disconnected) and is being delivered as catch-up.
    public func isCatchUp(timestampNanos: Int64) -> Bool {
        timestampNanos < catchUpBeforeNanos
    }

    /// Records of `partition` up to `offset` were read but hold no watched symbol (the
    /// transport skipped them by key). False, and nothing changes, while disconnected.
    public mutating func passedOver(partition: Int32, through offset: Int64) -> Bool {
        if state == .disconnected || state == .idle { return false }
        if let last = lastOffsets[partition], last >= offset { return true }
        lastOffsets[partition] = offset
        return true
    }

    /// Whether the client has read each of `partitions` up to the next offsets `ends`.
    public func hasRead(_ partitions: [Int32], upTo ends: [Int32: Int64]) -> Bool {
        partitions.allSatisfy { partition in
            guard let end = ends[partition] else { return true }
            return (lastOffsets[partition] ?? -1) >= end - 1
        }
    }

    /// The gateway reports `quotes` more quotes conflated for this client.
    public mutating func gatewayConflated(_ quotes: UInt64) {
        conflationCredit += quotes
    }

    private mutating func advancePosition(_ delivery: Delivery) {
        guard delivery.offset >= 0 else { return }
        if let last = lastOffsets[delivery.partition] {
            if delivery.offset > last { lastOffsets[delivery.partition] = delivery.offset }
        } else {
            lastOffsets[delivery.partition] = delivery.offset
        }
    }

    /// Accounts a gateway snapshot (the latest quote of a symbol on subscribe or
    /// after a gap). The first one of a symbol sets its baseline; one already seen
    /// changes nothing; one further on means the quotes in between never arrived
    /// (after a `gap` frame, or on resume for a partition never seen before).
    public mutating func acceptSnapshot(_ delivery: Delivery) -> Outcome {
        if state == .disconnected || state == .idle { return .ignoredWhileDisconnected }
        advancePosition(delivery)
        guard watchlist.contains(delivery.symbol) else { return .unwatched }
        snapshots += 1
        guard let expected = expectedSeq[delivery.symbol] else {
            expectedSeq[delivery.symbol] = delivery.seq &+ 1
            return .snapshot(missing: 0)
        }
        if delivery.seq < expected { return .snapshot(missing: 0) }
        expectedSeq[delivery.symbol] = delivery.seq &+ 1
        let missing = delivery.seq - expected
        if missing > 0 {
            gaps += 1
            missingQuotes += missing
        }
        return .snapshot(missing: missing)
    }

    /// Accounts one delivery.
    public mutating func accept(_ delivery: Delivery) -> Outcome {
        if state == .disconnected || state == .idle { return .ignoredWhileDisconnected }
        advancePosition(delivery)
        guard watchlist.contains(delivery.symbol) else { return .unwatched }
        guard let expected = expectedSeq[delivery.symbol] else {
            expectedSeq[delivery.symbol] = delivery.seq &+ 1
            deliveries += 1
            return .inOrder
        }
        if delivery.seq < expected {
            duplicates += 1
            return .duplicate
        }
        expectedSeq[delivery.symbol] = delivery.seq &+ 1
        deliveries += 1
        if delivery.seq > expected {
            let skipped = delivery.seq - expected
            let explained = min(skipped, conflationCredit)
            let missing = skipped - explained
            if explained > 0 {
                conflationCredit -= explained
                conflatedSkips += explained
                if missing > 0 {
                    gaps += 1
                    missingQuotes += missing
                }
                return .conflated(skipped: explained, missing: missing)
            }
            gaps += 1
            missingQuotes += missing
            return .gap(missing: missing)
        }
        return .inOrder
    }
}
