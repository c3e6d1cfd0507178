import GRDB
import KafkaClient
import Market

/// The body of `HistoryStore.write`: one IMMEDIATE transaction per batch with cached
/// prepared statements.
enum QuoteBatchWriter {
    static func write(_ db: Database, records: [SinkRecord], advancing: [TopicPartition: Int64], owner: String, generation: Int32) throws -> HistoryStore.WriteSummary {
        var summary = HistoryStore.WriteSummary(written: 0, skipped: 0, nextOffsets: [:])
        try db.inTransaction(.immediate) {
            let partitions = records.map(\.topicPartition) + advancing.keys
            var nextOffsets = try checkOwnership(db, partitions: partitions, owner: owner, generation: generation)
            let insertQuote = try db.cachedStatement(sql: """
                INSERT INTO quotes(symbol, seq, ts, bid, ask, last, volume, topic, partition, offset)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var seconds = CandleAccumulator(interval: .oneSecond)
            var minutes = CandleAccumulator(interval: .oneMinute)
            var written: [TopicPartition: Int64] = [:]
            for record in records {
                let tp = record.topicPartition
                if let next = nextOffsets[tp], record.offset < next {
                    summary.skipped += 1
                    continue
                }
                let quote = record.quote
                guard let seq = Int64(exactly: quote.seq) else {
                    throw HistoryError.valueOutOfRange(field: "seq", value: String(quote.seq))
                }
                do {
                    insertQuote.setUncheckedArguments([
                        quote.symbol, seq, quote.timestamp, quote.bid, quote.ask, quote.last, quote.volume,
                        record.topic, record.partition, record.offset,
                    ])
                    try insertQuote.execute()
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                    throw HistoryError.duplicateQuote(symbol: quote.symbol, seq: quote.seq, topic: record.topic,
                                                      partition: record.partition, offset: record.offset)
                }
                seconds.add(symbol: quote.symbol, price: quote.last, volume: quote.volume, timestamp: quote.timestamp)
                minutes.add(symbol: quote.symbol, price: quote.last, volume: quote.volume, timestamp: quote.timestamp)
                nextOffsets[tp] = record.offset + 1
                written[tp] = record.offset + 1
                summary.written += 1
            }
            // Records that carried no quote still move their partition's next offset.
            for (tp, next) in advancing where next > (nextOffsets[tp] ?? Int64.min) {
                nextOffsets[tp] = next
                written[tp] = next
            }
            try CandleWriter.upsert(db, seconds.candles, interval: .oneSecond)
            try CandleWriter.upsert(db, minutes.candles, interval: .oneMinute)
            let storeOffset = try db.cachedStatement(sql: """
                INSERT INTO sink_offsets(topic, partition, next_offset) VALUES (?, ?, ?)
                ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset
                """)
            for (tp, next) in written {
                try storeOffset.execute(arguments: [tp.topic, tp.partition, next])
            }
            summary.nextOffsets = nextOffsets
            return .commit
        }
        return summary
    }

    /// Verifies the owner row of every partition in the batch and returns the stored next
    /// offset of those that have one.
    private static func checkOwnership(_ db: Database, partitions: [TopicPartition], owner: String, generation: Int32) throws -> [TopicPartition: Int64] {
        let readOwner = try db.cachedStatement(sql: "SELECT owner, generation FROM partition_owners WHERE topic = ? AND partition = ?")
        let readOffset = try db.cachedStatement(sql: "SELECT next_offset FROM sink_offsets WHERE topic = ? AND partition = ?")
        var offsets: [TopicPartition: Int64] = [:]
        var checked: Set<TopicPartition> = []
        for tp in partitions {
            guard checked.insert(tp).inserted else { continue }
            let arguments: StatementArguments = [tp.topic, tp.partition]
            guard let row = try Row.fetchOne(readOwner, arguments: arguments),
                  row[0] as String == owner, row[1] as Int32 == generation
            else {
                throw HistoryError.fenced(topic: tp.topic, partition: tp.partition)
            }
            offsets[tp] = try Int64.fetchOne(readOffset, arguments: arguments)
        }
        return offsets
    }
}
