@testable import Gateway
import XCTest

final class QuoteHubTests: XCTestCase {
    func testSubscribeGetsSnapshotThenUpdatesInOffsetOrder() async {
        let hub = QuoteHub()
        await hub.publish("AAPL", partition: 3, offset: 10)
        await hub.publish("MSFT", partition: 1, offset: 4)
        await hub.publish("GOOG", partition: 1, offset: 5)
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["MSFT", "AAPL", "TSLA"])
        let snapshot = await hub.drainTexts(id)
        XCTAssertEqual(snapshot, [
            snapshotText("MSFT", seq: 4, partition: 1, offset: 4),
            snapshotText("AAPL", seq: 10, partition: 3, offset: 10),
        ])
        await hub.publish("AAPL", partition: 3, offset: 11)
        await hub.publish("GOOG", partition: 1, offset: 6)
        await hub.publish("MSFT", partition: 1, offset: 7)
        await hub.publish("AAPL", partition: 3, offset: 12)
        await hub.publish("TSLA", partition: 2, offset: 1)
        let updates = await hub.drainTexts(id)
        XCTAssertEqual(updates, [
            updateText("AAPL", seq: 11, partition: 3, offset: 11),
            updateText("MSFT", seq: 7, partition: 1, offset: 7),
            updateText("AAPL", seq: 12, partition: 3, offset: 12),
            updateText("TSLA", seq: 1, partition: 2, offset: 1),
        ])
        let counters = await hub.currentCounters()
        XCTAssertEqual(counters.quotesIn, 8)
        XCTAssertEqual(counters.framesOut, 6)
        XCTAssertEqual(counters.clients, 1)
        XCTAssertEqual(counters.symbols, 4)
    }

    func testUpdateFrameEmbedsRawQuoteBytesUnchanged() {
        let raw: [UInt8] = Array(#"{"sym":"X","seq":1,"bid":1.5,"ask":1.50000001,"last":1.5,"vol":0,"ts":1}"#.utf8)
        let frame = ServerFrame.update(quote: raw, partition: 7, offset: 123_456_789)
        XCTAssertEqual(frame.bytes, Array(#"{"type":"update","quote":"#.utf8) + raw + Array(#","token":"7:123456789"}"#.utf8))
        XCTAssertEqual(frame.partition, 7)
        XCTAssertEqual(frame.offset, 123_456_789)
    }

    func testUnsubscribeStopsUpdatesAndStaleOffsetsAreIgnored() async {
        let hub = QuoteHub()
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["AAPL", "MSFT"])
        await hub.publish("AAPL", offset: 1)
        await hub.unsubscribe(id, symbols: ["AAPL"])
        await hub.publish("AAPL", offset: 2)
        await hub.publish("MSFT", offset: 3)
        await hub.publish("MSFT", offset: 3)   // re-delivered
        await hub.publish("MSFT", offset: 2)   // older
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            updateText("AAPL", seq: 1, partition: 0, offset: 1),
            updateText("MSFT", seq: 3, partition: 0, offset: 3),
        ])
        let counters = await hub.currentCounters()
        XCTAssertEqual(counters.quotesIn, 3)
        XCTAssertEqual(counters.staleQuotes, 2)
    }

    func testSlowClientIsConflatedWithinBoundWhileFastClientGetsEveryUpdate() async {
        let hub = QuoteHub(configuration: HubConfiguration(queueBound: 4))
        let fast = await hub.connect(permission: .all)
        let slow = await hub.connect(permission: .all)
        await hub.subscribe(fast, symbols: ["AAPL", "MSFT"])
        await hub.subscribe(slow, symbols: ["AAPL", "MSFT"])
        var fastFrames: [String] = []
        for offset in Int64(0)..<20 {
            await hub.publish(offset % 2 == 0 ? "AAPL" : "MSFT", offset: offset)
            fastFrames += await hub.drainTexts(fast)
            let queued = await hub.queuedCount(slow)
            XCTAssertLessThanOrEqual(queued, 4, "slow client's queue at offset \(offset)")
        }
        XCTAssertEqual(fastFrames, (Int64(0)..<20).map {
            updateText($0 % 2 == 0 ? "AAPL" : "MSFT", seq: Int($0), partition: 0, offset: $0)
        })
        let slowBatch = await hub.drainTexts(slow)
        // The batch that reveals the skips starts with a stats frame counting them.
        XCTAssertEqual(slowBatch.first?.hasPrefix(#"{"type":"stats","ts":"#), true)
        XCTAssertEqual(slowBatch.first?.hasSuffix(#","subscribed":2,"conflated":14}"#), true)
        let slowFrames = Array(slowBatch.dropFirst())
        XCTAssertEqual(slowFrames, [
            updateText("AAPL", seq: 0, partition: 0, offset: 0),
            updateText("MSFT", seq: 1, partition: 0, offset: 1),
            updateText("AAPL", seq: 2, partition: 0, offset: 2),
            updateText("MSFT", seq: 3, partition: 0, offset: 3),
            updateText("AAPL", seq: 18, partition: 0, offset: 18),
            updateText("MSFT", seq: 19, partition: 0, offset: 19),
        ])
        // 16 quotes went to slots, two of them filling an empty slot: 14 replaced.
        let conflated = await hub.currentCounters().conflated
        XCTAssertEqual(conflated, 14)
        // Once drained, the slow client is back to in-order delivery.
        await hub.publish("AAPL", offset: 20)
        let after = await hub.drainTexts(slow)
        XCTAssertEqual(after, [updateText("AAPL", seq: 20, partition: 0, offset: 20)])
    }

    func testMaxRateCapsUpdatesPerSymbolAndFlushesLatestWhenAllowed() async {
        let clock = ManualClock()
        let hub = QuoteHub(configuration: HubConfiguration(maxRate: 2), clock: clock.hubClock)
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["AAPL", "MSFT"])
        clock.set(millis: 0)
        await hub.publish("AAPL", offset: 1)
        clock.set(millis: 100)
        await hub.publish("AAPL", offset: 2)
        await hub.publish("MSFT", offset: 3)
        clock.set(millis: 200)
        await hub.publish("AAPL", offset: 4)
        clock.set(millis: 300)
        await hub.publish("AAPL", offset: 5)
        var frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            #"{"type":"stats","ts":1732460000000,"subscribed":2,"conflated":2}"#,
            updateText("AAPL", seq: 1, partition: 0, offset: 1),
            updateText("MSFT", seq: 3, partition: 0, offset: 3),
        ])
        clock.set(millis: 499)
        await hub.tick()
        frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [])
        clock.set(millis: 500)
        await hub.tick()
        frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [updateText("AAPL", seq: 5, partition: 0, offset: 5)])
        // The next AAPL update must wait for 1000 ms.
        clock.set(millis: 700)
        await hub.publish("AAPL", offset: 6)
        frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [])
        clock.set(millis: 1000)
        await hub.tick()
        frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [updateText("AAPL", seq: 6, partition: 0, offset: 6)])
        let conflated = await hub.currentCounters().conflated
        XCTAssertEqual(conflated, 2)
    }

    func testClientMayLowerButNotRaiseTheRateCap() async {
        let clock = ManualClock()
        let hub = QuoteHub(configuration: HubConfiguration(maxRate: 10), clock: clock.hubClock)
        let lowered = await hub.connect(permission: .all, maxRate: 1)
        let raised = await hub.connect(permission: .all, maxRate: 1000)
        await hub.subscribe(lowered, symbols: ["AAPL"])
        await hub.subscribe(raised, symbols: ["AAPL"])
        for (millis, offset) in [(0, 1), (150, 2), (300, 3)] as [(UInt64, Int64)] {
            clock.set(millis: millis)
            await hub.publish("AAPL", offset: offset)
        }
        let loweredFrames = await hub.drainTexts(lowered)
        let raisedFrames = await hub.drainTexts(raised)
        XCTAssertEqual(loweredFrames, [
            #"{"type":"stats","ts":1732460000000,"subscribed":1,"conflated":1}"#,
            updateText("AAPL", seq: 1, partition: 0, offset: 1),
        ])
        XCTAssertEqual(raisedFrames, [
            updateText("AAPL", seq: 1, partition: 0, offset: 1),
            updateText("AAPL", seq: 2, partition: 0, offset: 2),
            updateText("AAPL", seq: 3, partition: 0, offset: 3),
        ])
    }

    func testUnauthorisedSymbolsAreRefused() async {
        let hub = QuoteHub()
        await hub.publish("AAPL", offset: 1)
        await hub.publish("MSFT", offset: 2)
        let id = await hub.connect(permission: SymbolPermission(claim: ["AAPL"]))
        await hub.subscribe(id, symbols: ["AAPL", "MSFT", "*"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            #"{"type":"error","code":"forbidden","message":"not authorised for these symbols","symbols":["MSFT","*"]}"#,
            snapshotText("AAPL", seq: 1, partition: 0, offset: 1),
        ])
        await hub.publish("MSFT", offset: 3)
        await hub.publish("AAPL", offset: 4)
        let updates = await hub.drainTexts(id)
        XCTAssertEqual(updates, [updateText("AAPL", seq: 4, partition: 0, offset: 4)])
        let latest = await hub.latestQuotes(permission: SymbolPermission(claim: ["AAPL"]))
        XCTAssertEqual(latest, [quoteBytes("AAPL", seq: 4)])
    }

    func testWildcardSubscriptionGetsEverySymbol() async {
        let hub = QuoteHub()
        await hub.publish("MSFT", offset: 1)
        await hub.publish("AAPL", offset: 2)
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["*"])
        await hub.publish("ZZZ", offset: 3)
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            snapshotText("AAPL", seq: 2, partition: 0, offset: 2),
            snapshotText("MSFT", seq: 1, partition: 0, offset: 1),
            updateText("ZZZ", seq: 3, partition: 0, offset: 3),
        ])
    }

    func testMalformedRequestGetsErrorFrame() async {
        let hub = QuoteHub()
        let id = await hub.connect(permission: .all)
        await hub.handle(requestBytes: Array("not json".utf8), from: id)
        await hub.handle(requestBytes: Array(#"{"op":"dance","symbols":[]}"#.utf8), from: id)
        await hub.handle(requestBytes: Array(#"{"op":"subscribe","symbols":["A\"B"]}"#.utf8), from: id)
        await hub.handle(requestBytes: Array(#"{"op":"resume","token":"3:x","symbols":["A"]}"#.utf8), from: id)
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            #"{"type":"error","code":"badRequest","message":"request is not a JSON object"}"#,
            #"{"type":"error","code":"badRequest","message":"unknown op 'dance'"}"#,
            #"{"type":"error","code":"badRequest","message":"invalid symbol 'A\"B'"}"#,
            #"{"type":"error","code":"badRequest","message":"resume token pair '3:x' is not partition:offset"}"#,
        ])
    }

    func testHeartbeatQueuesStatsFrame() async {
        let hub = QuoteHub(clock: ManualClock().hubClock)
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["AAPL", "MSFT"])
        await hub.heartbeat()
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [#"{"type":"stats","ts":1732460000000,"subscribed":2,"conflated":0}"#])
    }

    func testWaitingWriterIsWokenByPublishAndReleasedByDisconnect() async {
        let hub = QuoteHub()
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["AAPL"])
        let waiting = Task { await hub.nextFrames(for: id)?.map(\.text) }
        await hub.publish("AAPL", offset: 1)
        let woken = await waiting.value
        XCTAssertEqual(woken, [updateText("AAPL", seq: 1, partition: 0, offset: 1)])
        let ended = Task { await hub.nextFrames(for: id) }
        await hub.disconnect(id)
        let last = await ended.value
        XCTAssertNil(last)
        let clients = await hub.currentCounters().clients
        XCTAssertEqual(clients, 0)
    }

    func testLoadLatestSeedsSnapshots() async throws {
        struct Source: LatestQuotesSource {
            func latestQuotes() async throws -> [LatestQuote] {
                [LatestQuote(symbol: "AAPL", partition: 2, offset: 40, value: quoteBytes("AAPL", seq: 40))]
            }
        }
        let hub = QuoteHub()
        let taken = try await hub.loadLatest(from: Source())
        XCTAssertEqual(taken, 1)
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["AAPL"])
        await hub.publish("AAPL", partition: 2, offset: 40)   // already known: ignored
        await hub.publish("AAPL", partition: 2, offset: 41)
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            snapshotText("AAPL", seq: 40, partition: 2, offset: 40),
            updateText("AAPL", seq: 41, partition: 2, offset: 41),
        ])
    }

    /// Quotes read from the compacted `prices.latest` carry that topic's offsets, which
    /// say nothing about `prices`: their snapshots have no token, and a live quote at a
    /// lower `prices` offset is not taken for a stale one.
    func testLatestQuotesWithoutAPositionAreSnapshotsOnly() async throws {
        struct Source: LatestQuotesSource {
            func latestQuotes() async throws -> [LatestQuote] {
                [LatestQuote(symbol: "AAPL", partition: 2, offset: nil, value: quoteBytes("AAPL", seq: 900))]
            }
        }
        let hub = QuoteHub()
        let taken = try await hub.loadLatest(from: Source())
        XCTAssertEqual(taken, 1)
        let id = await hub.connect(permission: .all)
        await hub.subscribe(id, symbols: ["AAPL"])
        await hub.publish("AAPL", partition: 2, offset: 5)
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            #"{"type":"snapshot","quote":"# + String(decoding: quoteBytes("AAPL", seq: 900), as: UTF8.self) + "}",
            updateText("AAPL", seq: 5, partition: 2, offset: 5),
        ])
    }
}
