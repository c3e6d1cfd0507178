import Foundation

/// The results of a swarm run, merged over every worker, and its text and JSON
/// forms (`SwarmHTMLReport` draws the page).
public struct SwarmSummary: Sendable {
    public var clients: Int
    public var durationSeconds: Double
    public var totals: SwarmCounters
    /// Latency of live deliveries (catch-up excluded, see `SwarmStats`).
    public var latency: LatencyHistogram
    public var catchUpLatency: LatencyHistogram
    /// The fleet, second by second.
    public var timeline: [SecondSnapshot]
    public var lostWorkers: [SwarmCoordinator.LostWorker]
    public var workers: Int
    public var problems: [String]
    /// The run's settings as given on the command line, for the record.
    public var configuration: [String: String]

    public init(clients: Int, durationSeconds: Double, totals: SwarmCounters, latency: LatencyHistogram,
                catchUpLatency: LatencyHistogram, timeline: [SecondSnapshot], lostWorkers: [SwarmCoordinator.LostWorker],
                workers: Int, problems: [String] = [], configuration: [String: String] = [:]) {
        self.clients = clients
        self.durationSeconds = durationSeconds
        self.totals = totals
        self.latency = latency
        self.catchUpLatency = catchUpLatency
        self.timeline = timeline
        self.lostWorkers = lostWorkers
        self.workers = workers
        self.problems = problems
        self.configuration = configuration
    }

    /// The transport the run used, from the configuration: `kafka` or `ws`.
    public var transport: String { configuration["via"] ?? "kafka" }

    /// The transport in words, with the address it read from.
    public var transportDescription: String {
        switch transport {
        case "ws": return "ws: WebSocket clients of the gateway at \(configuration["gateway"] ?? "?")"
        case "kafka": return "kafka: direct consumers of \(configuration["bootstrap"] ?? "?")"
        default: return transport
        }
    }

    /// Whether the WebSocket counters mean anything for this run.
    var showsGatewayCounters: Bool {
        transport == "ws" || totals.snapshots + totals.gatewayGaps + totals.conflated + totals.conflatedSkips > 0
    }

    public var deliveriesPerSecond: Double {
        durationSeconds > 0 ? Double(totals.deliveries) / durationSeconds : 0
    }

    public var bytesPerSecond: Double {
        durationSeconds > 0 ? Double(totals.bytes) / durationSeconds : 0
    }

