import History
import KafkaClient
import Market
import XCTest

final class CandleTests: XCTestCase {
    /// A minute boundary: 2024-11-24T14:53:00Z.
    let minute: Int64 = 1_732_459_980_000_000_000
    let millisecond: Int64 = 1_000_000

    /// Seq order is arrival order; seq 3 and seq 5 arrive with older ts than their predecessors.
    var sequence: [Quote] {
        [
            quote("AAPL", seq: 1, ts: minute + 100 * millisecond, last: 10.0, volume: 100),
            quote("AAPL", seq: 2, ts: minute + 500 * millisecond, last: 12.0, volume: 200),
            quote("AAPL", seq: 3, ts: minute + 50 * millisecond, last: 11.0, volume: 50),
            quote("AAPL", seq: 4, ts: minute + 900 * millisecond, last: 9.0, volume: 10),
            quote("AAPL", seq: 5, ts: minute + 700 * millisecond, last: 13.0, volume: 20),
            quote("AAPL", seq: 6, ts: minute + 1000 * millisecond, last: 14.0, volume: 5),
            quote("AAPL", seq: 7, ts: minute + 61_000 * millisecond, last: 15.0, volume: 1),
        ]
    }

    func expectedSeconds() -> [Candle] {
        [
            Candle(symbol: "AAPL", start: minute, open: 11.0, high: 13.0, low: 9.0, close: 9.0, volume: 380, count: 5,
                   openTimestamp: minute + 50 * millisecond, closeTimestamp: minute + 900 * millisecond),
            Candle(symbol: "AAPL", start: minute + 1000 * millisecond, open: 14.0, high: 14.0, low: 14.0, close: 14.0,
                   volume: 5, count: 1, openTimestamp: minute + 1000 * millisecond, closeTimestamp: minute + 1000 * millisecond),
            Candle(symbol: "AAPL", start: minute + 61_000 * millisecond, open: 15.0, high: 15.0, low: 15.0, close: 15.0,
                   volume: 1, count: 1, openTimestamp: minute + 61_000 * millisecond, closeTimestamp: minute + 61_000 * millisecond),
        ]
    }

    func expectedMinutes() -> [Candle] {
        [
            Candle(symbol: "AAPL", start: minute, open: 11.0, high: 14.0, low: 9.0, close: 14.0, volume: 385, count: 6,
                   openTimestamp: minute + 50 * millisecond, closeTimestamp: minute + 1000 * millisecond),
            Candle(symbol: "AAPL", start: minute + 60_000 * millisecond, open: 15.0, high: 15.0, low: 15.0, close: 15.0,
                   volume: 1, count: 1, openTimestamp: minute + 61_000 * millisecond, closeTimestamp: minute + 61_000 * millisecond),
        ]
    }

    private func makeStore() throws -> HistoryStore {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        _ = try store.claim(partitions: [TopicPartition(topic: "prices", partition: 0)], owner: "sink", generation: 1)
        return store
    }

    private func records(_ quotes: [Quote]) -> [SinkRecord] {
        quotes.enumerated().map { SinkRecord($1, topic: "prices", partition: 0, offset: Int64($0)) }
    }

    private func assertCandles(_ store: HistoryStore, file: StaticString = #filePath, line: UInt = #line) throws {
        let range = (minute - 3_600_000 * millisecond, minute + 3_600_000 * millisecond)
        XCTAssertEqual(try store.candles(symbol: "AAPL", interval: .oneSecond, from: range.0, to: range.1), expectedSeconds(),
                       file: file, line: line)
        XCTAssertEqual(try store.candles(symbol: "AAPL", interval: .oneMinute, from: range.0, to: range.1), expectedMinutes(),
                       file: file, line: line)
    }

    func testCandlesFromOneBatchWithOutOfOrderTimestamps() throws {
        let store = try makeStore()
        try store.write(quotes: records(sequence), owner: "sink", generation: 1)
        try assertCandles(store)
    }

    func testCandlesMergedAcrossBatchesMatchOneBatch() throws {
        let store = try makeStore()
        for record in records(sequence) {
            try store.write(quotes: [record], owner: "sink", generation: 1)
        }
        try assertCandles(store)
    }

    func testCandleRangeSelectsBucketsHoldingTheRange() throws {
        let store = try makeStore()
        try store.write(quotes: records(sequence), owner: "sink", generation: 1)
        // From inside the first second's bucket to the start of the second bucket.
        let candles = try store.candles(symbol: "AAPL", interval: .oneSecond, from: minute + 700 * millisecond,
                                        to: minute + 1000 * millisecond)
        XCTAssertEqual(candles.map(\.start), [minute, minute + 1000 * millisecond])
        XCTAssertEqual(try store.candles(symbol: "MSFT", interval: .oneMinute, from: 0, to: .max), [])
    }

    func testBucketStartFloorsNegativeTimes() {
        XCTAssertEqual(CandleInterval.oneSecond.bucketStart(1_500_000_000), 1_000_000_000)
        XCTAssertEqual(CandleInterval.oneSecond.bucketStart(-1), -1_000_000_000)
        XCTAssertEqual(CandleInterval.oneMinute.bucketStart(minute + 59_999 * millisecond), minute)
        XCTAssertEqual(CandleInterval.oneSecond.bucketStart(Int64.min), Int64.min, "an open start does not overflow")
        XCTAssertEqual(CandleInterval.oneMinute.bucketStart(minute), minute)
    }
}
