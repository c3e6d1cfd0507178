import KafkaProtocol
import NIOCore

/// Where a produced record was stored.
public struct RecordMetadata: Hashable, Sendable {
    /// The topic the record was sent to.
    public var topic: String
    /// The partition the record went to: the one asked for, else murmur2 of the key, else round robin.
    public var partition: Int32
    /// The record's offset; -1 with acks=0, where the broker says nothing.
    public var offset: Int64
    /// The record's timestamp (the broker's log-append time for such topics).
    public var timestamp: Int64

    /// Where a record was stored (the producer builds these; public for tests and adapters).
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
    }
}

/// How the sender of one record learns its fate.
enum RecordCompletion: Sendable {
    case none
    case continuation(CheckedContinuation<RecordMetadata, any Error>)
    case callback(@Sendable (Result<RecordMetadata, any Error>) -> Void)

    func complete(_ result: Result<RecordMetadata, any Error>) {
        switch self {
        case .none: break
        case let .continuation(continuation): continuation.resume(with: result)
        case let .callback(callback): callback(result)
        }
    }
}

/// Records of one partition collected into one record batch, with what is needed to
/// answer each record's sender and to retry the batch unchanged.
struct ProducerBatch: Sendable {
    let id: UInt64
    let partition: TopicPartition
    let createdAt: NIODeadline
    /// Bytes reserved against the producer's buffer memory.
    private(set) var reservedBytes: Int = 0
    /// The idempotent producer's sequence of the first record, fixed at the first send.
    var baseSequence: Int32?
    /// Sends so far.
    var attempts = 0
    private var builder: RecordBatchBuilder
    private(set) var completions: [(timestamp: Int64, completion: RecordCompletion)] = []

    init(id: UInt64, partition: TopicPartition, createdAt: NIODeadline, capacity: Int) {
        self.id = id
        self.partition = partition
        self.createdAt = createdAt
        self.builder = RecordBatchBuilder(capacity: capacity)
    }

    var recordCount: Int { completions.count }
    var sizeInBytes: Int { builder.sizeInBytes }

    mutating func append(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader], reserved: Int, completion: RecordCompletion) {
        builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
        completions.append((timestamp, completion))
        reservedBytes += reserved
    }

    /// The batch bytes, stamped with the producer id, epoch and sequence when idempotent.
    func encoded(producerID: Int64, producerEpoch: Int16) -> ByteBuffer {
        var builder = self.builder
        builder.producerID = producerID
        builder.producerEpoch = producerEpoch
        builder.baseSequence = baseSequence ?? -1
        return builder.finish()
    }

    /// Answers every record: offsets follow from the base offset the broker assigned.
    func succeed(baseOffset: Int64, logAppendTime: Int64) {
        for (index, entry) in completions.enumerated() {
            entry.completion.complete(.success(RecordMetadata(
                topic: partition.topic,
                partition: partition.partition,
                offset: baseOffset < 0 ? -1 : baseOffset + Int64(index),
                timestamp: logAppendTime >= 0 ? logAppendTime : entry.timestamp
            )))
        }
    }

    func fail(_ error: any Error) {
        for entry in completions { entry.completion.complete(.failure(error)) }
    }
}
