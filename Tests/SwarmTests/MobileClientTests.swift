import XCTest
@testable import Swarm

final class MobileClientTests: XCTestCase {
    private func quote(_ symbol: String, _ seq: UInt64, partition: Int32 = 0, offset: Int64, ts: Int64 = 1_000, received: Int64 = 2_000) -> Delivery {
        Delivery(symbol: symbol, seq: seq, timestampNanos: ts, partition: partition, offset: offset, receivedNanos: received, bytes: 100)
    }

    func testFirstSeqSetsBaselineThenGapsAndDuplicatesAreExact() {
        var client = MobileClient(id: 7, watchlist: ["AAPL", "MSFT"])
        client.connected(atNanos: 0)
        XCTAssertEqual(client.accept(quote("AAPL", 40, offset: 0)), .inOrder)          // baseline
        XCTAssertEqual(client.accept(quote("AAPL", 41, offset: 1)), .inOrder)
        XCTAssertEqual(client.accept(quote("AAPL", 45, offset: 2)), .gap(missing: 3))  // 42, 43, 44 missing
        XCTAssertEqual(client.accept(quote("AAPL", 44, offset: 3)), .duplicate)
        XCTAssertEqual(client.accept(quote("AAPL", 45, offset: 4)), .duplicate)
        XCTAssertEqual(client.accept(quote("AAPL", 46, offset: 5)), .inOrder)
        XCTAssertEqual(client.accept(quote("MSFT", 1, offset: 6)), .inOrder)
        XCTAssertEqual(client.accept(quote("MSFT", 3, offset: 7)), .gap(missing: 1))
        XCTAssertEqual(client.accept(quote("GOOG", 9, offset: 8)), .unwatched)
        XCTAssertEqual(client.deliveries, 6)
        XCTAssertEqual(client.gaps, 2)
        XCTAssertEqual(client.missingQuotes, 4)
        XCTAssertEqual(client.duplicates, 2)
        XCTAssertEqual(client.expectedSeq, ["AAPL": 47, "MSFT": 4])
        XCTAssertEqual(client.lastOffsets, [0: 8])
    }

    func testResumeAfterReconnectContinuesWithoutGap() {
        var client = MobileClient(id: 1, watchlist: ["AAPL"])
        client.connected(atNanos: 0)
        XCTAssertEqual(client.accept(quote("AAPL", 1, partition: 3, offset: 100)), .inOrder)
        XCTAssertEqual(client.accept(quote("IBM", 7, partition: 3, offset: 101)), .unwatched)
        XCTAssertEqual(client.accept(quote("AAPL", 2, partition: 5, offset: 20)), .inOrder)
        client.disconnected()
        // In flight when the connection dropped: ignored, offsets do not move.
        XCTAssertEqual(client.accept(quote("AAPL", 3, partition: 3, offset: 102)), .ignoredWhileDisconnected)
        XCTAssertEqual(client.resumeOffsets, [3: 102, 5: 21])
        client.connected(atNanos: 5_000)
        XCTAssertEqual(client.reconnects, 1)
        // The transport resumes at offset 102: the next quote continues the sequence.
        XCTAssertEqual(client.accept(quote("AAPL", 3, partition: 3, offset: 102, ts: 4_000)), .inOrder)
        XCTAssertEqual(client.accept(quote("AAPL", 4, partition: 5, offset: 21, ts: 6_000)), .inOrder)
        XCTAssertEqual(client.gaps, 0)
        XCTAssertEqual(client.duplicates, 0)
        XCTAssertEqual(client.deliveries, 4)
        XCTAssertTrue(client.isCatchUp(timestampNanos: 4_000))
        XCTAssertFalse(client.isCatchUp(timestampNanos: 6_000))
    }

    func testResumingFromAStaleOffsetShowsAsGapNotNewBaseline() {
        var client = MobileClient(id: 1, watchlist: ["AAPL"])
        client.connected(atNanos: 0)
        _ = client.accept(quote("AAPL", 10, offset: 0))
        client.disconnected()
        client.connected(atNanos: 1)
        // Resumed too far ahead: the carried-over expectation (11) exposes the gap.
        XCTAssertEqual(client.accept(quote("AAPL", 14, offset: 9)), .gap(missing: 3))
    }

    func testFreshSubscriptionStartOffsetBecomesResumePoint() {
        var client = MobileClient(id: 1, watchlist: ["AAPL"])
        client.connected(atNanos: 0)
        client.startedReading(partition: 2, at: 500)
        XCTAssertEqual(client.resumeOffsets, [2: 500])
        client.disconnected()
        client.connected(atNanos: 10)
        XCTAssertEqual(client.resumeOffsets, [2: 500])
    }

    func testPauseAndResumeMarkCatchUp() {
        var client = MobileClient(id: 1, watchlist: ["AAPL"])
        client.connected(atNanos: 0)
        client.paused()
        XCTAssertEqual(client.state, .paused)
        client.resumed(atNanos: 9_000)
        XCTAssertEqual(client.state, .connected)
        XCTAssertTrue(client.isCatchUp(timestampNanos: 8_999))
        XCTAssertFalse(client.isCatchUp(timestampNanos: 9_000))
        XCTAssertEqual(client.reconnects, 0)
    }

    func testSlowReaderLinkDelaysByBandwidthAndAddedLatency() {
        var link = SlowReaderLink(bytesPerSecond: 1000, addedLatencyNanos: 50_000_000)
        let first = link.shape(Delivery(symbol: "A", seq: 1, timestampNanos: 0, partition: 0, offset: 0, receivedNanos: 1_000_000_000, bytes: 100))
        // 100 bytes at 1000 B/s = 100 ms on the link, plus 50 ms.
        XCTAssertEqual(first.receivedNanos, 1_150_000_000)
        // Arrives while the link is busy (until 1.1 s): waits for it.
        let second = link.shape(Delivery(symbol: "A", seq: 2, timestampNanos: 0, partition: 0, offset: 1, receivedNanos: 1_050_000_000, bytes: 200))
        XCTAssertEqual(second.receivedNanos, 1_350_000_000)
        XCTAssertEqual(link.busyUntilNanos, 1_300_000_000)
    }
}
