import KafkaClient
import Synchronization

/// What this sink process may write right now: the partitions it has claimed in SQLite,
/// under which member id and generation, and a version bumped by every change of claims
/// or consumer positions.
///
/// The version is how the write loop tells stale records from fresh ones: a batch of
/// records polled while the version moved may come from before a seek, so it is dropped
/// and the partitions re-sought to the offsets stored in SQLite (the only source of truth).
/// Shared by the group's rebalance callbacks and the write loop, hence the mutex.
final class SinkOwnership: Sendable {
    struct Claims: Sendable {
        var owner = ""
        var generation: Int32 = -1
        var partitions: Set<TopicPartition> = []
        var version: UInt64 = 0
    }

    private let state = Mutex(Claims())

    var snapshot: Claims { state.withLock { $0 } }
    var version: UInt64 { state.withLock { $0.version } }

    /// Installs the claims of a new generation. With `ifVersion`, only when the claims are
    /// still at that version (a takeover decided on them must not replace claims a
    /// rebalance installed meanwhile). Returns whether it installed.
    @discardableResult
    func install(owner: String, generation: Int32, partitions: [TopicPartition], ifVersion expected: UInt64? = nil) -> Bool {
        state.withLock {
            if let expected, $0.version != expected { return false }
            $0.owner = owner
            $0.generation = generation
            $0.partitions = Set(partitions)
            $0.version &+= 1
            return true
        }
    }

    /// Drops every claim (partitions revoked, or a claim failed); with `ifVersion`, only
    /// when the claims are still at that version. Returns whether it cleared.
    @discardableResult
    func clear(ifVersion expected: UInt64? = nil) -> Bool {
        state.withLock {
            if let expected, $0.version != expected { return false }
            $0.partitions = []
            $0.version &+= 1
            return true
        }
    }

    /// Stops writing one partition (it was fenced by a newer owner).
    func drop(_ partition: TopicPartition) {
        state.withLock {
            $0.partitions.remove(partition)
            $0.version &+= 1
        }
    }

    /// Marks every record polled so far as stale (after the write loop re-sought).
    func bump() {
        state.withLock { $0.version &+= 1 }
    }
}
