import GRDB

/// Upserts a batch's candles into `candles_1s` / `candles_1m`.
///
/// The merge is the one of `Candle.merge`: high = max, low = min, volume and count add up,
/// open moves to an earlier `open_ts` only, close moves to a later-or-equal `close_ts`.
/// SQLite evaluates every SET expression against the row as it was, so their order is free.
enum CandleWriter {
    static func upsert(_ db: Database, _ candles: [Candle], interval: CandleInterval) throws {
        guard !candles.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO \(interval.table)(symbol, bucket, open, high, low, close, volume, count, open_ts, close_ts)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(symbol, bucket) DO UPDATE SET
                open = CASE WHEN excluded.open_ts < open_ts THEN excluded.open ELSE open END,
                open_ts = MIN(open_ts, excluded.open_ts),
                high = MAX(high, excluded.high),
                low = MIN(low, excluded.low),
                close = CASE WHEN excluded.close_ts >= close_ts THEN excluded.close ELSE close END,
                close_ts = MAX(close_ts, excluded.close_ts),
                volume = volume + excluded.volume,
                count = count + excluded.count
            """)
        for candle in candles {
            try statement.execute(arguments: [
                candle.symbol, candle.start, candle.open, candle.high, candle.low, candle.close,
                candle.volume, candle.count, candle.openTimestamp, candle.closeTimestamp,
            ])
        }
    }
}
