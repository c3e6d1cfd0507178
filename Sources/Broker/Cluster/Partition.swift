import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A topic partition as the request handlers see it: the log behind a lock, and the
/// long-polling fetches waiting on it. Any event loop may call in.
final class Partition: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.
    let topic: String
    let index: Int32
    private let lock = NIOLock()
    private let log: PartitionLog
    private var waiters = FetchWaiterList()

    init(topic: String, index: Int32, log: PartitionLog) {
        self.topic = topic
        self.index = index
        self.log = log
    }

    struct Offsets: Sendable {
        var logStartOffset: Int64
        var highWatermark: Int64
    }

    var offsets: Offsets {
        lock.withLock { Offsets(logStartOffset: log.logStartOffset, highWatermark: log.logEndOffset) }
    }

    var sizeInBytes: Int { lock.withLock { log.sizeInBytes } }

    /// Appends and wakes the fetches the new bytes satisfy.
    func append(_ records: ByteBuffer, now: Int64) throws(AppendError) -> AppendResult {
        let (result, satisfied): (AppendResult, [FetchWaiter]) = try locked { () throws(AppendError) in
            let result = try log.append(records, now: now)
            return (result, waiters.dataArrived(bytes: result.bytes))
        }
        satisfied.fireGroupedByEventLoop()
        return result
    }

    struct ReadResult {
        var records: ByteBuffer?
        var offsets: Offsets
    }

    func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool) -> Result<ReadResult, ReadError> {
        lock.withLock {
            let offsets = Offsets(logStartOffset: log.logStartOffset, highWatermark: log.logEndOffset)
            do throws(ReadError) {
                let records = try log.read(from: offset, maxBytes: maxBytes, minOneBatch: minOneBatch)
                return .success(ReadResult(records: records, offsets: offsets))
            } catch {
                return .failure(error)
            }
        }
    }

    func addWaiter(_ waiter: FetchWaiter) {
        lock.withLock { waiters.add(waiter) }
    }

    func offset(forTimestamp timestamp: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        try lock.withLock { try log.offset(forTimestamp: timestamp) }
    }

    func offsetOfMaxTimestamp() throws -> (offset: Int64, timestamp: Int64)? {
        try lock.withLock { try log.offsetOfMaxTimestamp() }
    }

    func deleteRecords(before offset: Int64) throws(ReadError) -> Int64 {
        try locked { () throws(ReadError) in try log.deleteRecords(before: offset) }
    }

    /// Compacts the closed segments (cleanup.policy=compact). Holds the partition for the
    /// duration: appends and fetches to this partition wait; others do not.
    func compact(now: Int64, force: Bool = false) throws -> CompactionResult? {
        try lock.withLock { try log.compact(now: now, force: force) }
    }

    func applyRetention(now: Int64) throws -> Int {
        try lock.withLock { try log.applyRetention(now: now) }
    }

    /// Makes what is appended durable; called off the event loops (fsync blocks). The fsyncs run outside the lock, on duplicated
    /// descriptors, so appends and fetches of this partition go on while the disk works.
    func flush() throws -> Int64 {
        lock.withLock { beforeFlushHook }?()
        guard let pending = try lock.withLock({ try log.beginFlush() }) else { return flushedOffset }
        try pending.sync()
        return lock.withLock { log.endFlush(pending) }
    }

    private var beforeFlushHook: (@Sendable () -> Void)?

    /// Runs at the start of each `flush()`, outside the partition's lock. Nil in the broker;
    /// tests slow the fsync down with it to tell "acknowledged after the fsync" from
    /// "fsync'd soon after the ack".
    var beforeFlush: (@Sendable () -> Void)? {
        get { lock.withLock { beforeFlushHook } }
        set { lock.withLock { beforeFlushHook = newValue } }
    }

    var flushedOffset: Int64 { lock.withLock { log.flushedOffset } }

    /// The fsyncs `flush()` has done on this partition's log (the durability policy's seam for tests).
    var flushCount: Int { lock.withLock { log.flushCount } }

    private var lastFlushAt: Int64 = 0

    /// True when there is unflushed data and `interval` ms passed since the last flush.
    func flushIsDue(now: Int64, interval: Int64) -> Bool {
        lock.withLock {
            guard !log.isClosed, log.logEndOffset > log.flushedOffset, now - lastFlushAt >= interval else { return false }
            lastFlushAt = now
            return true
        }
    }

    func updateConfig(_ config: LogConfig) {
        lock.withLock { log.updateConfig(config) }
    }

    /// Wakes every waiting fetch (shutdown, deletion) so it answers with what there is.
    func wakeAllWaiters() {
        let all = lock.withLock { waiters.removeAll() }
        for waiter in all { waiter.eventLoop.execute { waiter.expire() } }
    }

    func close() {
        lock.withLock { log.close() }
        wakeAllWaiters()
    }

    func delete() throws {
        try lock.withLock { try log.delete() }
        wakeAllWaiters()
    }

    /// `withLock` with typed throws (NIOLock's is `rethrows`, which erases the error type).
    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs `body` with exclusive access to the log (compaction, producer state).
    func withLog<T>(_ body: (PartitionLog) throws -> T) rethrows -> T {
        try lock.withLock { try body(log) }
    }
}
