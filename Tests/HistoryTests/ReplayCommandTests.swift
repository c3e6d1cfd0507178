import Foundation
import History
import KafkaClient
import Market
import XCTest

/// `tickstream replay` end to end: from SQLite to a topic at 10×, to stdout byte for byte,
/// and from the broker's log (`--source log`) giving the same quotes as SQLite.
final class ReplayCommandTests: XCTestCase {
    private let start: Int64 = 1_732_460_000_000_000_000

    /// `count` quotes cycling through A, B and C, `spacing` ns apart from `start`, A and C on
    /// partition 0, B on partition 1 (default: 120 quotes 10 ms apart).
    private func makeHistory(at path: String, count: Int = 120, spacing: Int64 = 10_000_000) throws -> [StoredQuote] {
        let store = try HistoryStore(path: path)
        let partitions = [TopicPartition(topic: "prices", partition: 0), TopicPartition(topic: "prices", partition: 1)]
        _ = try store.claim(partitions: partitions, owner: "fixture", generation: 1)
        var records: [SinkRecord] = []
        var seqs: [String: UInt64] = [:]
        var offsets: [Int32: Int64] = [:]
        for index in 0..<count {
            let symbol = ["A", "B", "C"][index % 3]
            let partition: Int32 = symbol == "B" ? 1 : 0
            let seq = (seqs[symbol] ?? 0) + 1
            seqs[symbol] = seq
            let offset = offsets[partition] ?? 0
            offsets[partition] = offset + 1
            let last = 100 + Double(index) / 4
            let quote = Quote(symbol: symbol, seq: seq, bid: last - 0.25, ask: last + 0.25, last: last, volume: Int64(index + 1),
                              timestamp: start + Int64(index) * spacing)
            records.append(SinkRecord(quote, topic: "prices", partition: partition, offset: offset))
        }
        try store.write(quotes: records, owner: "fixture", generation: 1)
        return records.map { StoredQuote(quote: $0.quote, topic: $0.topic, partition: $0.partition, offset: $0.offset) }
    }

    func testReplayToATopicAtSpeed10SendsExactlyTheSelectedQuotesInOrderWithTheOriginalTime() async throws {
        let broker = try await SinkTestBroker.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        let history = try makeHistory(at: db)
        let from = start + 200_000_000
        let to = start + 1_000_000_000
        let expected = history.filter { ["A", "B"].contains($0.quote.symbol) && $0.quote.timestamp >= from && $0.quote.timestamp <= to }

        let wallClock = SystemWallClock()
        let before = wallClock.unixNanoseconds()
        let replay = try await ChildProcess.run([
            "replay", "--db", db, "--bootstrap", broker.bootstrap, "--from", String(from), "--to", String(to),
            "--symbols", "A,B", "--speed", "10", "--to-topic", "prices.replay",
        ], name: "replay", directory: directory)
        let after = wallClock.unixNanoseconds()
        XCTAssertEqual(replay.process.terminationStatus, 0, replay.output)
        print(replay.stdoutText)
        XCTAssertTrue(replay.stdoutText.contains("replayed \(expected.count) quotes to prices.replay"), replay.stdoutText)

        let records = try await readTopic(broker.bootstrap, topic: "prices.replay")
        var received: [(sent: Int64, original: Int64, quote: Quote, key: String)] = []
        for record in records {
            let quote = try Quote(jsonBytes: XCTUnwrap(record.value).readableBytesView)
            let header = try XCTUnwrap(record.headers.first { $0.key == ReplayPublisher.originalTimestampHeader }?.value)
            let original = try XCTUnwrap(Int64(String(buffer: header)))
            received.append((quote.timestamp, original, quote, String(buffer: try XCTUnwrap(record.key))))
        }
        received.sort { ($0.sent, $0.original) < ($1.sent, $1.original) }
        XCTAssertEqual(received.map(\.original), expected.map(\.quote.timestamp), "the selected quotes, in ts order")
        XCTAssertEqual(received.map(\.quote.symbol), expected.map(\.quote.symbol))
        XCTAssertEqual(received.map(\.quote.seq), expected.map(\.quote.seq))
        XCTAssertEqual(received.map(\.quote.last), expected.map(\.quote.last))
        XCTAssertEqual(received.map(\.key), expected.map(\.quote.symbol), "keyed by symbol")
        // ts is the send time: within the replay process's lifetime (the fixture's ts are from 2024).
        XCTAssertTrue(received.allSatisfy { $0.sent >= before && $0.sent <= after },
                      "ts rewritten to a time in \(before)...\(after): \(received.map(\.sent))")
        try await broker.stop()
    }

