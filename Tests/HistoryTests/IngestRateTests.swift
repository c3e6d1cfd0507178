import History
import XCTest

/// Prints the sink's ingest rate; asserts only the counts (no timing assertions).
final class IngestRateTests: XCTestCase {
    func testIngestRateFor200kQuotesInBatchesOf1000() throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        var factory = RecordFactory(symbolCount: 500, partitions: 8)
        _ = try store.claim(partitions: factory.allPartitions, owner: "bench", generation: 1)
        let records = factory.records(200_000)

        let clock = ContinuousClock()
        let started = clock.now
        for start in stride(from: 0, to: records.count, by: 1000) {
            try store.write(quotes: Array(records[start..<start + 1000]), owner: "bench", generation: 1)
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("history ingest: 200000 quotes in batches of 1000 in \(seconds) s = \(Int(200_000 / seconds)) rows/s")

        XCTAssertEqual(try store.count(), 200_000)
        XCTAssertEqual(try store.seqRange(symbol: "S499"), SeqRange(min: 1, max: 400, count: 400))
    }
}
