import Foundation
import History
import KafkaClient
import Market
import XCTest

/// `tickstream history` end to end, through the binary, on fixture rows with known answers:
/// a range as a table, CSV and JSON lines, the quote at or before a time, 1-minute candles
/// and the latest quote of every symbol.
final class HistoryCommandTests: XCTestCase {
    /// 2024-11-24T15:00:00Z.
    private let t0: Int64 = 1_732_460_400_000_000_000

    /// AAPL (partition 0) and MSFT (partition 1) over two minutes; bid/ask = last ∓ 0.25.
    ///
    /// | sym  | seq | time (15:0x) | last   | vol |
    /// | AAPL | 1   | 00:00        | 100.0  | 10  |
    /// | AAPL | 2   | 00:10        | 101.5  | 20  |
    /// | MSFT | 1   | 00:15        | 400.0  | 1   |
    /// | AAPL | 3   | 00:20        | 99.25  | 5   |
    /// | AAPL | 4   | 00:30.500    | 100.75 | 7   |
    /// | AAPL | 5   | 01:10        | 102.0  | 3   |
    /// | MSFT | 2   | 01:15        | 401.5  | 2   |
    /// | AAPL | 6   | 01:20.250    | 101.0  | 4   |
    private func makeHistory(at path: String) throws {
        let rows: [(symbol: String, seq: UInt64, ms: Int64, last: Double, volume: Int64)] = [
            ("AAPL", 1, 0, 100.0, 10), ("AAPL", 2, 10_000, 101.5, 20), ("MSFT", 1, 15_000, 400.0, 1),
            ("AAPL", 3, 20_000, 99.25, 5), ("AAPL", 4, 30_500, 100.75, 7), ("AAPL", 5, 70_000, 102.0, 3),
            ("MSFT", 2, 75_000, 401.5, 2), ("AAPL", 6, 80_250, 101.0, 4),
        ]
        let store = try HistoryStore(path: path)
        let partitions = [TopicPartition(topic: "prices", partition: 0), TopicPartition(topic: "prices", partition: 1)]
        _ = try store.claim(partitions: partitions, owner: "fixture", generation: 1)
        var offsets: [Int32: Int64] = [:]
        let records = rows.map { row in
            let partition: Int32 = row.symbol == "AAPL" ? 0 : 1
            let offset = offsets[partition] ?? 0
            offsets[partition] = offset + 1
            let quote = Quote(symbol: row.symbol, seq: row.seq, bid: row.last - 0.25, ask: row.last + 0.25, last: row.last,
                              volume: row.volume, timestamp: t0 + row.ms * 1_000_000)
            return SinkRecord(quote, topic: "prices", partition: partition, offset: offset)
        }
        try store.write(quotes: records, owner: "fixture", generation: 1)
    }

    /// Runs `tickstream history ARGS --db DB`; fails the test unless it exits 0.
    private func history(_ arguments: [String], db: String, directory: TemporaryDirectory,
                         file: StaticString = #filePath, line: UInt = #line) async throws -> ChildProcess {
        let name = "history-\(UUID().uuidString.prefix(8))"
        let run = try await ChildProcess.run(["history"] + arguments + ["--db", db], name: name, directory: directory)
        XCTAssertEqual(run.process.terminationStatus, 0, "history \(arguments): \(run.output)", file: file, line: line)
        return run
    }

    func testARangeOfOneSymbolAsATableCSVAndJSONLines() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        try makeHistory(at: db)

        // --since alone: to now, so the rest of AAPL's quotes from 15:00:10 (inclusive).
        let table = try await history(["AAPL", "--since", "2024-11-24T15:00:10Z"], db: db, directory: directory)
        XCTAssertEqual(table.stdoutText, """
            time                      sym   seq     bid     ask    last  vol  partition  offset
            2024-11-24T15:00:10.000Z  AAPL    2  101.25  101.75   101.5   20          0       1
            2024-11-24T15:00:20.000Z  AAPL    3    99.0    99.5   99.25    5          0       2
            2024-11-24T15:00:30.500Z  AAPL    4   100.5   101.0  100.75    7          0       3
            2024-11-24T15:01:10.000Z  AAPL    5  101.75  102.25   102.0    3          0       4
            2024-11-24T15:01:20.250Z  AAPL    6  100.75  101.25   101.0    4          0       5

            """)

        // --since and --until, both ends inclusive.
        let csv = try await history(["AAPL", "--since", "2024-11-24T15:00:10Z", "--until", "2024-11-24T15:01:10Z", "--format", "csv"],
                                    db: db, directory: directory)
        XCTAssertEqual(csv.stdoutText, """
            sym,seq,bid,ask,last,vol,ts,partition,offset
            AAPL,2,101.25,101.75,101.5,20,1732460410000000000,0,1
            AAPL,3,99.0,99.5,99.25,5,1732460420000000000,0,2
            AAPL,4,100.5,101.0,100.75,7,1732460430500000000,0,3
            AAPL,5,101.75,102.25,102.0,3,1732460470000000000,0,4

            """)

