import Foundation
import History
import KafkaClient
import Market
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The issue's acceptance tests for the sink: `tickstream sink` processes killed with
/// SIGKILL at random moments, and two sinks sharing one group and one database file.
/// Quotes come from the real `tickstream pricer` at 2,000 quotes/s.
final class SinkCrashTests: XCTestCase {
    private func sinkArguments(_ broker: SinkTestBroker, db: String) -> [String] {
        ["sink", "--bootstrap", broker.bootstrap, "--db", db, "--session-timeout", "1s", "--batch-ms", "100",
         "--quiet", "--log-level", "info"]
    }

    private func pricerArguments(_ broker: SinkTestBroker, seconds: Int) -> [String] {
        ["pricer", "--bootstrap", broker.bootstrap, "--rate", "2000", "--duration", "\(seconds)s", "--symbols", "100",
         "--seed", "11", "--quiet", "--log-level", "warning"]
    }

    /// Compares the history with the topic: same count, and per symbol seq 1…n exactly once
    /// with the n the topic holds; each partition's stored next offset is its end.
    private func assertHistoryMatchesTopic(db: String, broker: SinkTestBroker, file: StaticString = #filePath, line: UInt = #line) async throws {
        let records = try await readTopic(broker.bootstrap, topic: "prices")
        let produced = try seqsBySymbol(records)
        let store = try HistoryStore.openExisting(path: db)
        XCTAssertEqual(try store.count(), records.count, "every published quote stored once", file: file, line: line)
        XCTAssertEqual(Set(try store.symbols()), Set(produced.keys), file: file, line: line)
        for (symbol, seqs) in produced {
            XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)), "\(symbol) on the topic is gap-free", file: file, line: line)
            let range = try XCTUnwrap(try store.seqRange(symbol: symbol), file: file, line: line)
            XCTAssertEqual(range, SeqRange(min: 1, max: UInt64(seqs.count), count: seqs.count), "\(symbol) stored 1…n once", file: file, line: line)
        }
        var ends: [Int32: Int64] = [:]
        for record in records { ends[record.partition] = max(ends[record.partition] ?? 0, record.offset + 1) }
        for (partition, end) in ends {
            XCTAssertEqual(try store.nextOffset(TopicPartition(topic: "prices", partition: partition)), end, "prices-\(partition)", file: file, line: line)
        }
    }

    func testSinkKilledAtRandomMomentsFiveTimesStoresEveryQuoteExactlyOnce() async throws {
        let binary = try tickstreamBinary()
        let broker = try await SinkTestBroker.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        let pricer = try ChildProcess(binary, pricerArguments(broker, seconds: 14), name: "pricer", directory: directory)

        let seed = UInt64.random(in: 1...UInt64.max)
        var random = SeededRandom(seed: seed)
        print("crash test: kill moments from seed \(seed)")
        var stored = 0
        for round in 1...5 {
            let sink = try ChildProcess(binary, sinkArguments(broker, db: db), name: "sink-\(round)", directory: directory)
            // Kill it while it writes: once it has stored something, at a random moment.
            let before = stored
            try await waitUntil(timeout: .seconds(20), "sink \(round) writes") {
                ((try? HistoryStore.openExisting(path: db).count()) ?? 0) > before
            }
            let moment = Double.random(in: 0.05...0.8, using: &random)
            try await Task.sleep(for: .seconds(moment))
            sink.signal(SIGKILL)
            try await sink.wait()
            stored = (try? HistoryStore.openExisting(path: db).count()) ?? 0
            print("crash test: sink \(round) killed \(String(format: "%.2f", moment)) s after its first write; \(stored) quotes stored so far")
        }
        let pricerStatus = try await pricer.wait()
        XCTAssertEqual(pricerStatus, 0, "pricer: \(pricer.output.suffix(2000))")

        let final = try ChildProcess(binary, sinkArguments(broker, db: db), name: "sink-final", directory: directory)
        let published = try await readTopic(broker.bootstrap, topic: "prices").count
        XCTAssertGreaterThan(published, 0)
        try await waitUntil(timeout: .seconds(40), "the last sink stored all \(published) quotes") {
            (try? HistoryStore.openExisting(path: db).count()) == published
        }
        final.signal(SIGTERM)
        let finalStatus = try await final.wait()
        XCTAssertEqual(finalStatus, 0, "a stopped sink exits cleanly: \(final.output.suffix(2000))")
        XCTAssertTrue(final.stdoutText.contains("sink: stored"), "summary printed: \(final.stdoutText)")
        try await assertHistoryMatchesTopic(db: db, broker: broker)
        try await broker.stop()
    }

    func testTwoSinksInOneGroupStoreOnceAndTheSurvivorTakesOverAfterAKill() async throws {
        let binary = try tickstreamBinary()
        let broker = try await SinkTestBroker.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        let pricer = try ChildProcess(binary, pricerArguments(broker, seconds: 6), name: "pricer", directory: directory)
        let first = try ChildProcess(binary, sinkArguments(broker, db: db), name: "sink-a", directory: directory)
        let second = try ChildProcess(binary, sinkArguments(broker, db: db), name: "sink-b", directory: directory)

        // Both members hold partitions once the second one has joined.
        try await waitUntil(timeout: .seconds(60), "both sinks write") {
            let owners = try? HistoryStore.openExisting(path: db).partitionOwners()
            return Set(owners?.values.map(\.owner) ?? []).count == 2
        }
        try await Task.sleep(for: .seconds(1))
        first.signal(SIGKILL)
        try await first.wait()

        let pricerStatus = try await pricer.wait()
        XCTAssertEqual(pricerStatus, 0, "pricer: \(pricer.output.suffix(2000))")
        let published = try await readTopic(broker.bootstrap, topic: "prices").count
        try await waitUntil(timeout: .seconds(30), "the surviving sink stored all \(published) quotes") {
            (try? HistoryStore.openExisting(path: db).count()) == published
        }
        let owners = try HistoryStore.openExisting(path: db).partitionOwners()
        XCTAssertEqual(owners.count, 8)
        XCTAssertEqual(Set(owners.values.map(\.owner)).count, 1, "the survivor owns every partition")
        second.signal(SIGTERM)
        let secondStatus = try await second.wait()
        XCTAssertEqual(secondStatus, 0, "sink-b: \(second.output.suffix(2000))")
        try await assertHistoryMatchesTopic(db: db, broker: broker)
        try await broker.stop()
    }
}

/// SplitMix64, for kill moments reproducible from the printed seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
