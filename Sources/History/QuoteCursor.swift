import GRDB

/// An iterator over a time range of quotes, in (ts, arrival) order, fetched a page at a time
/// with keyset pagination on the `quotes_ts` index (whose entries are (ts, rowid)).
///
/// Each page is its own short read, so writers and WAL checkpoints are never held up by a
/// slow consumer such as a paced replay.
public struct QuoteCursor: Sendable {
    private let pool: DatabasePool
    private let to: Int64
    private let symbols: [String]?
    private let pageSize: Int
    private var afterTimestamp: Int64
    private var afterRowID: Int64
    private var page: [StoredQuote] = []
    private var position = 0
    private var exhausted = false

    init(pool: DatabasePool, from: Int64, to: Int64, symbols: [String]?, pageSize: Int) {
        self.pool = pool
        self.to = to
        self.symbols = symbols
        self.pageSize = max(1, pageSize)
        afterTimestamp = from
        afterRowID = Int64.min
    }

    /// The next quote, or nil at the end of the range.
    public mutating func next() throws -> StoredQuote? {
        if position == page.count {
            guard !exhausted else { return nil }
            let query = pageQuery()
            let fetched = try pool.read { db in try Self.fetch(db, query) }
            install(fetched)
            if page.isEmpty { return nil }
        }
        defer { position += 1 }
        return page[position]
    }

    /// The next page of quotes (empty at the end), read without blocking the calling task's
    /// thread. Do not mix with `next()` on the same cursor.
    public mutating func nextPage() async throws -> [StoredQuote] {
        guard !exhausted else { return [] }
        let query = pageQuery()
        let fetched = try await pool.read { db in try Self.fetch(db, query) }
        install(fetched)
        position = page.count
        return page
    }

    private struct PageQuery: Sendable {
        var sql: String
        var arguments: StatementArguments
    }

    private struct FetchedPage: Sendable {
        var quotes: [StoredQuote]
        var lastRowID: Int64
    }

    private func pageQuery() -> PageQuery {
        var sql = """
            SELECT rowid, \(HistoryStore.quoteColumns) FROM quotes INDEXED BY quotes_ts
            WHERE ts >= ? AND ts <= ? AND (ts > ? OR rowid > ?)
            """
        var arguments: StatementArguments = [afterTimestamp, to, afterTimestamp, afterRowID]
        if let symbols, !symbols.isEmpty {
            sql += " AND symbol IN (\(Array(repeating: "?", count: symbols.count).joined(separator: ", ")))"
            arguments += StatementArguments(symbols)
        }
        sql += " ORDER BY ts, rowid LIMIT ?"
        arguments += [pageSize]
        return PageQuery(sql: sql, arguments: arguments)
    }

    private static func fetch(_ db: Database, _ query: PageQuery) throws -> FetchedPage {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: query.sql), arguments: query.arguments)
        var page = FetchedPage(quotes: [], lastRowID: 0)
        while let row = try rows.next() {
            page.lastRowID = row[0]
            page.quotes.append(HistoryStore.storedQuote(row, first: 1))
        }
        return page
    }

    private mutating func install(_ fetched: FetchedPage) {
        page = fetched.quotes
        position = 0
        if let last = page.last {
            afterTimestamp = last.quote.timestamp
            afterRowID = fetched.lastRowID
        }
        if page.count < pageSize { exhausted = true }
    }
}
