import KafkaClient
import Market

/// Reads the quotes of a time range straight from a topic's log, without SQLite: per
/// partition, ListOffsets by timestamp finds the first record at or after `from`, and
/// the partition is read until its records pass `to` or its end (the high watermark when
/// the read began). The result is in (ts, partition, offset) order, held in memory.
public struct LogRangeReader: Sendable {
    public let client: KafkaClusterClient
    public let topic: String

    /// What a read found.
    public struct Result: Sendable {
        /// Quotes with `from <= ts <= to` (of the requested symbols), in ts order.
        public var quotes: [StoredQuote]
        /// Records in range whose value was not a quote.
        public var undecodable: Int
    }

    public init(client: KafkaClusterClient, topic: String) {
        self.client = client
        self.topic = topic
    }

    /// Reads quotes with `from <= ts <= to` (Unix ns), of `symbols` when given.
    public func read(from: Int64, to: Int64, symbols: Set<String>? = nil) async throws -> Result {
        let metadata = try await client.metadata(for: [topic])
        guard let count = metadata.partitionCount(of: topic), count > 0 else {
            throw KafkaClientError.broker(.unknownTopicOrPartition, context: "replay from the log of \(topic)")
        }
        let partitions = (0..<Int32(count)).map { TopicPartition(topic, $0) }
        let fromMilliseconds = from <= 0 ? KafkaClusterClient.earliestTimestamp : from / 1_000_000
        let toMilliseconds = to / 1_000_000 + 1
        let starts = try await client.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, fromMilliseconds) }))
        let ends = try await client.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaClusterClient.latestTimestamp) }))

        var configuration = ConsumerConfiguration()
        configuration.maxPollRecords = 10_000
        configuration.prefetchRecords = 20_000
        configuration.maxWait = .milliseconds(50)
        configuration.autoOffsetReset = .none
        let consumer = KafkaConsumer(client: client, configuration: configuration)
        var pending = Set(partitions.filter { (starts[$0] ?? 0) < (ends[$0] ?? 0) })
        await consumer.assign(Array(pending))
        await consumer.seek(starts.filter { pending.contains($0.key) })

        var result = Result(quotes: [], undecodable: 0)
        while !pending.isEmpty {
            try Task.checkCancellation()
            var finished: [TopicPartition] = []
            for record in try await consumer.poll() {
                let partition = record.topicPartition
                guard pending.contains(partition) else { continue }
                if record.offset + 1 >= ends[partition] ?? 0 { finished.append(partition) }
                if record.timestamp > toMilliseconds { finished.append(partition); continue }
                guard let value = record.value, let quote = try? Quote(jsonBytes: value.readableBytesView) else {
                    result.undecodable += 1
                    continue
                }
                guard quote.timestamp >= from, quote.timestamp <= to else { continue }
                if let symbols, !symbols.contains(quote.symbol) { continue }
                result.quotes.append(StoredQuote(quote: quote, topic: record.topic, partition: record.partition, offset: record.offset))
            }
            if !finished.isEmpty {
                pending.subtract(finished)
                await consumer.pause(finished)
            }
        }
        await consumer.close()
        result.quotes.sort {
            ($0.quote.timestamp, $0.partition, $0.offset) < ($1.quote.timestamp, $1.partition, $1.offset)
        }
        return result
    }
}
