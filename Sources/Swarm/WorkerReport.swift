import Foundation

/// One line a worker process writes to its standard output: line-delimited JSON,
/// one object per line.
///
/// - `hello`: the worker is up (`clients`, `pid`);
/// - `second`: one second of the run (`second`, `connected`, `counters`, `latency`);
/// - `final`: the run is over (`counters` totals, `latency`, `catchUpLatency`);
/// - `error`: the worker gives up (`message`) — it then exits non-zero.
/// A few lines a second per worker: Foundation's JSON coders are fine here.
public struct WorkerReport: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case hello, second, final, error
    }

    public var kind: Kind
    public var worker: Int
    public var clients: Int?
    public var pid: Int32?
    public var second: Int?
    public var connected: Int?
    public var counters: SwarmCounters?
    public var latency: SerializedHistogram?
    public var catchUpLatency: SerializedHistogram?
    public var message: String?

    public init(kind: Kind, worker: Int) {
        self.kind = kind
        self.worker = worker
    }

    public static func hello(worker: Int, clients: Int, pid: Int32) -> WorkerReport {
        var report = WorkerReport(kind: .hello, worker: worker)
        report.clients = clients
        report.pid = pid
        return report
    }

    public static func second(worker: Int, _ snapshot: SecondSnapshot) -> WorkerReport {
        var report = WorkerReport(kind: .second, worker: worker)
        report.second = snapshot.second
        report.connected = snapshot.connectedClients
        report.counters = snapshot.counters
        report.latency = snapshot.latency.serialized()
        return report
    }

    public static func final(worker: Int, stats: SwarmStats) -> WorkerReport {
        var report = WorkerReport(kind: .final, worker: worker)
        report.counters = stats.totals
        report.latency = stats.latency.serialized()
        report.catchUpLatency = stats.catchUpLatency.serialized()
        return report
    }

    public static func error(worker: Int, message: String) -> WorkerReport {
        var report = WorkerReport(kind: .error, worker: worker)
        report.message = message
        return report
    }

    /// The report as one line of JSON, without the newline.
    public func line() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain Codable values of numbers and strings does not fail.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses one line from worker `worker`.
    public static func parse(line: String, worker: Int) throws(SwarmError) -> WorkerReport {
        let report: WorkerReport
        do {
            report = try JSONDecoder().decode(WorkerReport.self, from: Data(line.utf8))
        } catch {
            throw .malformedReport(worker: worker, line: line, reason: "not a report: \(error)")
        }
        switch report.kind {
        case .second:
            guard report.second != nil, report.counters != nil, report.latency != nil else {
                throw .malformedReport(worker: worker, line: line, reason: "second without second/counters/latency")
            }
        case .final:
            guard report.counters != nil, report.latency != nil else {
                throw .malformedReport(worker: worker, line: line, reason: "final without counters/latency")
            }
        case .hello, .error:
            break
        }
        return report
    }
}
