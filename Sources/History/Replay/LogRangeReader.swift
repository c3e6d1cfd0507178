import KafkaClient
import Market
import NIOCore

/// Reads the quotes of a time range straight from a topic's log, without SQLite: per
/// partition, ListOffsets by timestamp finds the first record at or after `from`, and
/// the partition is read until its records pass `to` (by `endSlack`) or its end (the
/// high watermark when the read began). Quotes are selected by their own `ts`. The
/// result is in (ts, partition, offset) order, held in memory.
///
/// Record timestamps are the producer's send (CreateTime): at or after the quote's `ts`,
/// which the pricer takes just before the send, and later by the producer's linger and
/// batching. So `from` can be looked up by record time, but a partition is only done once
/// its records are well past `to`.
public struct LogRangeReader: Sendable {
    public let client: KafkaClusterClient
    public let topic: String
    /// How long the read waits for a record while partitions still have records in range
    /// (they were in the log when the read began, so only a cluster out of reach holds
    /// them back); past it the read throws the consumer's last fetch error. Default 30 s.
    public var stallTimeout: TimeAmount = .seconds(30)
    /// How far past `to` a record's timestamp must be to end its partition's read: more than
    /// any producer delay between a quote's `ts` and its record's time. Default 5 s.
    public var endSlack: TimeAmount = .seconds(5)

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
        let starts = try await client.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, fromMilliseconds) }))
        let ends = try await client.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaClusterClient.latestTimestamp) }))

        return try await read(starts: starts, ends: ends, from: from, to: to, symbols: symbols)
    }

    /// The read once the range's offsets are known: each partition from `starts` up to
    /// (not including) `ends`, or until its records pass `to`.
    func read(starts: [TopicPartition: Int64], ends: [TopicPartition: Int64],
              from: Int64, to: Int64, symbols: Set<String>?) async throws -> Result {
        var configuration = ConsumerConfiguration()
        configuration.maxPollRecords = 10_000
        configuration.prefetchRecords = 20_000
        configuration.maxWait = .milliseconds(50)
        configuration.autoOffsetReset = .none
        let consumer = KafkaConsumer(client: client, configuration: configuration)
        var pending = Set(starts.keys.filter { starts[$0]! < (ends[$0] ?? 0) })
        await consumer.assign(Array(pending))
        await consumer.seek(starts.filter { pending.contains($0.key) })

        var result = Result(quotes: [], undecodable: 0)
        do {
            try await read(consumer, pending: &pending, ends: ends, from: from, to: to, symbols: symbols, into: &result)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        result.quotes.sort {
            ($0.quote.timestamp, $0.partition, $0.offset) < ($1.quote.timestamp, $1.partition, $1.offset)
        }
        return result
    }

    private func read(_ consumer: KafkaConsumer, pending: inout Set<TopicPartition>, ends: [TopicPartition: Int64],
                      from: Int64, to: Int64, symbols: Set<String>?, into result: inout Result) async throws {
        let pastEndMilliseconds = (to / 1_000_000) + endSlack.nanoseconds / 1_000_000 + 1
        while !pending.isEmpty {
            try Task.checkCancellation()
            var finished: [TopicPartition] = []
            let records = try await consumer.poll(timeout: stallTimeout)
            if records.isEmpty {
                let waiting = pending.sorted().map(\.description).joined(separator: ", ")
                throw await consumer.lastFetchError ?? KafkaClientError.invalidState(
                    "no record of \(waiting) for \(stallTimeout.nanoseconds / 1_000_000) ms although the log held records in range")
            }
            for record in records {
                let partition = record.topicPartition
                guard pending.contains(partition) else { continue }
                if record.offset + 1 >= ends[partition] ?? 0 { finished.append(partition) }
                if record.timestamp > pastEndMilliseconds { finished.append(partition); continue }
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
    }
}
