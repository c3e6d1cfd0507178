import Foundation

/// Merges the report streams of the swarm's worker processes.
///
/// A value type fed events — a report line from worker `i`, worker `i` ended
/// with a status — with no processes or pipes, so it is tested with fake worker
/// streams; `WorkerSupervisor` feeds it from real processes. Histograms are
/// merged by adding bucket counts (exact), never by averaging percentiles.
///
/// A worker is *lost* when its stream ends without a `final` report or it exits
/// with a non-zero status or a signal. A lost worker's seconds received so far
/// still count (its totals are then partial), and the summary names it.
public struct SwarmCoordinator: Sendable {
    /// How a worker process ended.
    public enum WorkerExit: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// Everything known about one worker.
    public struct WorkerState: Sendable {
        public let index: Int
        /// Clients the worker was planned with; counted even if it dies before saying hello.
        public var configuredClients: Int?
        public var clients: Int?
        public var pid: Int32?
        public var lastSecond: Int?
        public var connected = 0
        /// Sum of the seconds received (used when no `final` arrived).
        public var partialCounters = SwarmCounters()
        public var partialLatency = LatencyHistogram()
        public var finalCounters: SwarmCounters?
        public var finalLatency: LatencyHistogram?
        public var finalCatchUpLatency: LatencyHistogram?
        public var exit: WorkerExit?
        public var errorMessage: String?
        public var malformedLines = 0

        public var hasEnded: Bool { exit != nil }

        /// Why this worker counts as lost, or nil if it finished properly.
        public var lossReason: String? {
            guard let exit else { return finalCounters == nil ? "still running, no final report" : nil }
            var reasons: [String] = []
            if exit != .exited(0) { reasons.append(exit.description) }
            if finalCounters == nil { reasons.append("stream ended before the final report") }
            if let errorMessage { reasons.append("error: \(errorMessage)") }
            return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
        }
    }

    /// A worker that did not finish properly.
    public struct LostWorker: Sendable, Equatable, Codable {
        public var worker: Int
        public var reason: String
    }

    public private(set) var workers: [WorkerState]
    /// Merged per-second view of the fleet, by second of the run.
    public private(set) var timeline: [Int: SecondSnapshot] = [:]
    /// Problems seen in the streams (malformed lines and the like), in order.
    public private(set) var problems: [String] = []

    public init(workers count: Int) {
        workers = (0..<count).map { WorkerState(index: $0) }
    }

    /// Workers planned with these client counts, in order.
    public init(clientsPerWorker: [Int]) {
        workers = clientsPerWorker.enumerated().map { index, clients in
            var state = WorkerState(index: index)
            state.configuredClients = clients
            return state
        }
    }

    /// Feeds one line of worker `worker`'s standard output.
    public mutating func ingest(line: String, from worker: Int) {
        guard workers.indices.contains(worker) else {
            problems.append("line from unknown worker \(worker)")
            return
        }
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        let report: WorkerReport
        let latency: LatencyHistogram?
        do {
            report = try WorkerReport.parse(line: trimmed, worker: worker)
            latency = try report.latency.map { serialized throws(SwarmError) in try LatencyHistogram(serialized) }
        } catch {
            workers[worker].malformedLines += 1
            problems.append(error.description)
            return
        }
        switch report.kind {
        case .hello:
            workers[worker].clients = report.clients
            workers[worker].pid = report.pid
        case .second:
            guard let second = report.second, let counters = report.counters, let latency else { return }
            let snapshot = SecondSnapshot(second: second, connectedClients: report.connected ?? 0, counters: counters, latency: latency)
            workers[worker].lastSecond = second
            workers[worker].connected = snapshot.connectedClients
            workers[worker].partialCounters += counters
            workers[worker].partialLatency.add(latency)
            timeline[second, default: SecondSnapshot(second: second, connectedClients: 0, counters: SwarmCounters(), latency: LatencyHistogram())]
                .merge(snapshot)
        case .final:
            workers[worker].finalCounters = report.counters
            workers[worker].finalLatency = latency
            do {
                workers[worker].finalCatchUpLatency = try report.catchUpLatency.map { serialized throws(SwarmError) in try LatencyHistogram(serialized) }
            } catch {
                problems.append(error.description)
            }
            workers[worker].connected = 0
        case .error:
            workers[worker].errorMessage = report.message ?? "unspecified"
        }
    }

    /// Feeds a chunk of output holding whole lines.
    public mutating func ingest(lines text: String, from worker: Int) {
        for line in text.split(whereSeparator: \.isNewline) {
            ingest(line: String(line), from: worker)
        }
    }

