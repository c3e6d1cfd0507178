/// One worker's measurements: latency histograms, counters and the current second.
///
/// Coordinated omission. Latency is `receive − ts`, where `ts` is stamped by the
/// calculator when it sends, independently of any consumer: a stalled consumer or
/// broker therefore shows up in full in the next deliveries' latency, and nothing
/// is omitted — no `recordCorrectedValue` back-filling is needed on this side.
/// What must not pollute the fleet latency is lag a client causes on purpose: a
/// client deliberately paused in background mode (or disconnected by churn) reads
/// the quotes published meanwhile late by design. Those catch-up deliveries —
/// quotes sent before the client's last resume/reconnect — are counted as
/// deliveries but their latency goes to `catchUpLatency`, reported separately, not
/// to `latency`. Slow readers are kept in `latency`: their delay is what a user on a
/// poor link sees.
public struct SwarmStats: Sendable {
    public private(set) var latency = LatencyHistogram()
    public private(set) var catchUpLatency = LatencyHistogram()
    public private(set) var totals = SwarmCounters()
    /// The second being filled (relative to the run's epoch).
    public private(set) var currentSecond: Int
    private var secondCounters = SwarmCounters()
    private var secondLatency = LatencyHistogram()

    public init(startSecond: Int = 0) {
        currentSecond = startSecond
    }

    /// Accounts a delivery's outcome for a client; `catchUp` says whether it was sent
    /// while the client was away (see the type's discussion).
    public mutating func record(_ outcome: MobileClient.Outcome, delivery: Delivery, catchUp: Bool) {
        var delta = SwarmCounters()
        switch outcome {
        case .ignoredWhileDisconnected:
            return
        case .unwatched, .duplicate:
            if outcome == .duplicate { delta.duplicates = 1 }
        case .snapshot(let missing):
            delta.snapshots = 1
            if missing > 0 {
                delta.gaps = 1
                delta.missingQuotes = missing
            }
        case .inOrder, .gap, .conflated:
            if case .gap(let missing) = outcome {
                delta.gaps = 1
                delta.missingQuotes = missing
            }
            if case .conflated(let skipped, let missing) = outcome {
                delta.conflatedSkips = skipped
                if missing > 0 {
                    delta.gaps = 1
                    delta.missingQuotes = missing
                }
            }
            delta.deliveries = 1
            if catchUp {
                delta.catchUpDeliveries = 1
                catchUpLatency.record(nanos: delivery.latencyNanos)
            } else {
                latency.record(nanos: delivery.latencyNanos)
                secondLatency.record(nanos: delivery.latencyNanos)
            }
        }
        delta.records = 1
        delta.bytes = UInt64(max(0, delivery.bytes))
        add(delta)
    }

    /// Records received but not watched, skipped by key without a `Delivery` each.
    public mutating func recordPassedOver(records: Int, bytes: Int) {
        var delta = SwarmCounters()
        delta.records = UInt64(max(0, records))
        delta.bytes = UInt64(max(0, bytes))
        add(delta)
    }

    public mutating func recordReconnect() {
        var delta = SwarmCounters()
        delta.reconnects = 1
        add(delta)
    }

    /// A `gap` frame from the gateway.
    public mutating func recordGatewayGap() {
        var delta = SwarmCounters()
        delta.gatewayGaps = 1
        add(delta)
    }

    /// The gateway reported `quotes` more conflated quotes.
    public mutating func recordGatewayConflated(_ quotes: UInt64) {
        var delta = SwarmCounters()
        delta.conflated = quotes
        add(delta)
    }

    public mutating func recordPause() {
        var delta = SwarmCounters()
        delta.pauses = 1
        add(delta)
    }

    private mutating func add(_ delta: SwarmCounters) {
        totals += delta
        secondCounters += delta
    }

    /// Closes the current second and starts `next`; returns what the closed second saw.
    public mutating func closeSecond(connectedClients: Int, next: Int? = nil) -> SecondSnapshot {
        let snapshot = SecondSnapshot(second: currentSecond, connectedClients: connectedClients,
                                      counters: secondCounters, latency: secondLatency)
        currentSecond = next ?? currentSecond + 1
        secondCounters = SwarmCounters()
        secondLatency = LatencyHistogram()
        return snapshot
    }
}

/// What one worker (or, merged, the fleet) saw in one second of the run.
public struct SecondSnapshot: Sendable, Equatable {
    public var second: Int
    public var connectedClients: Int
    public var counters: SwarmCounters
    /// Latency of the second's deliveries, catch-up excluded.
    public var latency: LatencyHistogram

    public init(second: Int, connectedClients: Int, counters: SwarmCounters, latency: LatencyHistogram) {
        self.second = second
        self.connectedClients = connectedClients
        self.counters = counters
        self.latency = latency
    }

    /// Adds another worker's view of the same second.
    public mutating func merge(_ other: SecondSnapshot) {
        connectedClients += other.connectedClients
        counters += other.counters
        latency.add(other.latency)
    }
}
