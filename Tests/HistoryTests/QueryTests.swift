import Foundation
import GRDB
@testable import History
import KafkaClient
import Market
import XCTest

final class QueryTests: XCTestCase {
    private func makeStore(with quotes: [Quote]) throws -> HistoryStore {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        _ = try store.claim(partitions: [TopicPartition(topic: "prices", partition: 0)], owner: "sink", generation: 1)
        let records = quotes.enumerated().map { SinkRecord($1, topic: "prices", partition: 0, offset: Int64($0)) }
        try store.write(quotes: records, owner: "sink", generation: 1)
        return store
    }

    func testAtOrBeforeAtExactAndBetweenTimestamps() throws {
        let store = try makeStore(with: [
            quote("AAPL", seq: 1, ts: 1_000, last: 1.0),
            quote("AAPL", seq: 2, ts: 2_000, last: 2.0),
            quote("MSFT", seq: 1, ts: 2_500, last: 50.0),
            quote("AAPL", seq: 3, ts: 3_000, last: 3.0),
            quote("AAPL", seq: 4, ts: 3_000, last: 3.5),
        ])
        XCTAssertNil(try store.quote(symbol: "AAPL", atOrBefore: 999))
        XCTAssertEqual(try store.quote(symbol: "AAPL", atOrBefore: 1_000)?.quote.seq, 1)
        XCTAssertEqual(try store.quote(symbol: "AAPL", atOrBefore: 1_999)?.quote.seq, 1)
        XCTAssertEqual(try store.quote(symbol: "AAPL", atOrBefore: 2_000)?.quote.seq, 2)
        XCTAssertEqual(try store.quote(symbol: "AAPL", atOrBefore: 2_999)?.quote.last, 2.0)
        XCTAssertEqual(try store.quote(symbol: "AAPL", atOrBefore: 3_000)?.quote.seq, 4, "equal ts: the later seq")
        XCTAssertEqual(try store.quote(symbol: "AAPL", atOrBefore: .max)?.quote.seq, 4)
        XCTAssertNil(try store.quote(symbol: "IBM", atOrBefore: .max))
        XCTAssertEqual(try store.quote(symbol: "MSFT", atOrBefore: 2_999)?.offset, 2)
    }

    func testRangeQueriesAreInclusiveAndOrdered() throws {
        let store = try makeStore(with: (1...10).map { quote("AAPL", seq: UInt64($0), ts: Int64($0) * 100, last: Double($0)) })
        XCTAssertEqual(try store.quotes(symbol: "AAPL", from: 300, to: 600).map(\.quote.seq), [3, 4, 5, 6])
        XCTAssertEqual(try store.quotes(symbol: "AAPL", from: 300, to: 600, limit: 2).map(\.quote.seq), [3, 4])
        XCTAssertEqual(try store.latestQuotes(symbol: "AAPL", from: 300, to: 600, limit: 2).map(\.quote.seq), [5, 6])
        XCTAssertEqual(try store.quotes(symbol: "AAPL", from: 1_001, to: 2_000), [])
        XCTAssertEqual(try store.count(symbol: "AAPL"), 10)
        XCTAssertNil(try store.seqRange(symbol: "MSFT"))
    }

    func testLatestQuotesIsTheNewestPerSymbol() throws {
        let store = try makeStore(with: [
            quote("MSFT", seq: 1, ts: 10, last: 50.0),
            quote("AAPL", seq: 1, ts: 20, last: 1.0),
            quote("AAPL", seq: 2, ts: 30, last: 2.0),
            quote("MSFT", seq: 2, ts: 25, last: 51.0),
            quote("IBM", seq: 7, ts: 5, last: 140.0),
        ])
        let latest = try store.latestQuotes()
        XCTAssertEqual(latest.map(\.quote.symbol), ["AAPL", "IBM", "MSFT"])
        XCTAssertEqual(latest.map(\.quote.seq), [2, 7, 2])
        XCTAssertEqual(latest.map(\.offset), [2, 4, 3])
        XCTAssertEqual(try store.symbols(), ["AAPL", "IBM", "MSFT"])
    }

    /// Two pricer runs in one history: the restarted pricer's seqs start at 1 again, so the
    /// newest quote is the one with the greatest ts (on equal ts, the one stored last),
    /// not the highest seq, and there is exactly one per symbol.
    func testLatestQuotesAfterAPricerRestartIsTheNewestByTimeOnePerSymbol() throws {
        let store = try makeStore(with: [
            // First run.
            quote("AAPL", seq: 1, ts: 100, last: 1.0),
            quote("MSFT", seq: 1, ts: 150, last: 50.0),
            quote("GOOG", seq: 1, ts: 160, last: 70.0),
            quote("AAPL", seq: 2, ts: 200, last: 2.0),
            quote("GOOG", seq: 2, ts: 210, last: 71.0),
            quote("MSFT", seq: 2, ts: 250, last: 51.0),
            quote("AAPL", seq: 3, ts: 300, last: 3.0),
            quote("TSLA", seq: 9, ts: 2_000, last: 200.0),
            // The pricer restarts: seqs from 1 again.
            quote("AAPL", seq: 1, ts: 1_000, last: 10.0),
            quote("MSFT", seq: 1, ts: 1_050, last: 60.0),
            quote("GOOG", seq: 1, ts: 1_060, last: 80.0),
            quote("AAPL", seq: 2, ts: 1_100, last: 11.0),
            quote("GOOG", seq: 2, ts: 1_110, last: 81.0),
            quote("TSLA", seq: 1, ts: 2_000, last: 210.0),
        ])
        let latest = try store.latestQuotes()
        XCTAssertEqual(latest.map(\.quote.symbol), ["AAPL", "GOOG", "MSFT", "TSLA"], "one row per symbol")
        XCTAssertEqual(latest.map(\.quote.timestamp), [1_100, 1_110, 1_050, 2_000])
        XCTAssertEqual(latest.map(\.quote.seq), [2, 2, 1, 1])
        XCTAssertEqual(latest.map(\.quote.last), [11.0, 81.0, 60.0, 210.0])
        XCTAssertEqual(latest.map(\.offset), [11, 12, 9, 13], "TSLA: equal ts, the later log position")
    }