    /// The percentiles every report shows, as (label, percentile).
    public static let reportedPercentiles: [(label: String, percentile: Double)] = [
        ("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9),
    ]

    /// The human summary printed at the end of a run.
    public func text() -> String {
        var lines: [String] = []
        lines.append("swarm: \(clients) clients in \(workers) worker process(es) for \(formatDecimal(durationSeconds, places: 1)) s")
        lines.append("  transport    \(transportDescription)")
        lines.append("  deliveries   \(totals.deliveries)  (\(formatDecimal(deliveriesPerSecond, places: 1))/s; \(totals.catchUpDeliveries) catch-up)")
        lines.append("  received     \(totals.records) records, \(totals.bytes) bytes (\(formatBytes(bytesPerSecond))/s)")
        let percentiles = Self.reportedPercentiles.map { "\($0.label) \(formatMicros(latency.micros(atPercentile: $0.percentile)))" }
        lines.append("  latency      " + (percentiles + ["max \(formatMicros(latency.maxMicros))"]).joined(separator: "  "))
        if !catchUpLatency.isEmpty {
            lines.append("  catch-up     p50 \(formatMicros(catchUpLatency.micros(atPercentile: 50)))  p99 \(formatMicros(catchUpLatency.micros(atPercentile: 99)))  max \(formatMicros(catchUpLatency.maxMicros))  (after deliberate pauses/reconnects; not in latency above)")
        }
        lines.append("  gaps         \(totals.gaps) (\(totals.missingQuotes) quotes missing)")
        lines.append("  duplicates   \(totals.duplicates)")
        if showsGatewayCounters {
            lines.append("  gateway      \(totals.snapshots) snapshots, \(totals.gatewayGaps) gap frames, \(totals.conflated) quotes conflated for slow clients (\(totals.conflatedSkips) seq skips explained by it; not in gaps)")
        }
        lines.append("  reconnects   \(totals.reconnects)   pauses \(totals.pauses)")
        lines.append("  workers lost \(lostWorkers.count)")
        for lost in lostWorkers {
            lines.append("    worker \(lost.worker): \(lost.reason) — its figures above are partial")
        }
        for problem in problems.prefix(5) {
            lines.append("  problem: \(problem)")
        }
        return lines.joined(separator: "\n")
    }

    private func histogramObject(_ histogram: LatencyHistogram) -> [String: Any] {
        var object: [String: Any] = [
            "count": histogram.count,
            "clamped": histogram.clamped,
            "max": histogram.maxMicros,
            "mean": histogram.meanMicros.isFinite ? histogram.meanMicros : 0,
        ]
        for (label, percentile) in Self.reportedPercentiles {
            object[label.replacingOccurrences(of: ".", with: "_")] = histogram.micros(atPercentile: percentile)
        }
        return object
    }

    /// Every figure of the run as a JSON-compatible object (`--report`).
    public func jsonObject() -> [String: Any] {
        let serialized = latency.serialized()
        return [
            "clients": clients,
            "workers": workers,
            "durationSeconds": durationSeconds,
            "deliveries": totals.deliveries,
            "catchUpDeliveries": totals.catchUpDeliveries,
            "records": totals.records,
            "bytes": totals.bytes,
            "deliveriesPerSecond": deliveriesPerSecond,
            "bytesPerSecond": bytesPerSecond,
            "gaps": totals.gaps,
            "missingQuotes": totals.missingQuotes,
            "duplicates": totals.duplicates,
            "reconnects": totals.reconnects,
            "pauses": totals.pauses,
            "transport": transport,
            "snapshots": totals.snapshots,
            "gatewayGaps": totals.gatewayGaps,
            "conflated": totals.conflated,
            "conflatedSkips": totals.conflatedSkips,
            "workersLost": lostWorkers.count,
            "lostWorkers": lostWorkers.map { ["worker": $0.worker, "reason": $0.reason] as [String: Any] },
            "latencyMicros": histogramObject(latency),
            "catchUpLatencyMicros": histogramObject(catchUpLatency),
            "histogram": [
                "unit": "microseconds",
                "lowestDiscernibleValue": LatencyHistogram.lowestMicros,
                "highestTrackableValue": LatencyHistogram.highestMicros,
                "significantDigits": 3,
                "totalCount": serialized.totalCount,
                "buckets": serialized.buckets,
                "percentiles": latency.distribution().map {
                    ["percentile": $0.percentile, "micros": $0.micros, "totalCount": $0.totalCount] as [String: Any]
                },
            ] as [String: Any],
            "timeline": timeline.map { second -> [String: Any] in
                [
                    "second": second.second,
                    "connected": second.connectedClients,
                    "deliveries": second.counters.deliveries,
                    "bytes": second.counters.bytes,
                    "gaps": second.counters.gaps,
                    "duplicates": second.counters.duplicates,
                    "reconnects": second.counters.reconnects,
                    "conflated": second.counters.conflated,
                    "p50Micros": second.latency.micros(atPercentile: 50),
                    "p99Micros": second.latency.micros(atPercentile: 99),
                ]
            },
            "configuration": configuration,
            "problems": problems,
        ]
    }

    /// The JSON report, pretty-printed with sorted keys.
    public func jsonData() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject(), options: [.prettyPrinted, .sortedKeys])
    }
}

/// `812 B`, `12.4 KiB`, `3.10 MiB`.
public func formatBytes(_ bytes: Double) -> String {
    if bytes < 1024 { return "\(formatDecimal(bytes, places: 0)) B" }
    if bytes < 1024 * 1024 { return "\(formatDecimal(bytes / 1024, places: 1)) KiB" }
    return "\(formatDecimal(bytes / (1024 * 1024), places: 2)) MiB"
}
