/// The per-topic settings of a log, named and defaulted as Kafka's topic configs are.
///
/// Only what tickstream's log honours is here; CreateTopics and DescribeConfigs map
/// Kafka's config names onto these fields (`TopicConfigKeys`).
public struct LogConfig: Hashable, Sendable {
    /// `segment.bytes`: roll to a new segment when the active one reaches this size.
    public var segmentBytes: Int = 256 * 1024 * 1024
    /// `segment.ms`: roll when the active segment's first batch is older than this.
    public var segmentMs: Int64 = 7 * 24 * 3_600_000
    /// `retention.ms`: delete closed segments whose newest record is older; -1 keeps forever.
    public var retentionMs: Int64 = 7 * 24 * 3_600_000
    /// `retention.bytes`: delete the oldest closed segments while the partition is larger; -1 is no limit.
    public var retentionBytes: Int64 = -1
    /// `max.message.bytes`: the largest record batch accepted.
    public var maxMessageBytes: Int = 1_048_588
    /// `message.timestamp.type`: LogAppendTime makes the broker stamp batches on append.
    public var logAppendTime: Bool = false
    /// `cleanup.policy`: delete (retention) and/or compact (keep the last record per key).
    public var cleanupPolicy: CleanupPolicy = .delete
    /// `flush.messages` / `flush.ms`: when appended data is forced to disk.
    public var durability: Durability = .interval(milliseconds: 1000)
    /// `index.interval.bytes`: bytes between offset index entries.
    public var indexIntervalBytes: Int = 4096
    /// `delete.retention.ms`: how long compaction keeps tombstones.
    public var deleteRetentionMs: Int64 = 24 * 3_600_000
    /// `min.cleanable.dirty.ratio`: compact when this share of the log is uncompacted.
    public var minCleanableDirtyRatio: Double = 0.5

    public init() {}

    public struct CleanupPolicy: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let delete = CleanupPolicy(rawValue: 1)
        public static let compact = CleanupPolicy(rawValue: 2)

        /// Kafka's spelling: "delete", "compact" or "compact,delete".
        public var kafkaValue: String {
            switch (contains(.compact), contains(.delete)) {
            case (true, true): return "compact,delete"
            case (true, false): return "compact"
            default: return "delete"
            }
        }

        public init?(kafkaValue: String) {
            var policy: CleanupPolicy = []
            for part in kafkaValue.split(separator: ",") {
                switch part.filter({ $0 != " " }) {
                case "delete": policy.insert(.delete)
                case "compact": policy.insert(.compact)
                default: return nil
                }
            }
            guard !policy.isEmpty else { return nil }
            self = policy
        }
    }

    /// When appended bytes reach the disk.
    public enum Durability: Hashable, Sendable {
        /// `flush.messages=1`: every batch is fsync'd before the producer is acknowledged.
        case everyBatch
        /// `flush.ms=N`: a background flush every N ms; an ack means "in the page cache".
        case interval(milliseconds: Int64)
        /// Neither: the operating system writes back when it chooses (Kafka's default).
        case operatingSystem
    }
}