    /// `latestQuotes()` looks each symbol up in the (symbol, ts, seq) index: no scan of quotes.
    func testLatestQuotesUsesTheSymbolTimeIndex() throws {
        let path = try temporaryDatabasePath()
        _ = try HistoryStore(path: path)
        let plan = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + HistoryStore.latestQuotesSQL).map { $0["detail"] as String }
        }
        XCTAssertFalse(plan.contains { $0.hasPrefix("SCAN q") || $0.hasPrefix("SCAN quotes") }, plan.joined(separator: "\n"))
        XCTAssertEqual(plan.filter { $0.hasPrefix("SEARCH quotes USING COVERING INDEX quotes_symbol_ts") }.count, 2,
                       plan.joined(separator: "\n"))
        XCTAssertTrue(plan.contains("SEARCH q USING INTEGER PRIMARY KEY (rowid=?)"), plan.joined(separator: "\n"))
    }

    func testCursorPagesThroughARangeInTimestampOrder() throws {
        var quotes: [Quote] = []
        for index in 0..<100 {
            // Two symbols, each 100 ns apart, with every fifth AAPL quote sharing a ts with MSFT.
            let ts = Int64(index) * 100
            quotes.append(quote("AAPL", seq: UInt64(index + 1), ts: index % 5 == 0 ? ts + 50 : ts, last: 1))
            quotes.append(quote("MSFT", seq: UInt64(index + 1), ts: ts + 50, last: 2))
        }
        let store = try makeStore(with: quotes)

        var cursor = store.quotes(from: 1_000, to: 5_050, pageSize: 7)
        var seen: [StoredQuote] = []
        while let next = try cursor.next() { seen.append(next) }
        let expected = quotes.enumerated()
            .filter { $0.element.timestamp >= 1_000 && $0.element.timestamp <= 5_050 }
            .sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }
            .map { Int64($0.offset) }
        XCTAssertEqual(seen.map(\.offset), expected)
        XCTAssertEqual(seen.count, 82)
        XCTAssertNil(try cursor.next())

        var onlyMSFT = store.quotes(from: .min, to: .max, symbols: ["MSFT"], pageSize: 10)
        var msft: [UInt64] = []
        while let next = try onlyMSFT.next() { msft.append(next.quote.seq) }
        XCTAssertEqual(msft, Array(1...100))
    }

    func testCursorPagesAsynchronously() async throws {
        let store = try makeStore(with: (1...25).map { quote("AAPL", seq: UInt64($0), ts: Int64($0), last: 1) })
        var cursor = store.quotes(from: 0, to: 100, pageSize: 10)
        var sizes: [Int] = []
        while true {
            let page = try await cursor.nextPage()
            if page.isEmpty { break }
            sizes.append(page.count)
        }
        XCTAssertEqual(sizes, [10, 10, 5])
    }

    func testOpeningAMissingDatabaseForQueriesSaysSo() throws {
        let path = try temporaryDatabasePath("missing.sqlite")
        XCTAssertThrowsError(try HistoryStore.openExisting(path: path)) { error in
            XCTAssertEqual(error as? HistoryError, .databaseNotFound(path: path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "looking must not create the file")
    }

    func testOpenExistingReadsWhatTheWriterStored() throws {
        let path = try temporaryDatabasePath()
        let writer = try HistoryStore(path: path)
        _ = try writer.claim(partitions: [TopicPartition(topic: "prices", partition: 0)], owner: "sink", generation: 1)
        try writer.write(quotes: [SinkRecord(quote("AAPL", seq: 1, ts: 5, last: 1), topic: "prices", partition: 0, offset: 0)],
                         owner: "sink", generation: 1)
        let reader = try HistoryStore.openExisting(path: path)
        XCTAssertEqual(try reader.count(), 1)
    }

    func testOpenExistingAfterTheWriterClosed() throws {
        let path = try temporaryDatabasePath()
        do {
            let writer = try HistoryStore(path: path)
            _ = try writer.claim(partitions: [TopicPartition(topic: "prices", partition: 0)], owner: "sink", generation: 1)
            try writer.write(quotes: [SinkRecord(quote("AAPL", seq: 1, ts: 5, last: 1), topic: "prices", partition: 0, offset: 0)],
                             owner: "sink", generation: 1)
        }
        let reader = try HistoryStore.openExisting(path: path)
        XCTAssertEqual(try reader.quote(symbol: "AAPL", atOrBefore: 5)?.quote.seq, 1)
    }

    func testOpenExistingRejectsAForeignFile() throws {
        let path = try temporaryDatabasePath("notes.txt")
        try Data("not a database, just some text that is long enough to have a header".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try HistoryStore.openExisting(path: path)) { error in
            XCTAssertEqual(error as? HistoryError, .notAHistoryDatabase(path: path))
        }
    }
}
