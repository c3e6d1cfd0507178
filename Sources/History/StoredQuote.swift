import KafkaClient
import Market

/// A quote as the history keeps it: the quote and where in the log it came from.
public struct StoredQuote: Sendable, Hashable {
    public var quote: Quote
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(quote: Quote, topic: String, partition: Int32, offset: Int64) {
        self.quote = quote
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// One record handed to `HistoryStore.write`: a decoded quote and its log position.
public struct SinkRecord: Sendable, Hashable {
    public var quote: Quote
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(_ quote: Quote, topic: String, partition: Int32, offset: Int64) {
        self.quote = quote
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
}

/// The smallest and largest stored `seq` of a symbol and how many quotes it has:
/// a symbol is complete from `min` to `max` exactly when `count == max - min + 1`.
public struct SeqRange: Sendable, Hashable {
    public var min: UInt64
    public var max: UInt64
    public var count: Int

    public init(min: UInt64, max: UInt64, count: Int) {
        self.min = min
        self.max = max
        self.count = count
    }

    /// True when no seq between `min` and `max` is missing.
    public var isGapFree: Bool { UInt64(count) == max - min + 1 }
}
