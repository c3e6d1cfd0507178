/// Kafka's topic config names, their defaults, validation, and how they map onto `LogConfig`.
///
/// Topics store only the overrides given at creation (as Kafka does); the effective
/// `LogConfig` is the broker defaults with the overrides applied. Known Kafka configs
/// that tickstream's single-node log has no use for (`min.insync.replicas`, ...) are
/// accepted and reported back, so tools that set them keep working; unknown names are
/// an INVALID_CONFIG error, as in Kafka.
public enum TopicConfig {
    public enum ValueType: Int8, Sendable {
        case boolean = 1, string = 2, int = 3, long = 5, double = 6, list = 7
    }

    public struct Definition: Sendable {
        public var name: String
        public var type: ValueType
        public var documentation: String
        /// Checks a value; nil means it is acceptable, else the reason it is not.
        var check: @Sendable (String) -> String?
    }

    static func long(_ name: String, minimum: Int64, _ doc: String) -> Definition {
        Definition(name: name, type: .long, documentation: doc) { value in
            guard let number = Int64(value), number >= minimum else { return "\(name) must be an integer >= \(minimum)" }
            return nil
        }
    }

    static func int(_ name: String, minimum: Int64, _ doc: String) -> Definition {
        Definition(name: name, type: .int, documentation: doc) { value in
            guard let number = Int32(value), number >= minimum else { return "\(name) must be an int >= \(minimum)" }
            return nil
        }
    }

    static func oneOf(_ name: String, _ values: [String], type: ValueType = .string, _ doc: String) -> Definition {
        Definition(name: name, type: type, documentation: doc) { value in
            values.contains(value) ? nil : "\(name) must be one of \(values.joined(separator: ", "))"
        }
    }

    public static let definitions: [Definition] = [
        Definition(name: "cleanup.policy", type: .list, documentation: "delete and/or compact") { value in
            LogConfig.CleanupPolicy(kafkaValue: value) == nil ? "cleanup.policy must be delete, compact or compact,delete" : nil
        },
        long("retention.ms", minimum: -1, "Delete closed segments older than this; -1 keeps them forever."),
        long("retention.bytes", minimum: -1, "Delete the oldest closed segments beyond this size; -1 is no limit."),
        int("segment.bytes", minimum: 14, "Roll the active segment at this size."),
        long("segment.ms", minimum: 1, "Roll the active segment after this long."),
        int("max.message.bytes", minimum: 0, "The largest record batch accepted."),
        oneOf("message.timestamp.type", ["CreateTime", "LogAppendTime"], "Whose clock stamps the records."),
        long("flush.messages", minimum: 1, "1 fsyncs every batch before the producer is acknowledged."),
        long("flush.ms", minimum: 0, "Fsync the log at this interval."),
        int("index.interval.bytes", minimum: 0, "Bytes between offset index entries."),
        long("delete.retention.ms", minimum: 0, "How long compaction keeps tombstones."),
        Definition(name: "min.cleanable.dirty.ratio", type: .double, documentation: "Compact when this share of the log is uncompacted.") { value in
            guard let ratio = Double(value), ratio >= 0, ratio <= 1 else { return "min.cleanable.dirty.ratio must be within 0...1" }
            return nil
        },
        // Accepted and reported; a single-node log that never recompresses has no use for them.
        int("min.insync.replicas", minimum: 1, "Accepted for compatibility; a single node is always in sync."),
        oneOf("compression.type", ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"],
              "Accepted for compatibility; batches are always stored as produced."),
        oneOf("unclean.leader.election.enable", ["true", "false"], type: .boolean, "Accepted for compatibility."),
        oneOf("preallocate", ["true", "false"], type: .boolean, "Accepted for compatibility."),
        oneOf("message.downconversion.enable", ["true", "false"], type: .boolean, "Accepted for compatibility."),
        long("max.compaction.lag.ms", minimum: 1, "Accepted for compatibility."),
        long("min.compaction.lag.ms", minimum: 0, "Accepted for compatibility."),
        long("file.delete.delay.ms", minimum: 0, "Accepted for compatibility."),
        long("message.timestamp.difference.max.ms", minimum: 0, "Accepted for compatibility."),
        int("segment.index.bytes", minimum: 4, "Accepted for compatibility."),
        long("segment.jitter.ms", minimum: 0, "Accepted for compatibility."),
    ]

