import XCTest
@testable import Swarm

final class LatencyHistogramTests: XCTestCase {
    /// A reproducible spread of latencies from 0.5 µs to ~70 s (some clamped).
    private func values(seed: UInt64, count: Int) -> [Int64] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let exponent = generator.nextUnit() * 8   // 10^2.7 … 10^10.8 ns
            return Int64(500 * pow(10, exponent))
        }
    }

    func testMergingWorkerHistogramsEqualsOneHistogramOfAllValues() throws {
        let parts = (0..<4).map { values(seed: UInt64($0 + 1), count: 5000) }
        var single = LatencyHistogram()
        for value in parts.joined() { single.record(nanos: value) }

        var merged = LatencyHistogram()
        for part in parts {
            var worker = LatencyHistogram()
            for value in part { worker.record(nanos: value) }
            // Through the wire form, as the coordinator receives it.
            merged.add(try LatencyHistogram(worker.serialized()))
        }
        XCTAssertEqual(merged.count, 20_000)
        XCTAssertEqual(merged.count, single.count)
        XCTAssertEqual(merged.clamped, single.clamped)
        for percentile in [0.0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100] {
            XCTAssertEqual(merged.micros(atPercentile: percentile), single.micros(atPercentile: percentile), "p\(percentile)")
        }
        XCTAssertEqual(merged.maxMicros, single.maxMicros)
        XCTAssertEqual(merged.serialized(), single.serialized())
    }

    func testSerializedRoundTripKeepsEveryCount() throws {
        var histogram = LatencyHistogram()
        histogram.record(micros: 1, count: 3)
        histogram.record(micros: 1500, count: 2)
        histogram.record(micros: 2_000_000)
        histogram.record(micros: 90_000_000)  // above 60 s: clamped
        let serialized = histogram.serialized()
        XCTAssertEqual(serialized.totalCount, 7)
        XCTAssertEqual(serialized.clamped, 1)
        XCTAssertEqual(serialized.buckets.map { $0[1] }, [3, 2, 1, 1])
        XCTAssertEqual(try LatencyHistogram(serialized), histogram)
    }

    func testInconsistentSerializedHistogramIsRejected() {
        let bad = SerializedHistogram(totalCount: 5, clamped: 0, buckets: [[10, 2]])
        XCTAssertThrowsError(try LatencyHistogram(bad))
        let malformed = SerializedHistogram(totalCount: 1, clamped: 0, buckets: [[10]])
        XCTAssertThrowsError(try LatencyHistogram(malformed))
    }

    func testNegativeAndSubMicrosecondLatenciesRecordAsZero() {
        var histogram = LatencyHistogram()
        histogram.record(nanos: -5_000)
        histogram.record(nanos: 999)
        XCTAssertEqual(histogram.count, 2)
        XCTAssertEqual(histogram.micros(atPercentile: 100), 0)
    }

    func testStatsKeepCatchUpLatencyApart() {
        var stats = SwarmStats()
        let live = Delivery(symbol: "A", seq: 1, timestampNanos: 0, partition: 0, offset: 0, receivedNanos: 2_000_000, bytes: 80)
        let late = Delivery(symbol: "A", seq: 2, timestampNanos: 0, partition: 0, offset: 1, receivedNanos: 9_000_000_000, bytes: 80)
        stats.record(.inOrder, delivery: live, catchUp: false)
        stats.record(.gap(missing: 2), delivery: late, catchUp: true)
        stats.record(.duplicate, delivery: live, catchUp: false)
        stats.record(.unwatched, delivery: live, catchUp: false)
        stats.record(.ignoredWhileDisconnected, delivery: live, catchUp: false)
        XCTAssertEqual(stats.totals, SwarmCounters(deliveries: 2, catchUpDeliveries: 1, records: 4, bytes: 320, gaps: 1, missingQuotes: 2, duplicates: 1))
        XCTAssertEqual(stats.latency.count, 1)
        XCTAssertEqual(stats.catchUpLatency.count, 1)
        let second = stats.closeSecond(connectedClients: 3)
        XCTAssertEqual(second.second, 0)
        XCTAssertEqual(second.counters.deliveries, 2)
        XCTAssertEqual(second.latency.count, 1)
        XCTAssertEqual(stats.currentSecond, 1)
        XCTAssertEqual(stats.closeSecond(connectedClients: 3).counters, SwarmCounters())
    }
}
