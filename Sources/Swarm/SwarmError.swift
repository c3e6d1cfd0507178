/// What can go wrong in the swarm, with enough context to act on.
public enum SwarmError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedHistogram(String)
    case malformedReport(worker: Int, line: String, reason: String)
    case transportUnavailable(String)
    /// A piece the lead wires in (transport, symbol list) is not there yet.
    case notWired(String)
    case invalidConfiguration(String)
    case spawnFailed(worker: Int, reason: String)

    public var description: String {
        switch self {
        case .malformedHistogram(let reason): "malformed histogram: \(reason)"
        case .malformedReport(let worker, let line, let reason): "worker \(worker) sent a malformed report (\(reason)): \(line.prefix(200))"
        case .transportUnavailable(let name): "transport '\(name)' is not available in this build"
        case .notWired(let what): "\(what) is not wired into swarm yet"
        case .invalidConfiguration(let reason): "invalid swarm configuration: \(reason)"
        case .spawnFailed(let worker, let reason): "could not start worker \(worker): \(reason)"
        }
    }
}
