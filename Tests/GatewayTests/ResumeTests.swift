@testable import Gateway
import XCTest

final class ResumeTests: XCTestCase {
    /// Partition 0: AAPL 0, MSFT 1, AAPL 2, GOOG 3, AAPL 4, MSFT 5; partition 1: TSLA 0, TSLA 1.
    let partition0 = logRecords([(0, "AAPL"), (1, "MSFT"), (2, "AAPL"), (3, "GOOG"), (4, "AAPL"), (5, "MSFT")])
    let partition1 = logRecords([(0, "TSLA"), (1, "TSLA")])

    func makeHub(reader: FakeLogReader?) async -> QuoteHub {
        let hub = QuoteHub(logReader: reader)
        for record in partition0 { await hub.publish(record.symbol, partition: 0, offset: record.offset) }
        for record in partition1 { await hub.publish(record.symbol, partition: 1, offset: record.offset) }
        return hub
    }

    func testResumeDeliversExactlyTheMissedUpdates() async throws {
        let reader = FakeLogReader(log: [0: partition0, 1: partition1])
        let hub = await makeHub(reader: reader)
        let id = await hub.connect(permission: .all)
        await hub.resume(id, token: try ResumeToken(parsing: "0:1,1:0"), symbols: ["AAPL", "MSFT", "TSLA"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            updateText("AAPL", seq: 2, partition: 0, offset: 2),
            updateText("AAPL", seq: 4, partition: 0, offset: 4),
            updateText("MSFT", seq: 5, partition: 0, offset: 5),
            updateText("TSLA", seq: 1, partition: 1, offset: 1),
        ])
        let symbols: Set<String> = ["AAPL", "MSFT", "TSLA"]
        XCTAssertEqual(reader.recordedCalls, [
            .init(partition: 0, fromOffset: 2, symbols: symbols, limit: 500),
            .init(partition: 1, fromOffset: 1, symbols: symbols, limit: 500),
        ])
        // Resumed clients are subscribed: live updates follow.
        await hub.publish("TSLA", partition: 1, offset: 2)
        let live = await hub.drainTexts(id)
        XCTAssertEqual(live, [updateText("TSLA", seq: 2, partition: 1, offset: 2)])
        let counters = await hub.currentCounters()
        XCTAssertEqual(counters.resumesReplayed, 1)
        XCTAssertEqual(counters.resumeGaps, 0)
    }

