import NIOCore

/// How many replicas must have a batch before the broker answers (`acks`).
public enum Acks: Int16, Sendable, Hashable {
    /// The broker sends no response; offsets are unknown (-1).
    case none = 0
    /// The leader wrote the batch.
    case leader = 1
    /// Every in-sync replica wrote the batch.
    case all = -1
}

/// Producer settings; names follow the Java client's where there is one.
public struct ProducerConfiguration: Sendable {
    /// How many replicas must have a batch before it counts as sent (default `.all`). Set it through `init` so that
    /// `idempotent` stays consistent: idempotence needs `.all`.
    public var acks: Acks = .all
    /// KIP-98 idempotence: a producer id and per-partition sequence numbers let the broker
    /// drop the duplicates that retries create. Needs `acks = .all`.
    public var idempotent = true
    /// How long a batch waits for more records before it is sent (`linger.ms`).
    public var linger: TimeAmount = .milliseconds(5)
    /// Bytes at which a batch is sent without waiting (`batch.size`).
    public var batchSize = 16 * 1024
    /// Bytes of records waiting to be sent before `send` suspends (`buffer.memory`).
    public var bufferMemory = 32 * 1024 * 1024
    /// Batches of one partition in flight at once (`max.in.flight.requests.per.connection`, ≤ 5 for idempotence).
    public var maxInFlightPerPartition = 5
    /// Sends of one batch before its records fail.
    public var maxAttempts = 100
    /// The broker-side timeout of a Produce request.
    public var produceTimeoutMs: Int32 = 30_000
    /// Wait before a failed batch is sent again (`retry.backoff.ms`).
    public var retryBackoff: TimeAmount = .milliseconds(100)

    /// The defaults listed on each property. `idempotent` is turned off unless `acks` is `.all`.
    public init(acks: Acks = .all, idempotent: Bool = true) {
        self.acks = acks
        self.idempotent = idempotent && acks == .all
    }
}