    static let byName: [String: Definition] = Dictionary(uniqueKeysWithValues: definitions.map { ($0.name, $0) })

    /// Checks overrides: returns the first problem, or nil.
    public static func validate(_ overrides: [String: String]) -> String? {
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let definition = byName[name] else { return "unknown topic config \(name)" }
            if let problem = definition.check(value) { return problem }
        }
        return nil
    }

    /// The effective log settings: `defaults` with validated `overrides` applied.
    public static func resolve(_ overrides: [String: String], defaults: LogConfig) -> LogConfig {
        var config = defaults
        for (name, value) in overrides {
            switch name {
            case "cleanup.policy": config.cleanupPolicy = LogConfig.CleanupPolicy(kafkaValue: value) ?? config.cleanupPolicy
            case "retention.ms": config.retentionMs = Int64(value) ?? config.retentionMs
            case "retention.bytes": config.retentionBytes = Int64(value) ?? config.retentionBytes
            case "segment.bytes": config.segmentBytes = Int(value) ?? config.segmentBytes
            case "segment.ms": config.segmentMs = Int64(value) ?? config.segmentMs
            case "max.message.bytes": config.maxMessageBytes = Int(value) ?? config.maxMessageBytes
            case "message.timestamp.type": config.logAppendTime = value == "LogAppendTime"
            case "index.interval.bytes": config.indexIntervalBytes = Int(value) ?? config.indexIntervalBytes
            case "delete.retention.ms": config.deleteRetentionMs = Int64(value) ?? config.deleteRetentionMs
            case "min.cleanable.dirty.ratio": config.minCleanableDirtyRatio = Double(value) ?? config.minCleanableDirtyRatio
            default: break
            }
        }
        // Durability: flush.messages=1 (every batch) wins over flush.ms.
        if overrides["flush.messages"] == "1" {
            config.durability = .everyBatch
        } else if let text = overrides["flush.ms"], let milliseconds = Int64(text) {
            config.durability = milliseconds >= Int64.max / 2 ? .operatingSystem : .interval(milliseconds: milliseconds)
        }
        return config
    }

    /// Every config of a topic with its effective value, for DescribeConfigs.
    public static func describe(_ config: LogConfig, overrides: [String: String]) -> [(name: String, value: String, isDefault: Bool)] {
        definitions.map { definition in
            if let value = overrides[definition.name] { return (definition.name, value, false) }
            return (definition.name, defaultValue(of: definition.name, in: config), true)
        }
    }

    static func defaultValue(of name: String, in config: LogConfig) -> String {
        switch name {
        case "cleanup.policy": return config.cleanupPolicy.kafkaValue
        case "retention.ms": return String(config.retentionMs)
        case "retention.bytes": return String(config.retentionBytes)
        case "segment.bytes": return String(config.segmentBytes)
        case "segment.ms": return String(config.segmentMs)
        case "max.message.bytes": return String(config.maxMessageBytes)
        case "message.timestamp.type": return config.logAppendTime ? "LogAppendTime" : "CreateTime"
        case "flush.messages":
            if case .everyBatch = config.durability { return "1" }
            return String(Int64.max)
        case "flush.ms":
            switch config.durability {
            case .everyBatch: return "0"
            case .interval(let milliseconds): return String(milliseconds)
            case .operatingSystem: return String(Int64.max)
            }
        case "index.interval.bytes": return String(config.indexIntervalBytes)
        case "delete.retention.ms": return String(config.deleteRetentionMs)
        case "min.cleanable.dirty.ratio": return String(config.minCleanableDirtyRatio)
        case "min.insync.replicas": return "1"
        case "compression.type": return "producer"
        case "unclean.leader.election.enable", "preallocate": return "false"
        case "message.downconversion.enable": return "true"
        case "max.compaction.lag.ms", "message.timestamp.difference.max.ms": return String(Int64.max)
        case "min.compaction.lag.ms", "file.delete.delay.ms", "segment.jitter.ms": return "0"
        case "segment.index.bytes": return "10485760"
        default: return ""
        }
    }
}