    /// Worker `worker`'s output ended and its process exited with `exit`.
    public mutating func workerEnded(_ worker: Int, exit: WorkerExit) {
        guard workers.indices.contains(worker) else { return }
        workers[worker].exit = exit
        workers[worker].connected = 0
    }

    public var allEnded: Bool { workers.allSatisfy(\.hasEnded) }

    public var lostWorkers: [LostWorker] {
        workers.compactMap { state in
            guard state.hasEnded, let reason = state.lossReason else { return nil }
            return LostWorker(worker: state.index, reason: reason)
        }
    }

    /// Totals over all workers: a finished worker's final report, else its seconds so far.
    public var totals: SwarmCounters {
        var sum = SwarmCounters()
        for state in workers { sum += state.finalCounters ?? state.partialCounters }
        return sum
    }

    /// The fleet's latency histogram (catch-up excluded), merged exactly.
    public var latency: LatencyHistogram {
        var merged = LatencyHistogram()
        for state in workers { merged.add(state.finalLatency ?? state.partialLatency) }
        return merged
    }

    /// The catch-up deliveries' latency (from final reports only).
    public var catchUpLatency: LatencyHistogram {
        var merged = LatencyHistogram()
        for state in workers { if let histogram = state.finalCatchUpLatency { merged.add(histogram) } }
        return merged
    }

    /// Clients in the fleet: what each worker said it runs, else what it was planned with.
    public var clients: Int { workers.reduce(0) { $0 + ($1.clients ?? $1.configuredClients ?? 0) } }

    /// The live view: the newest second every running worker has reported.
    public var progress: LiveProgress {
        let running = workers.filter { !$0.hasEnded && $0.finalCounters == nil }
        let candidates = (running.isEmpty ? workers : running).compactMap(\.lastSecond)
        let second = running.isEmpty ? candidates.max() : (candidates.count == running.count ? candidates.min() : nil)
        let snapshot = second.flatMap { timeline[$0] }
        return LiveProgress(second: second,
                            connectedClients: workers.reduce(0) { $0 + $1.connected },
                            deliveriesPerSecond: snapshot?.counters.deliveries ?? 0,
                            p50Micros: snapshot?.latency.micros(atPercentile: 50) ?? 0,
                            p99Micros: snapshot?.latency.micros(atPercentile: 99) ?? 0,
                            workersRunning: running.count,
                            workersLost: lostWorkers.count)
    }

    /// The run's results, for the reports.
    public func summary(durationSeconds: Double, configuration: [String: String] = [:]) -> SwarmSummary {
        SwarmSummary(clients: clients, durationSeconds: durationSeconds, totals: totals, latency: latency,
                     catchUpLatency: catchUpLatency, timeline: timeline.keys.sorted().compactMap { timeline[$0] },
                     lostWorkers: lostWorkers, workers: workers.count, problems: problems, configuration: configuration)
    }
}

/// What the progress line shows.
public struct LiveProgress: Sendable, Equatable {
    public var second: Int?
    public var connectedClients: Int
    public var deliveriesPerSecond: UInt64
    public var p50Micros: UInt64
    public var p99Micros: UInt64
    public var workersRunning: Int
    public var workersLost: Int

    /// One line: `t=12s clients 1998 · 41230 deliveries/s · p50 1.2 ms · p99 8.4 ms`.
    public var line: String {
        var text = "t=\(second.map { "\($0 + 1)s" } ?? "-") clients \(connectedClients) · \(deliveriesPerSecond) deliveries/s · p50 \(formatMicros(p50Micros)) · p99 \(formatMicros(p99Micros))"
        if workersLost > 0 { text += " · \(workersLost) worker(s) lost" }
        return text
    }
}

/// `850 µs`, `12.3 ms`, `1.52 s`.
public func formatMicros(_ micros: UInt64) -> String {
    if micros < 1000 { return "\(micros) µs" }
    if micros < 1_000_000 { return "\(formatDecimal(Double(micros) / 1000, places: micros < 10_000 ? 2 : 1)) ms" }
    return "\(formatDecimal(Double(micros) / 1_000_000, places: 2)) s"
}

/// A number with a fixed count of decimals, without Foundation's formatters.
public func formatDecimal(_ value: Double, places: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = UInt64(scaled / scale)
    let fraction = UInt64(scaled) - whole * UInt64(scale)
    let sign = value < 0 && scaled > 0 ? "-" : ""
    guard places > 0 else { return "\(sign)\(whole)" }
    var fractionText = String(fraction)
    while fractionText.count < places { fractionText = "0" + fractionText }
    return "\(sign)\(whole).\(fractionText)"
}
