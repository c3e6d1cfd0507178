import KafkaClient
import Logging
import Market
import NIOCore

/// The read loop of one Kafka swarm client: polls its consumer, decodes the quotes
/// of watched symbols and hands them to the sink, passes the others over by key.
///
/// The receive time is stamped once per poll, the moment the records are in memory.
/// A slow client (`bytesPerSecond`) sleeps after each poll for as long as its link
/// would take to carry what it read, so it fetches no faster than its bandwidth.
struct KafkaSwarmReader: Sendable {
    let client: Int
    let keys: WatchedKeys
    let bytesPerSecond: Int?
    let sink: any SwarmDeliverySink
    let logger: Logger

    /// What one poll held for one partition besides the watched quotes.
    struct PassedOver {
        var partition: Int32
        var lastOffset: Int64
        var records = 0
        var bytes = 0
    }

    func run(_ consumer: KafkaConsumer) async {
        var undecodable = 0
        while !Task.isCancelled {
            let records: [ConsumerRecord]
            do {
                records = try await consumer.poll()
            } catch KafkaClientError.closed {
                return
            } catch {
                if !Task.isCancelled { sink.connectionLost(client: client, reason: "\(error)") }
                return
            }
            let received = WallClock.nowNanos()
            let read = deliver(records, receivedNanos: received, undecodable: &undecodable)
            if let bytesPerSecond, read > 0 {
                let nanos = UInt64(read) * 1_000_000_000 / UInt64(bytesPerSecond)
                try? await Task.sleep(nanoseconds: nanos)
            }
        }
    }

    /// Delivers one poll's records; returns the bytes read (keys and values).
    func deliver(_ records: [ConsumerRecord], receivedNanos: Int64, undecodable: inout Int) -> Int {
        var passed: [PassedOver] = []
        var read = 0
        for record in records {
            let valueBytes = record.value?.readableBytes ?? 0
            read += valueBytes + (record.key?.readableBytes ?? 0)
            if let key = record.key, let symbol = keys.symbol(forKey: key), let value = record.value {
                do {
                    let quote = try Quote(jsonBytes: value.readableBytesView)
                    if quote.symbol == symbol {
                        sink.deliver(Delivery(symbol: symbol, seq: quote.seq, timestampNanos: quote.timestamp,
                                              partition: record.partition, offset: record.offset,
                                              receivedNanos: receivedNanos, bytes: valueBytes),
                                     to: client)
                        continue
                    }
                } catch {
                    undecodable += 1
                    if undecodable == 1 {
                        logger.warning("client \(client): record \(record.partition)/\(record.offset) keyed \(symbol) is not a quote: \(error)")
                    }
                }
            }
            if let index = passed.firstIndex(where: { $0.partition == record.partition }) {
                passed[index].lastOffset = max(passed[index].lastOffset, record.offset)
                passed[index].records += 1
                passed[index].bytes += valueBytes
            } else {
                passed.append(PassedOver(partition: record.partition, lastOffset: record.offset, records: 1, bytes: valueBytes))
            }
        }
        for entry in passed {
            sink.passedOver(client: client, partition: entry.partition, through: entry.lastOffset, records: entry.records, bytes: entry.bytes)
        }
        return read
    }
}
