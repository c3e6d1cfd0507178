import Synchronization

/// The numbers behind `/api/stats`, `/metrics` and the dashboard's system panels.
///
/// The gateway fills in its own rates once a second from the hub's counters; the
/// lead's wiring sets the external panels (swarm latency, sink lag) whenever it
/// learns them. Thread-safe: a mutex guards a small value.
public final class GatewayStats: Sendable {
    /// One reading of everything, as served.
    public struct Snapshot: Sendable, Hashable {
        public var counters = HubCounters()
        /// Quotes published into the hub per second, over the last sampling interval.
        public var quotesPerSecond: Double = 0
        /// Frames handed to clients per second, over the last sampling interval.
        public var framesPerSecond: Double = 0
        /// End-to-end latency the swarm measured, in milliseconds.
        public var swarmP50Millis: Double?
        public var swarmP99Millis: Double?
        /// How many records the history sink is behind the log end.
        public var sinkLag: Int64?
    }

    private struct State {
        var snapshot = Snapshot()
        var lastSample: (nanos: UInt64, quotesIn: UInt64, framesOut: UInt64)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Sets (or clears, with nil) the swarm latency panel.
    public func setSwarmLatency(p50Millis: Double?, p99Millis: Double?) {
        state.withLock {
            $0.snapshot.swarmP50Millis = p50Millis
            $0.snapshot.swarmP99Millis = p99Millis
        }
    }

    /// Sets (or clears, with nil) the sink lag panel, in records.
    public func setSinkLag(_ records: Int64?) {
        state.withLock { $0.snapshot.sinkLag = records }
    }

    /// Takes the hub's counters at monotonic time `nanos` and updates the rates.
    public func record(_ counters: HubCounters, atNanos nanos: UInt64) {
        state.withLock { state in
            if let last = state.lastSample, nanos > last.nanos {
                let seconds = Double(nanos - last.nanos) / 1e9
                state.snapshot.quotesPerSecond = Double(counters.quotesIn &- last.quotesIn) / seconds
                state.snapshot.framesPerSecond = Double(counters.framesOut &- last.framesOut) / seconds
            }
            state.snapshot.counters = counters
            state.lastSample = (nanos, counters.quotesIn, counters.framesOut)
        }
    }

    public var snapshot: Snapshot { state.withLock { $0.snapshot } }
}

extension GatewayStats.Snapshot {
    /// The `/api/stats` JSON object.
    public var json: String {
        func number(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "null" }
            return String(Double(Int64((value * 100).rounded())) / 100)
        }
        return "{\"clients\":\(counters.clients),\"symbols\":\(counters.symbols)"
            + ",\"quotesPerSecond\":\(number(quotesPerSecond)),\"framesPerSecond\":\(number(framesPerSecond))"
            + ",\"quotesIn\":\(counters.quotesIn),\"framesOut\":\(counters.framesOut),\"conflated\":\(counters.conflated)"
            + ",\"resumesReplayed\":\(counters.resumesReplayed),\"resumeGaps\":\(counters.resumeGaps)"
            + ",\"swarm\":{\"p50Millis\":\(number(swarmP50Millis)),\"p99Millis\":\(number(swarmP99Millis))}"
            + ",\"sinkLag\":\(sinkLag.map(String.init) ?? "null")}"
    }

    /// The `/metrics` body in the Prometheus text exposition format.
    public var prometheusText: String {
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            lines.append("\(name) \(value)")
        }
        metric("tickstream_gateway_clients", "gauge", "Clients connected.", String(counters.clients))
        metric("tickstream_gateway_symbols", "gauge", "Symbols with a known latest quote.", String(counters.symbols))
        metric("tickstream_gateway_quotes_in_total", "counter", "Quotes published into the hub.", String(counters.quotesIn))
        metric("tickstream_gateway_stale_quotes_total", "counter", "Re-delivered quotes ignored.", String(counters.staleQuotes))
        metric("tickstream_gateway_frames_out_total", "counter", "Frames handed to client connections.", String(counters.framesOut))
        metric("tickstream_gateway_conflated_total", "counter", "Quotes replaced by a newer one before sending.", String(counters.conflated))
        metric("tickstream_gateway_resumes_replayed_total", "counter", "Resumes served from the log.", String(counters.resumesReplayed))
        metric("tickstream_gateway_resume_gaps_total", "counter", "Resumes answered with a gap.", String(counters.resumeGaps))
        if let swarmP50Millis {
            metric("tickstream_swarm_latency_p50_milliseconds", "gauge", "Swarm end-to-end latency p50.", String(swarmP50Millis))
        }
        if let swarmP99Millis {
            metric("tickstream_swarm_latency_p99_milliseconds", "gauge", "Swarm end-to-end latency p99.", String(swarmP99Millis))
        }
        if let sinkLag {
            metric("tickstream_sink_lag_records", "gauge", "Records the history sink is behind.", String(sinkLag))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