    func testResumeReadsInPagesOfTheConfiguredBatch() async throws {
        let reader = FakeLogReader(log: [0: partition0])
        let hub = QuoteHub(configuration: HubConfiguration(resumeReadBatch: 2), logReader: reader)
        for record in partition0 { await hub.publish(record.symbol, partition: 0, offset: record.offset) }
        let id = await hub.connect(permission: .all)
        await hub.resume(id, token: ResumeToken(partition: 0, offset: -1), symbols: ["AAPL"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [0, 2, 4].map { updateText("AAPL", seq: $0, partition: 0, offset: Int64($0)) })
        XCTAssertEqual(reader.recordedCalls.map(\.fromOffset), [0, 3])
    }

    func testSymbolsOnPartitionsMissingFromTheTokenGetASnapshot() async throws {
        let reader = FakeLogReader(log: [0: partition0, 1: partition1])
        let hub = await makeHub(reader: reader)
        let id = await hub.connect(permission: .all)
        await hub.resume(id, token: try ResumeToken(parsing: "0:3"), symbols: ["AAPL", "TSLA"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            updateText("AAPL", seq: 4, partition: 0, offset: 4),
            snapshotText("TSLA", seq: 1, partition: 1, offset: 1),
        ])
    }

    func testOutOfRangeYieldsGapThenFreshSnapshot() async throws {
        let reader = FakeLogReader(log: [0: partition0, 1: partition1], logStart: [0: 3])
        let hub = await makeHub(reader: reader)
        let id = await hub.connect(permission: .all)
        await hub.resume(id, token: try ResumeToken(parsing: "0:1,1:0"), symbols: ["AAPL", "MSFT", "TSLA"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            #"{"type":"gap","reason":"outOfRange","partitions":[0]}"#,
            updateText("TSLA", seq: 1, partition: 1, offset: 1),
            snapshotText("AAPL", seq: 4, partition: 0, offset: 4),
            snapshotText("MSFT", seq: 5, partition: 0, offset: 5),
        ])
        let gaps = await hub.currentCounters().resumeGaps
        XCTAssertEqual(gaps, 1)
    }

    func testResumeWithoutLogReaderIsAGap() async throws {
        let hub = await makeHub(reader: nil)
        let id = await hub.connect(permission: .all)
        await hub.resume(id, token: try ResumeToken(parsing: "1:0"), symbols: ["TSLA"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            #"{"type":"gap","reason":"unavailable","partitions":[1]}"#,
            snapshotText("TSLA", seq: 1, partition: 1, offset: 1),
        ])
    }

    func testResumeAtTheHeadReadsNothing() async throws {
        let reader = FakeLogReader(log: [0: partition0])
        let hub = await makeHub(reader: reader)
        let id = await hub.connect(permission: .all)
        await hub.resume(id, token: try ResumeToken(parsing: "0:5"), symbols: ["AAPL"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [])
        XCTAssertEqual(reader.recordedCalls, [])
    }

    func testLiveQuotesDuringTheLogReadFollowTheReplayOnce() async throws {
        let box = HubBox()
        // While the log is read, offsets 6 (AAPL) and 7 (MSFT) arrive live; the
        // log the reader sees already holds 6 as well, so 6 must not come twice.
        let log = partition0 + logRecords([(6, "AAPL")])
        let reader = FakeLogReader(log: [0: log], duringRead: {
            guard let hub = box.hub else { return }
            await hub.publish("AAPL", partition: 0, offset: 6)
            await hub.publish("MSFT", partition: 0, offset: 7)
        })
        let hub = await makeHub(reader: reader)
        box.hub = hub
        let id = await hub.connect(permission: .all)
        await hub.resume(id, token: try ResumeToken(parsing: "0:3"), symbols: ["AAPL", "MSFT"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            updateText("AAPL", seq: 4, partition: 0, offset: 4),
            updateText("MSFT", seq: 5, partition: 0, offset: 5),
            updateText("AAPL", seq: 6, partition: 0, offset: 6),
            updateText("MSFT", seq: 7, partition: 0, offset: 7),
        ])
    }

    func testResumeIsRefusedForUnauthorisedSymbols() async throws {
        let reader = FakeLogReader(log: [0: partition0])
        let hub = await makeHub(reader: reader)
        let id = await hub.connect(permission: .only(["MSFT"]))
        await hub.resume(id, token: try ResumeToken(parsing: "0:0"), symbols: ["AAPL", "MSFT"])
        let frames = await hub.drainTexts(id)
        XCTAssertEqual(frames, [
            #"{"type":"error","code":"forbidden","message":"not authorised for these symbols","symbols":["AAPL"]}"#,
            updateText("MSFT", seq: 1, partition: 0, offset: 1),
            updateText("MSFT", seq: 5, partition: 0, offset: 5),
        ])
        XCTAssertEqual(reader.recordedCalls.map(\.symbols), [["MSFT"]])
    }
}

/// Lets a fake reader reach the hub it is installed in.
final class HubBox: @unchecked Sendable {
    // Set once before the resume starts, read only afterwards.
    var hub: QuoteHub?
}

final class ResumeTokenTests: XCTestCase {
    func testParsesSingleAndMultiPartitionTokens() throws {
        XCTAssertEqual(try ResumeToken(parsing: "3:12345").offsets, [3: 12345])
        XCTAssertEqual(try ResumeToken(parsing: "5:88, 0:17,3:12345").offsets, [0: 17, 3: 12345, 5: 88])
        XCTAssertEqual(try ResumeToken(parsing: "5:88,0:17,3:12345").text, "0:17,3:12345,5:88")
    }

    func testRefusesMalformedTokens() {
        XCTAssertThrowsError(try ResumeToken(parsing: "")) { XCTAssertEqual($0 as? ResumeToken.ParseError, .empty) }
        XCTAssertThrowsError(try ResumeToken(parsing: "3")) { XCTAssertEqual($0 as? ResumeToken.ParseError, .malformedPair("3")) }
        XCTAssertThrowsError(try ResumeToken(parsing: "1:2,1:3")) {
            XCTAssertEqual($0 as? ResumeToken.ParseError, .duplicatePartition(1))
        }
        XCTAssertThrowsError(try ResumeToken(parsing: "-1:2")) {
            XCTAssertEqual($0 as? ResumeToken.ParseError, .malformedPair("-1:2"))
        }
    }

    func testAdvanceOnlyMovesForward() {
        var token = ResumeToken(partition: 2, offset: 10)
        token.advance(partition: 2, offset: 9)
        token.advance(partition: 0, offset: 4)
        token.advance(partition: 2, offset: 11)
        XCTAssertEqual(token.text, "0:4,2:11")
    }

    func testParsesClientRequests() throws {
        XCTAssertEqual(try ClientRequest(parsing: Array(#"{"op":"subscribe","symbols":["AAPL","MSFT"]}"#.utf8)),
                       .subscribe(symbols: ["AAPL", "MSFT"]))
        XCTAssertEqual(try ClientRequest(parsing: Array(#"{"op":"unsubscribe","symbols":["AAPL"]}"#.utf8)),
                       .unsubscribe(symbols: ["AAPL"]))
        XCTAssertEqual(try ClientRequest(parsing: Array(#"{"op":"resume","token":"0:1,2:3","symbols":["*"]}"#.utf8)),
                       .resume(token: ResumeToken(offsets: [0: 1, 2: 3]), symbols: ["*"]))
        XCTAssertThrowsError(try ClientRequest(parsing: Array(#"{"op":"subscribe"}"#.utf8))) {
            XCTAssertEqual($0 as? ClientRequest.ParseError, .missingField("symbols"))
        }
    }
}
