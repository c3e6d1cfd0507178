import GRDB
import Market

/// Reads. Times are Unix nanoseconds; ranges are inclusive at both ends.
extension HistoryStore {
    static let quoteColumns = "symbol, seq, ts, bid, ask, last, volume, topic, partition, offset"

    /// Decodes a row selected with `quoteColumns`, starting at column `first`.
    static func storedQuote(_ row: Row, first: Int = 0) -> StoredQuote {
        let quote = Quote(symbol: row[first], seq: UInt64(clamping: row[first + 1] as Int64),
                          bid: row[first + 3], ask: row[first + 4], last: row[first + 5],
                          volume: row[first + 6], timestamp: row[first + 2])
        return StoredQuote(quote: quote, topic: row[first + 7], partition: row[first + 8], offset: row[first + 9])
    }

    /// Quotes of `symbol` with `from <= ts <= to`, oldest first, at most `limit` of them.
    public func quotes(symbol: String, from: Int64, to: Int64, limit: Int? = nil) throws -> [StoredQuote] {
        try pool.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT \(Self.quoteColumns) FROM quotes
                WHERE symbol = ? AND ts >= ? AND ts <= ? ORDER BY ts, seq LIMIT ?
                """)
            let rows = try Row.fetchCursor(statement, arguments: [symbol, from, to, limit ?? -1])
            var quotes: [StoredQuote] = []
            while let row = try rows.next() { quotes.append(Self.storedQuote(row)) }
            return quotes
        }
    }

    /// The last `limit` quotes of `symbol` with `from <= ts <= to`, still oldest first.
    public func latestQuotes(symbol: String, from: Int64, to: Int64, limit: Int) throws -> [StoredQuote] {
        try pool.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT \(Self.quoteColumns) FROM quotes
                WHERE symbol = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC, seq DESC LIMIT ?
                """)
            let rows = try Row.fetchCursor(statement, arguments: [symbol, from, to, limit])
            var quotes: [StoredQuote] = []
            while let row = try rows.next() { quotes.append(Self.storedQuote(row)) }
            return quotes.reversed()
        }
    }

    /// The quote of `symbol` in force at `timestamp`: the one with the greatest `ts <= timestamp`
    /// (the greatest seq among equal ts), or nil when the symbol has none that early.
    public func quote(symbol: String, atOrBefore timestamp: Int64) throws -> StoredQuote? {
        try pool.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT \(Self.quoteColumns) FROM quotes
                WHERE symbol = ? AND ts <= ? ORDER BY ts DESC, seq DESC LIMIT 1
                """)
            return try Row.fetchOne(statement, arguments: [symbol, timestamp]).map { Self.storedQuote($0) }
        }
    }

    /// Candles of `symbol` whose bucket holds a time in `from...to`, oldest first.
    public func candles(symbol: String, interval: CandleInterval, from: Int64, to: Int64) throws -> [Candle] {
        try pool.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT symbol, bucket, open, high, low, close, volume, count, open_ts, close_ts
                FROM \(interval.table) WHERE symbol = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket
                """)
            let rows = try Row.fetchCursor(statement, arguments: [symbol, interval.bucketStart(from), to])
            var candles: [Candle] = []
            while let row = try rows.next() {
                candles.append(Candle(symbol: row[0], start: row[1], open: row[2], high: row[3], low: row[4], close: row[5],
                                      volume: row[6], count: row[7], openTimestamp: row[8], closeTimestamp: row[9]))
            }
            return candles
        }
    }

    /// The newest quote of every symbol, ordered by symbol: the one with the greatest `ts`,
    /// and among equal `ts` the one stored last (greatest rowid, i.e. the later log position
    /// of its partition, which is the order the sink writes in).
    ///
    /// Not the highest seq: since migration v2 the same (symbol, seq) may be stored twice,
    /// because a restarted pricer starts its seqs at 1 again.
    ///
    /// Symbols come from `candles_1m` (far smaller than `quotes`); each symbol's newest quote
    /// is then two lookups in the (symbol, ts, seq) index (its greatest ts, then the last
    /// row with that ts) and one by rowid: no scan of `quotes`.
    public func latestQuotes() throws -> [StoredQuote] {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: Self.latestQuotesSQL)
            var quotes: [StoredQuote] = []
            while let row = try rows.next() { quotes.append(Self.storedQuote(row)) }
            return quotes
        }
    }

    /// The statement of `latestQuotes()`; `INDEXED BY` makes SQLite fail rather than
    /// silently fall back to a scan should the index ever be dropped.
    static let latestQuotesSQL = """
        SELECT \(quoteColumns.split(separator: ",").map { "q." + $0.trimmingPrefix(" ") }.joined(separator: ", "))
        FROM (SELECT DISTINCT symbol FROM candles_1m) AS s
        JOIN quotes AS q ON q.rowid = (
            SELECT MAX(rowid) FROM quotes INDEXED BY quotes_symbol_ts
            WHERE symbol = s.symbol
                AND ts = (SELECT MAX(ts) FROM quotes INDEXED BY quotes_symbol_ts WHERE symbol = s.symbol))
        ORDER BY s.symbol
        """

    /// Number of stored quotes.
    public func count() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quotes") ?? 0 }
    }

    /// Number of stored quotes of one symbol.
    public func count(symbol: String) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quotes WHERE symbol = ?", arguments: [symbol]) ?? 0 }
    }

    /// Lowest and highest seq of `symbol` and its number of quotes; nil when it has none.
    public func seqRange(symbol: String) throws -> SeqRange? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT MIN(seq), MAX(seq), COUNT(*) FROM quotes WHERE symbol = ?",
                                             arguments: [symbol]),
                  let low = row[0] as Int64?, let high = row[1] as Int64?
            else { return nil }
            return SeqRange(min: UInt64(clamping: low), max: UInt64(clamping: high), count: row[2])
        }
    }

    /// All stored symbols, sorted.
    public func symbols() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT symbol FROM candles_1m ORDER BY symbol") }
    }

    /// The quotes with `from <= ts <= to` (of `symbols` only, when given), ordered by ts and
    /// then by arrival, read lazily `pageSize` rows at a time: a replay of any length holds
    /// one page in memory and no read transaction between pages.
    public func quotes(from: Int64, to: Int64, symbols: [String]? = nil, pageSize: Int = 4096) -> QuoteCursor {
        QuoteCursor(pool: pool, from: from, to: to, symbols: symbols, pageSize: pageSize)
    }
}
