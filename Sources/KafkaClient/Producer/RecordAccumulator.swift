import DequeModule
import KafkaProtocol
import NIOCore

/// The producer's per-partition queues of batches, as a value with no I/O: records are
/// appended, batches become ready when full or older than `linger`, are drained for
/// sending, and come back either completed (their memory is released) or for a retry
/// (they go back to the front, in sequence order).
///
/// Ordering (KIP-98 idempotence): at most `maxInFlightPerPartition` batches of one
/// partition are out at once, and a batch coming back for a retry is resent only once
/// nothing else of its partition is in flight, so batches reach the log in sequence order.
struct RecordAccumulator: Sendable {
    let batchSize: Int
    let linger: TimeAmount
    let bufferMemory: Int
    let maxInFlightPerPartition: Int

    private(set) var usedMemory = 0
    private var queues: [TopicPartition: Deque<ProducerBatch>] = [:]
    private(set) var inFlight: [TopicPartition: Int] = [:]
    private var nextSequence: [TopicPartition: Int32] = [:]
    private var nextBatchID: UInt64 = 0
    /// While set, every queued batch is ready regardless of linger (`flush()`).
    var flushing = false

    init(batchSize: Int, linger: TimeAmount, bufferMemory: Int, maxInFlightPerPartition: Int = 5) {
        self.batchSize = batchSize
        self.linger = linger
        self.bufferMemory = bufferMemory
        self.maxInFlightPerPartition = maxInFlightPerPartition
    }

    /// Queued batches plus batches in flight.
    var isEmpty: Bool {
        queues.values.allSatisfy(\.isEmpty) && inFlight.values.allSatisfy { $0 == 0 }
    }

    var queuedBatchCount: Int { queues.values.reduce(0) { $0 + $1.count } }

    func queuedBatches(of partition: TopicPartition) -> Int { queues[partition]?.count ?? 0 }

    /// Whether a record of `size` bytes fits the buffer memory now.
    func hasRoom(for size: Int) -> Bool {
        usedMemory + size <= bufferMemory || usedMemory == 0
    }

    enum AppendResult: Equatable, Sendable {
        /// Added to a batch; `batchIsFull` says the partition has a batch ready to go.
        case appended(batchIsFull: Bool)
        /// Not added: buffer memory is used up. Wait for batches to complete.
        case bufferFull
    }

    mutating func append(
        to partition: TopicPartition, timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?,
        headers: [RecordHeader] = [], completion: RecordCompletion = .none, now: NIODeadline
    ) -> AppendResult {
        let size = RecordBatchBuilder.estimatedSize(keyLength: key?.readableBytes, valueLength: value?.readableBytes, headers: headers)
        guard hasRoom(for: size) else { return .bufferFull }
        usedMemory += size
        // In place: a copy of the queue would share the open batch's buffer and
        // completion list, and the append below would copy both (quadratic per batch).
        let full = Self.append(
            into: &queues[partition, default: []], nextBatchID: &nextBatchID, batchSize: batchSize,
            partition: partition, size: size, now: now,
            timestamp: timestamp, key: key, value: value, headers: headers, completion: completion)
        return .appended(batchIsFull: full)
    }

    private static func append(
        into queue: inout Deque<ProducerBatch>, nextBatchID: inout UInt64, batchSize: Int,
        partition: TopicPartition, size: Int, now: NIODeadline,
        timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader], completion: RecordCompletion
    ) -> Bool {
        let tailIsOpen = queue.last.map { $0.attempts == 0 && $0.baseSequence == nil && $0.sizeInBytes + size <= batchSize } ?? false
        if !tailIsOpen {
            nextBatchID += 1
            queue.append(ProducerBatch(id: nextBatchID, partition: partition, createdAt: now, capacity: min(batchSize, max(size + RecordBatchHeader.size, 256))))
        }
        queue[queue.count - 1].append(timestamp: timestamp, key: key, value: value, headers: headers, reserved: size, completion: completion)
        return queue.count > 1 || queue[queue.count - 1].sizeInBytes >= batchSize
    }

    /// Partitions whose first batch may be sent now.
    func readyPartitions(now: NIODeadline) -> [TopicPartition] {
        var ready: [TopicPartition] = []
        for (partition, queue) in queues {
            guard let head = queue.first else { continue }
            let out = inFlight[partition] ?? 0
            if head.attempts > 0 {
                if out == 0 { ready.append(partition) }
                continue
            }
            guard out < maxInFlightPerPartition else { continue }
            if flushing || queue.count > 1 || head.sizeInBytes >= batchSize || head.createdAt + linger <= now {
                ready.append(partition)
            }
        }
        return ready.sorted()
    }

    /// The earliest moment a queued batch becomes ready by lingering, if any.
    func nextLingerDeadline() -> NIODeadline? {
        var earliest: NIODeadline?
        for queue in queues.values {
            guard let head = queue.first, head.attempts == 0 else { continue }
            let deadline = head.createdAt + linger
            if earliest == nil || deadline < earliest! { earliest = deadline }
        }
        return earliest
    }

    /// Takes the first batch of a ready partition for sending. When `idempotent`, a batch
    /// sent for the first time gets the partition's next sequence number.
    mutating func drain(_ partition: TopicPartition, idempotent: Bool) -> ProducerBatch? {
        guard var batch = queues[partition]?.popFirst() else { return nil }
        if idempotent && batch.baseSequence == nil {
            let sequence = nextSequence[partition, default: 0]
            batch.baseSequence = sequence
            let next = Int64(sequence) + Int64(batch.recordCount)
            nextSequence[partition] = Int32(truncatingIfNeeded: next % (Int64(Int32.max) + 1))
        }
        batch.attempts += 1
        inFlight[partition, default: 0] += 1
        return batch
    }

    /// A batch was answered (successfully or for good): its memory is free again.
    mutating func complete(_ batch: ProducerBatch) {
        inFlight[batch.partition, default: 1] -= 1
        usedMemory -= batch.reservedBytes
    }

    /// A batch comes back for a retry: it goes before every batch not yet sent, and
    /// among retried batches in sequence order.
    mutating func requeue(_ batch: ProducerBatch) {
        inFlight[batch.partition, default: 1] -= 1
        var queue = queues[batch.partition] ?? []
        var index = 0
        while index < queue.count, queue[index].attempts > 0,
              (queue[index].baseSequence ?? .max) < (batch.baseSequence ?? .max) || (batch.baseSequence == nil && queue[index].id < batch.id) {
            index += 1
        }
        queue.insert(batch, at: index)
        queues[batch.partition] = queue
    }

    /// Removes every queued batch (close without flushing, fatal errors).
    mutating func removeAllQueued() -> [ProducerBatch] {
        var removed: [ProducerBatch] = []
        for (partition, queue) in queues {
            for batch in queue {
                usedMemory -= batch.reservedBytes
                removed.append(batch)
            }
            queues[partition] = nil
        }
        return removed
    }
}