        // No --since: from the beginning; a Unix time in seconds for --until.
        let jsonl = try await history(["MSFT", "--until", "1732460475", "--format", "jsonl"], db: db, directory: directory)
        XCTAssertEqual(jsonl.stdoutText, """
            {"sym":"MSFT","seq":1,"bid":399.75,"ask":400.25,"last":400.0,"vol":1,"ts":1732460415000000000,"partition":1,"offset":0}
            {"sym":"MSFT","seq":2,"bid":401.25,"ask":401.75,"last":401.5,"vol":2,"ts":1732460475000000000,"partition":1,"offset":1}

            """)

        let lastTwo = try await history(["AAPL", "--last", "2", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(lastTwo.stdoutText.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }, ["5", "6"])
        let firstTwo = try await history(["AAPL", "--limit", "2", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(firstTwo.stdoutText.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }, ["1", "2"])
    }

    func testAtGivesTheQuoteAtOrBeforeTheTime() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        try makeHistory(at: db)

        let between = try await history(["AAPL", "--at", "2024-11-24T15:00:25Z", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(between.stdoutText, """
            sym,seq,bid,ask,last,vol,ts,partition,offset
            AAPL,3,99.0,99.5,99.25,5,1732460420000000000,0,2

            """)
        let exact = try await history(["AAPL", "--at", "2024-11-24T15:00:30.500Z", "--format", "jsonl"], db: db, directory: directory)
        XCTAssertEqual(exact.stdoutText, """
            {"sym":"AAPL","seq":4,"bid":100.5,"ask":101.0,"last":100.75,"vol":7,"ts":1732460430500000000,"partition":0,"offset":3}

            """)
        let justBefore = try await history(["AAPL", "--at", "2024-11-24T15:00:30.499Z", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(justBefore.stdoutText.split(separator: "\n").last, "AAPL,3,99.0,99.5,99.25,5,1732460420000000000,0,2")

        // No symbol: every symbol's quote in force at that time.
        let everySymbol = try await history(["--at", "2024-11-24T15:01:00Z", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(everySymbol.stdoutText, """
            sym,seq,bid,ask,last,vol,ts,partition,offset
            AAPL,4,100.5,101.0,100.75,7,1732460430500000000,0,3
            MSFT,1,399.75,400.25,400.0,1,1732460415000000000,1,0

            """)

        // Before the first quote: nothing, and a note on stderr.
        let tooEarly = try await history(["AAPL", "--at", "2024-11-24T14:59:59.999Z", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(tooEarly.stdoutText, "sym,seq,bid,ask,last,vol,ts,partition,offset\n")
        XCTAssertTrue(tooEarly.output.contains("no quote at or before 2024-11-24T14:59:59.999Z"), tooEarly.output)
    }

    func testOneMinuteCandlesHaveTheExpectedOHLCV() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        try makeHistory(at: db)

        // 15:00: 100.0, 101.5, 99.25, 100.75 (vol 10+20+5+7); 15:01: 102.0, 101.0 (vol 3+4).
        let csv = try await history(["AAPL", "--candles", "1m", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(csv.stdoutText, """
            sym,start,open,high,low,close,vol,count
            AAPL,1732460400000000000,100.0,101.5,99.25,100.75,42,4
            AAPL,1732460460000000000,102.0,102.0,101.0,101.0,7,2

            """)
        let table = try await history(["AAPL", "--candles", "1m"], db: db, directory: directory)
        XCTAssertEqual(table.stdoutText, """
            start                 sym    open   high    low   close  vol  count
            2024-11-24T15:00:00Z  AAPL  100.0  101.5  99.25  100.75   42      4
            2024-11-24T15:01:00Z  AAPL  102.0  102.0  101.0   101.0    7      2

            """)
        // --since inside the first minute still shows that minute's candle; --until ends the range.
        let firstMinute = try await history(["MSFT", "--candles", "1m", "--since", "2024-11-24T15:00:30Z",
                                             "--until", "2024-11-24T15:00:59Z", "--format", "jsonl"], db: db, directory: directory)
        XCTAssertEqual(firstMinute.stdoutText, """
            {"sym":"MSFT","start":1732460400000000000,"open":400.0,"high":400.0,"low":400.0,"close":400.0,"vol":1,"count":1}

            """)
        let seconds = try await history(["AAPL", "--candles", "1s", "--format", "csv"], db: db, directory: directory)
        XCTAssertEqual(seconds.stdoutText.split(separator: "\n").count, 1 + 6, "one 1 s candle per AAPL quote")
    }

    func testWithoutASymbolTheLatestQuoteOfEverySymbol() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        try makeHistory(at: db)

        let latest = try await history(["--format", "jsonl"], db: db, directory: directory)
        XCTAssertEqual(latest.stdoutText, """
            {"sym":"AAPL","seq":6,"bid":100.75,"ask":101.25,"last":101.0,"vol":4,"ts":1732460480250000000,"partition":0,"offset":5}
            {"sym":"MSFT","seq":2,"bid":401.25,"ask":401.75,"last":401.5,"vol":2,"ts":1732460475000000000,"partition":1,"offset":1}

            """)
    }
}