    /// The issue's proof for pacing: "60 s of history replayed at 10× arrives in 6 s ± 5%
    /// with the original order per symbol", through the real binary and broker.
    ///
    /// This is the one wall-clock timing assertion of the suite, and it is here because the
    /// issue demands it: pacing *is* the behaviour under test, so only the send times can
    /// show it. The tolerance is the (±5% of 6 s = ±0.3 s) for the whole span and for
    /// each quote's offset from the first; the replayer paces to absolute deadlines, so a late
    /// wake-up delays one quote, never the ones after it.
    func testSixtySecondsOfHistoryAtSpeed10ArriveInSixSecondsInTheOriginalOrderPerSymbol() async throws {
        let broker = try await SinkTestBroker.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        // 601 quotes 100 ms apart: ts from start to start + 60 s exactly, 200 or 201 per symbol.
        let history = try makeHistory(at: db, count: 601, spacing: 100_000_000)
        XCTAssertEqual(history.last!.quote.timestamp - history.first!.quote.timestamp, 60_000_000_000)
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "prices.replay", partitions: 3)])
        await client.close()

        let wallClock = SystemWallClock()
        let before = wallClock.unixNanoseconds()
        let replay = try await ChildProcess.run([
            "replay", "--db", db, "--bootstrap", broker.bootstrap, "--from", String(start), "--to", String(start + 60_000_000_000),
            "--speed", "10", "--to-topic", "prices.replay",
        ], name: "replay", directory: directory)
        let after = wallClock.unixNanoseconds()
        XCTAssertEqual(replay.process.terminationStatus, 0, replay.output)
        XCTAssertTrue(replay.stdoutText.contains("replayed 601 quotes to prices.replay"), replay.stdoutText)

        struct Received {
            var sent: Int64
            var original: Int64
            var quote: Quote
            var partition: Int32
            var offset: Int64
        }
        var received: [Received] = []
        for record in try await readTopic(broker.bootstrap, topic: "prices.replay") {
            let quote = try Quote(jsonBytes: XCTUnwrap(record.value).readableBytesView)
            let header = try XCTUnwrap(record.headers.first { $0.key == ReplayPublisher.originalTimestampHeader }?.value)
            let original = try XCTUnwrap(Int64(String(buffer: header)))
            XCTAssertEqual(String(buffer: try XCTUnwrap(record.key)), quote.symbol, "keyed by symbol")
            received.append(Received(sent: quote.timestamp, original: original, quote: quote, partition: record.partition, offset: record.offset))
        }

        // Every quote once, with its original ts in the header.
        XCTAssertEqual(received.count, 601)
        let fixtureTimestamp = Dictionary(uniqueKeysWithValues: history.map { ("\($0.quote.symbol)#\($0.quote.seq)", $0.quote.timestamp) })
        let receivedTimestamp = Dictionary(received.map { ("\($0.quote.symbol)#\($0.quote.seq)", $0.original) }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(receivedTimestamp.count, 601, "no quote twice")
        XCTAssertEqual(receivedTimestamp, fixtureTimestamp, "every quote once, original-ts = the fixture's ts")

        // The original order per symbol: each symbol on one partition, its log order = its seq order.
        for symbol in ["A", "B", "C"] {
            let log = received.filter { $0.quote.symbol == symbol }.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
            let fixture = history.filter { $0.quote.symbol == symbol }
            XCTAssertEqual(Set(log.map(\.partition)).count, 1, "\(symbol) on one partition")
            XCTAssertEqual(log.map(\.quote.seq), fixture.map(\.quote.seq), "\(symbol) in the original order")
            XCTAssertEqual(log.map(\.original), fixture.map(\.quote.timestamp), "\(symbol) in the original order")
            XCTAssertEqual(log.map(\.sent), log.map(\.sent).sorted(), "\(symbol) sent in the original order")
        }

        // ts is the send time: within the replay process's lifetime.
        let byOriginal = received.sorted { $0.original < $1.original }
        XCTAssertTrue(received.allSatisfy { $0.sent >= before && $0.sent <= after },
                      "send times in \(before)...\(after); first \(byOriginal.first!.sent), last \(byOriginal.last!.sent)")

        // 60 s of history in 6 s ± 5%.
        let firstSent = byOriginal.first!.sent
        let span = byOriginal.last!.sent - firstSent
        XCTAssertTrue((5_700_000_000...6_300_000_000).contains(span), "60 s at 10x took \(Double(span) / 1e9) s, not 6 s ± 5%")
        // And the spacing in between follows original / 10: the quote at +30 s is sent at +3 s,
        // every quote at its original offset / 10 within the same ±0.3 s.
        let middle = try XCTUnwrap(byOriginal.first { $0.original == start + 30_000_000_000 })
        XCTAssertEqual(Double(middle.sent - firstSent) / 1e9, 3.0, accuracy: 0.3, "the quote at +30 s")
        let offBy = byOriginal.map { abs(Double($0.sent - firstSent) - Double($0.original - start) / 10) / 1e9 }
        XCTAssertLessThanOrEqual(offBy.max()!, 0.3, "worst quote off its paced time by \(offBy.max()!) s")
        try await broker.stop()
    }

    func testReplayToStdoutWritesJSONLinesAndCSVByteForByte() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        _ = try makeHistory(at: db)
        let arguments = ["replay", "--db", db, "--from", String(start + 30_000_000), "--to", String(start + 60_000_000),
                         "--speed", "max", "--symbols", "A,B"]
        let jsonl = try await ChildProcess.run(arguments + ["--format", "jsonl"], name: "jsonl", directory: directory)
        XCTAssertEqual(jsonl.stdoutText, """
            {"sym":"A","seq":2,"bid":100.5,"ask":101.0,"last":100.75,"vol":4,"ts":1732460000030000000,"partition":0,"offset":2}
            {"sym":"B","seq":2,"bid":100.75,"ask":101.25,"last":101.0,"vol":5,"ts":1732460000040000000,"partition":1,"offset":1}
            {"sym":"A","seq":3,"bid":101.25,"ask":101.75,"last":101.5,"vol":7,"ts":1732460000060000000,"partition":0,"offset":4}

            """)
        XCTAssertTrue(jsonl.output.contains("replayed 3 quotes to stdout"), jsonl.output)
        let csv = try await ChildProcess.run(arguments + ["--format", "csv"], name: "csv", directory: directory)
        XCTAssertEqual(csv.stdoutText, """
            sym,seq,bid,ask,last,vol,ts,partition,offset
            A,2,100.5,101.0,100.75,4,1732460000030000000,0,2
            B,2,100.75,101.25,101.0,5,1732460000040000000,1,1
            A,3,101.25,101.75,101.5,7,1732460000060000000,0,4

            """)
    }

    func testReplayFromTheBrokersLogGivesTheSameQuotesAsSQLite() async throws {
        let broker = try await SinkTestBroker.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        let pricer = try await ChildProcess.run([
            "pricer", "--bootstrap", broker.bootstrap, "--count", "3000", "--rate", "20000", "--symbols", "50", "--seed", "5",
            "--quiet", "--log-level", "warning",
        ], name: "pricer", directory: directory)
        XCTAssertEqual(pricer.process.terminationStatus, 0, pricer.output)

        // The sink in-process, as `tickstream demo` runs it.
        var configuration = HistorySinkConfiguration(bootstrap: broker.bootstrap, databasePath: db)
        configuration.progress = .none
        configuration.batchInterval = .milliseconds(50)
        let sink = HistorySink(configuration: configuration)
        let running = Task { try await sink.run() }
        try await waitUntil(timeout: .seconds(20), "the sink stored 3000 quotes") { sink.statistics.stored == 3000 }
        running.cancel()
        try await running.value
        XCTAssertEqual(sink.statistics.stored, 3000)

        let store = try HistoryStore.openExisting(path: db)
        var timestamps: [Int64] = []
        var cursor = store.quotes(from: .min, to: .max)
        while let stored = try cursor.next() { timestamps.append(stored.quote.timestamp) }
        XCTAssertEqual(timestamps.count, 3000)
        let from = timestamps[500]
        let to = timestamps[2500]
        let inRange = timestamps.filter { $0 >= from && $0 <= to }.count
        let range = ["--from", String(from), "--to", String(to), "--speed", "max", "--format", "jsonl"]
        let fromSQLite = try await ChildProcess.run(["replay", "--db", db] + range, name: "from-sqlite", directory: directory)
        let fromLog = try await ChildProcess.run(["replay", "--source", "log", "--bootstrap", broker.bootstrap, "--topic", "prices"] + range,
                                                 name: "from-log", directory: directory)
        XCTAssertEqual(fromLog.process.terminationStatus, 0, fromLog.output)
        let sqliteLines = fromSQLite.stdoutText.split(separator: "\n")
        let logLines = fromLog.stdoutText.split(separator: "\n")
        XCTAssertEqual(sqliteLines.count, inRange)
        XCTAssertEqual(logLines.count, inRange)
        XCTAssertEqual(sqliteLines.sorted(), logLines.sorted(), "the same quotes from the log as from SQLite")
        try await broker.stop()
    }
}
