import KafkaProtocol
import NIOCore

/// One record as the consumer hands it out. `key`, `value` and header values are
/// slices of the fetch response's buffer: no payload bytes are copied.
public struct ConsumerRecord: Sendable, Hashable {
    /// The topic the record was fetched from.
    public var topic: String
    /// The partition the record was fetched from.
    public var partition: Int32
    /// The record's offset in its partition; `position(of:)` moves past it once `poll` hands it out.
    public var offset: Int64
    /// Unix milliseconds: the producer's create time, or the broker's log-append time for topics configured with it.
    public var timestamp: Int64
    /// The key bytes (a slice of the fetch response, not a copy); nil for a record without a key, as opposed to an empty key.
    public var key: ByteBuffer?
    /// The value bytes (a slice of the fetch response); nil for a tombstone (null value).
    public var value: ByteBuffer?
    /// The record's headers in the order the producer wrote them; empty when there are none.
    public var headers: [RecordHeader]

    /// The record's topic and partition as one value.
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
    /// This exact offset. Not checked against the log: an offset out of range is handled by `autoOffsetReset` on the next fetch.
    case offset(Int64)
    /// The first offset whose timestamp is at or after this many Unix milliseconds
    /// (the end when there is none).
    case timestamp(Int64)
}

/// What to do when a partition has no position (or it is out of range): `auto.offset.reset`.
public enum OffsetResetPolicy: Sendable, Hashable {
    /// Start at the log start offset (the oldest record still stored). The default.
    case earliest
    /// Start at the high watermark: only records produced after the position was looked up.
    case latest
    /// Report `OFFSET_OUT_OF_RANGE` (or a missing position) as an error.
    case none
}

/// Consumer settings; names follow the Java client's where there is one.
public struct ConsumerConfiguration: Sendable {
    /// How long the broker may hold a fetch waiting for `minBytes` (`fetch.max.wait.ms`).
    public var maxWait: TimeAmount = .milliseconds(500)
    /// Bytes the broker should collect before answering a fetch (`fetch.min.bytes`, default 1: answer as soon as anything is there).
    public var minBytes: Int32 = 1
    /// Upper bound on one fetch response in bytes (`fetch.max.bytes`, default 50 MiB; a first batch larger than this still comes).
    public var maxBytes: Int32 = 50 * 1024 * 1024
    /// Upper bound per partition in one fetch response, in bytes (`max.partition.fetch.bytes`, default 1 MiB).
    public var partitionMaxBytes: Int32 = 1024 * 1024
    /// Where a partition without a position (or with one out of range) starts; default `.earliest`.
    public var autoOffsetReset: OffsetResetPolicy = .earliest
    /// The next fetch starts while fewer than this many records are buffered (prefetch).
    public var prefetchRecords = 1000
    /// Records handed out by one `poll` at most (`max.poll.records`).
    public var maxPollRecords = 500
    /// Wait after a fetch round in which a broker could not be reached or answered with a retriable error (default 100 ms).
    public var retryBackoff: TimeAmount = .milliseconds(100)
    /// Verify each fetched batch's CRC-32C before reading it (`check.crcs`; on by default,
    /// as in the Java client). Thousands of consumers of the same data on one machine
    /// (the swarm) may turn it off, as librdkafka's default does: TCP already checksums
    /// the bytes and the broker checked every batch when it was produced.
    public var checkCRCs = true

    /// The defaults listed on each property.
    public init() {}
}

/// Turns the record batches of one partition's fetch answer into records at or after
/// `position`. A pure function: the consumer's fetch path, tested without a broker.
enum FetchedRecords {
    struct Parsed: Sendable {
        var records: [ConsumerRecord] = []
        /// The offset to fetch next: past the last complete batch seen, or unchanged.
        var nextFetchOffset: Int64
    }

    static func parse(_ records: ByteBuffer?, topic: String, partition: Int32, position: Int64,
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
