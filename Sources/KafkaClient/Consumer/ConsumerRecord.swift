import KafkaProtocol
import NIOCore

/// One record as the consumer hands it out. `key`, `value` and header values are
/// slices of the fetch response's buffer: no payload bytes are copied.
public struct ConsumerRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    func isSamePartition(as other: ConsumerRecord) -> Bool {
        partition == other.partition && topic == other.topic
    }
}

/// Where `seek` moves a partition's position.
public enum SeekPosition: Sendable, Hashable {
    /// The log start offset.
    case beginning
    /// The high watermark: only records produced from now on.
    case end
    case offset(Int64)
    /// The first offset whose timestamp is at or after this many Unix milliseconds
    /// (the end when there is none).
    case timestamp(Int64)
}

/// What to do when a partition has no position (or it is out of range): `auto.offset.reset`.
public enum OffsetResetPolicy: Sendable, Hashable {
    case earliest
    case latest
    /// Report `OFFSET_OUT_OF_RANGE` (or a missing position) as an error.
    case none
}

/// Consumer settings; names follow the Java client's where there is one.
public struct ConsumerConfiguration: Sendable {
    /// How long the broker may hold a fetch waiting for `minBytes` (`fetch.max.wait.ms`).
    public var maxWait: TimeAmount = .milliseconds(500)
    public var minBytes: Int32 = 1
    public var maxBytes: Int32 = 50 * 1024 * 1024
    public var partitionMaxBytes: Int32 = 1024 * 1024
    public var autoOffsetReset: OffsetResetPolicy = .earliest
    /// The next fetch starts while fewer than this many records are buffered (prefetch).
    public var prefetchRecords = 1000
    /// Records handed out by one `poll` at most (`max.poll.records`).
    public var maxPollRecords = 500
    public var retryBackoff: TimeAmount = .milliseconds(100)
    /// Verify each fetched batch's CRC-32C before reading it (`check.crcs`; on by default,
    /// as in the Java client). Thousands of consumers of the same data on one machine
    /// (the swarm) may turn it off, as librdkafka's default does: TCP already checksums
    /// the bytes and the broker checked every batch when it was produced.
    public var checkCRCs = true

    public init() {}
}

/// Turns the record batches of one partition's fetch answer into records at or after
/// `position`. A pure function: the consumer's fetch path, tested without a broker.
public enum FetchedRecords {
    public struct Parsed: Sendable {
        public var records: [ConsumerRecord] = []
        /// The offset to fetch next: past the last complete batch seen, or unchanged.
        public var nextFetchOffset: Int64
    }

    public static func parse(_ records: ByteBuffer?, topic: String, partition: Int32, position: Int64,
                             verifyCRC: Bool = true) throws(KafkaClientError) -> Parsed {
        var parsed = Parsed(nextFetchOffset: position)
        guard let records, records.readableBytes > 0 else { return parsed }
        var iterator = RecordBatchSequence(records, verifyCRC: verifyCRC).makeIterator()
        while let batch = iterator.next() {
            let header = batch.header
            guard header.nextOffset > parsed.nextFetchOffset else { continue }
            parsed.nextFetchOffset = header.nextOffset
            if header.attributes.isControl { continue }
            let codec = header.attributes.compression
            guard codec == .none else {
                throw .compressedBatch(topic: topic, partition: partition, codec: codec.rawValue)
            }
            do {
                var reader = try RecordReader(batch: batch)
                while let record = try reader.next() {
                    guard record.offset >= position else { continue }
                    parsed.records.append(ConsumerRecord(
                        topic: topic, partition: partition, offset: record.offset, timestamp: record.timestamp,
                        key: record.key, value: record.value, headers: record.headers))
                }
            } catch {
                throw .codec(error)
            }
        }
        if let error = iterator.error { throw .codec(error) }
        return parsed
    }
}
