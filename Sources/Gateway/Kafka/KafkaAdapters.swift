import Foundation
import History
import KafkaClient
import Logging
import Market
import NIOCore

/// Feeds the hub from one Kafka consumer: every partition of the prices topic from its
/// end, each record handed over as it was produced (key = symbol, value = quote JSON).
struct KafkaQuoteFeed: Sendable {
    let client: KafkaClusterClient
    let topic: String
    let hub: QuoteHub
    let logger: Logger

    /// Runs until cancelled; waits (with backoff) for the topic to exist.
    func run() async {
        var partitions: Int?
        while !Task.isCancelled && partitions == nil {
            partitions = try? await client.metadata(for: [topic]).partitionCount(of: topic)
            if partitions == nil || partitions == 0 {
                partitions = nil
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        guard let partitions else { return }
        let consumer = KafkaConsumer(client: client)
        let assigned = (0..<Int32(partitions)).map { TopicPartition(topic, $0) }
        await consumer.assign(assigned)
        for partition in assigned { try? await consumer.seek(partition, to: .end) }
        logger.info("gateway feed reading", metadata: ["topic": "\(topic)", "partitions": "\(partitions)"])
        var skipped = 0
        var skippedReported = 0
        var unreachableSince: ContinuousClock.Instant?
        var unreachableReported: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                let records = try await consumer.poll(timeout: .seconds(5))
                guard !records.isEmpty else {
                    // A quiet topic or a cluster out of reach: the consumer retries on its own;
                    // say so (every 30 s at most) while it lasts.
                    if let error = await consumer.lastFetchError {
                        let now = ContinuousClock.now
                        if unreachableSince == nil { unreachableSince = now }
                        if unreachableReported.map({ now - $0 >= .seconds(30) }) ?? true {
                            unreachableReported = now
                            logger.warning("gateway feed cannot fetch; retrying", metadata: [
                                "topic": "\(topic)", "error": "\(error)",
                                "since": "\(now - unreachableSince!)"])
                        }
                    }
                    continue
                }
                if unreachableSince != nil {
                    logger.info("gateway feed fetching again", metadata: ["topic": "\(topic)"])
                    unreachableSince = nil
                    unreachableReported = nil
                }
                // Each quote's frame is encoded here, once, off the hub's actor and loops.
                var quotes: [FeedQuote] = []
                quotes.reserveCapacity(records.count)
                for record in records {
                    guard let symbol = Self.quoteSymbol(key: record.key, value: record.value), let value = record.value else {
                        skipped += 1
                        continue
                    }
                    quotes.append(FeedQuote(symbol: symbol, partition: record.partition, offset: record.offset,
                                            value: Array(value.readableBytesView)))
                }
                if skipped > skippedReported * 2 {
                    skippedReported = skipped
                    logger.warning("gateway feed skipped records that are not quotes keyed by their symbol",
                                   metadata: ["topic": "\(topic)", "skipped": "\(skipped)"])
                }
                if !quotes.isEmpty { await hub.publish(quotes) }
            } catch {
                if Task.isCancelled { break }
                logger.warning("gateway feed poll failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        await consumer.close()
    }

    /// The symbol of a record that is a quote keyed by its own symbol, or nil. The gateway
    /// forwards quote bytes to clients unchanged, so it checks each once here (the Market
    /// decoder, once per quote, not per client): anything else on the topic would reach
    /// browsers as a broken frame.
    static func quoteSymbol(key: ByteBuffer?, value: ByteBuffer?) -> String? {
        guard let key, let value else { return nil }
        let symbol = String(buffer: key)
        let decoded = value.withUnsafeReadableBytes { bytes in try? Quote(jsonBuffer: bytes) }
        guard let decoded, decoded.symbol == symbol else { return nil }
        return symbol
    }
}

/// The last quote per symbol from the compacted `prices.latest` topic, read from its
/// beginning to the end it had when asked.
struct KafkaLatestQuotes: LatestQuotesSource {
    let client: KafkaClusterClient
    let topic: String

    /// How long reading the snapshot may take before it gives up with what it has.
    var timeout: TimeAmount = .seconds(10)

    func latestQuotes() async throws -> [LatestQuote] {
        guard let count = try? await client.metadata(for: [topic]).partitionCount(of: topic), count > 0 else { return [] }
        let partitions = (0..<Int32(count)).map { TopicPartition(topic, $0) }
        let ends = try await client.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaClusterClient.latestTimestamp) }))
        let consumer = KafkaConsumer(client: client)
        let wanted = partitions.filter { (ends[$0] ?? 0) > 0 }
        await consumer.assign(wanted)
        var latest: [String: LatestQuote] = [:]
        do {
            for partition in wanted { try await consumer.seek(partition, to: .beginning) }
            var remaining = Set(wanted)
            let deadline = NIODeadline.now() + timeout
            // Each poll waits only until the deadline: a broker gone mid-read ends the read, not the gateway.
            while !remaining.isEmpty, case let left = deadline - .now(), left > .zero {
                for record in try await consumer.poll(timeout: left) {
                    // Checked as the live feed checks: the snapshot goes to browsers unchanged too.
                    if let symbol = KafkaQuoteFeed.quoteSymbol(key: record.key, value: record.value), let value = record.value {
                        latest[symbol] = LatestQuote(symbol: symbol, partition: record.partition, offset: nil,
                                                     value: Array(value.readableBytesView))
                    }
                    if record.offset + 1 >= ends[record.topicPartition] ?? 0 { remaining.remove(record.topicPartition) }
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return Array(latest.values)
    }
}

/// Serves resume tokens from the log: a short-lived consumer per request.
///
/// Give it a cluster client of its own: a broker answers one connection's requests in
/// order, so on the feed's connection every read would queue behind the feed's
/// long-poll. Its fetches wait at most `maxWait` (the range it reads is already in
/// the log, so there is nothing to wait for; only a prefetch past the end would).
struct KafkaLogReader: QuoteLogReader {
    let client: KafkaClusterClient
    let topic: String
    var maxWait: TimeAmount = .milliseconds(10)
    /// How long one read may take; past it the read throws (the fetch error when there was one).
    var timeout: TimeAmount = .seconds(10)

    func read(partition: Int32, fromOffset: Int64, symbols: Set<String>, limit: Int) async throws -> LogReadResult {
        let topicPartition = TopicPartition(topic, partition)
        let bounds = try await client.listOffsets([topicPartition: KafkaClusterClient.earliestTimestamp])
        let start = bounds[topicPartition] ?? 0
        if fromOffset < start { return .outOfRange }
        let end = try await client.listOffsets([topicPartition: KafkaClusterClient.latestTimestamp])[topicPartition] ?? 0
        if fromOffset >= end { return .records([]) }
        var configuration = ConsumerConfiguration()
        configuration.maxWait = maxWait
        configuration.prefetchRecords = limit
        let consumer = KafkaConsumer(client: client, configuration: configuration)
        await consumer.assign([topicPartition])
        await consumer.seek([topicPartition: fromOffset])
        var found: [LogRecord] = []
        var position = fromOffset
        do {
            let deadline = NIODeadline.now() + timeout
            while found.count < limit && position < end {
                let left = deadline - .now()
                guard left > .zero else {
                    // The range was in the log when asked: only a broker out of reach keeps it from coming.
                    throw await consumer.lastFetchError ?? KafkaClientError.invalidState(
                        "no record of \(topicPartition) from \(position) for \(timeout.nanoseconds / 1_000_000) ms although the log held it")
                }
                let records = try await consumer.poll(timeout: left)
                for record in records where record.offset >= fromOffset {
                    position = record.offset + 1
                    guard let key = record.key, let value = record.value else { continue }
                    let symbol = String(buffer: key)
                    if symbols.isEmpty || symbols.contains(symbol) {
                        found.append(LogRecord(offset: record.offset, symbol: symbol, value: Array(value.readableBytesView)))
                        if found.count == limit { break }
                    }
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return .records(found)
    }
}

/// `/api/history` from the sink's SQLite database, opened once it exists.
final class SQLiteHistory: HistoryQuerying, Sendable {
    let path: String

    init(path: String) { self.path = path }

    func history(symbol: String, sinceNs: Int64, limit: Int) async throws -> [[UInt8]] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let store = try HistoryStore.openExisting(path: path)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        return try store.latestQuotes(symbol: symbol, from: sinceNs, to: now, limit: limit).map { stored in
            var bytes: [UInt8] = []
            try stored.quote.encodeJSON(into: &bytes)
            return bytes
        }
    }
}
