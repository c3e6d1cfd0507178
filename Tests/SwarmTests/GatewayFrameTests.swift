import Market
import XCTest
@testable import Swarm

/// Reading the gateway's frames and accounting snapshots and conflation.
final class GatewayFrameTests: XCTestCase {
    private let quoteText = #"{"sym":"AAPL","seq":42,"bid":189.12,"ask":189.14,"last":189.13,"vol":300,"ts":1732460000123456789}"#

    private func parse(_ text: String) throws -> GatewayFrame {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { buffer in try GatewayFrame.parse(buffer) }
    }

    func testUpdateAndSnapshotFramesCarryQuoteAndPosition() throws {
        let quote = Quote(symbol: "AAPL", seq: 42, bid: 189.12, ask: 189.14, last: 189.13, volume: 300, timestamp: 1_732_460_000_123_456_789)
        XCTAssertEqual(try parse(#"{"type":"update","quote":"# + quoteText + #","token":"3:12345"}"#),
                       .quote(kind: .update, quote: quote, partition: 3, offset: 12345, quoteBytes: quoteText.utf8.count))
        XCTAssertEqual(try parse(#"{"type":"snapshot","quote":"# + quoteText + #","token":"0:7"}"#),
                       .quote(kind: .snapshot, quote: quote, partition: 0, offset: 7, quoteBytes: quoteText.utf8.count))
        // A snapshot the gateway loaded from prices.latest has no position.
        XCTAssertEqual(try parse(#"{"type":"snapshot","quote":"# + quoteText + "}"),
                       .quote(kind: .snapshot, quote: quote, partition: -1, offset: -1, quoteBytes: quoteText.utf8.count))
        XCTAssertThrowsError(try parse(#"{"type":"update","quote":"# + quoteText + "}"), "an update always has a token")
    }

    func testControlFrames() throws {
        XCTAssertEqual(try parse(#"{"type":"gap","reason":"outOfRange","partitions":[3,5]}"#),
                       .gap(reason: "outOfRange", partitions: [3, 5]))
        XCTAssertEqual(try parse(#"{"type":"gap","reason":"unavailable","partitions":[]}"#), .gap(reason: "unavailable", partitions: []))
        XCTAssertEqual(try parse(#"{"type":"stats","ts":1732460000123,"subscribed":20,"conflated":17}"#), .stats(conflated: 17))
        XCTAssertEqual(try parse(#"{"type":"error","code":"forbidden","message":"no","symbols":["TSLA"]}"#), .error(code: "forbidden"))
        XCTAssertEqual(try parse(#"{"type":"hello"}"#), .other(type: "hello"))
    }

    func testMalformedFramesAreTypedErrors() {
        XCTAssertThrowsError(try parse(#"{"kind":"update"}"#)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .malformed(at: 0, expected: #"{"type":""#))
        }
        XCTAssertThrowsError(try parse(#"{"type":"update","quote":{"sym":"AAPL"},"token":"3:1"}"#)) { error in
            guard case .badQuote = error as? GatewayFrameError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try parse(#"{"type":"update","quote":"# + quoteText + #","token":"x:1"}"#))
        XCTAssertThrowsError(try parse(#"{"type":"update","quote":"# + String(quoteText.dropLast())))
    }

    func testSubscribeAndResumeRequests() {
        var subscription = SwarmSubscription(client: 3, symbols: ["AAPL", "BRK.B"], partitions: [0])
        XCTAssertEqual(WebSocketSwarmTransport.request(for: subscription), #"{"op":"subscribe","symbols":["AAPL","BRK.B"]}"#)
        subscription.resumeFrom = [5: 89, 0: 18]
        XCTAssertEqual(WebSocketSwarmTransport.request(for: subscription),
                       #"{"op":"resume","token":"0:17,5:88","symbols":["AAPL","BRK.B"]}"#)
    }

    func testGatewayAddressParsing() throws {
        let configuration = try WebSocketSwarmTransport.Configuration(gateway: "127.0.0.1:8080")
        XCTAssertEqual(configuration.host, "127.0.0.1")
        XCTAssertEqual(configuration.port, 8080)
        XCTAssertThrowsError(try WebSocketSwarmTransport.Configuration(gateway: "127.0.0.1"))
        XCTAssertThrowsError(try WebSocketSwarmTransport.Configuration(gateway: ":80"))
        XCTAssertThrowsError(try WebSocketSwarmTransport.Configuration(gateway: "127.0.0.1:0"))
    }

    private func delivery(_ symbol: String, _ seq: UInt64, offset: Int64, partition: Int32 = 0) -> Delivery {
        Delivery(symbol: symbol, seq: seq, timestampNanos: 1000, partition: partition, offset: offset, receivedNanos: 2000, bytes: 100)
    }

    func testSnapshotSetsTheBaselineWithoutBeingADelivery() {
        var client = MobileClient(id: 0, watchlist: ["AAPL", "MSFT"])
        client.connected(atNanos: 0)
        XCTAssertEqual(client.acceptSnapshot(delivery("AAPL", 10, offset: 50, partition: 2)), .snapshot(missing: 0))
        XCTAssertEqual(client.accept(delivery("AAPL", 11, offset: 61, partition: 2)), .inOrder)
        XCTAssertEqual(client.acceptSnapshot(delivery("AAPL", 11, offset: 61, partition: 2)), .snapshot(missing: 0), "already seen")
        XCTAssertEqual(client.deliveries, 1)
        XCTAssertEqual(client.snapshots, 2)
        XCTAssertEqual(client.gaps, 0)
        XCTAssertEqual(client.resumeOffsets, [2: 62])
        // After a gap frame the fresh snapshot jumps: the quotes in between are missing.
        XCTAssertEqual(client.acceptSnapshot(delivery("AAPL", 15, offset: 90, partition: 2)), .snapshot(missing: 3))
        XCTAssertEqual(client.gaps, 1)
        XCTAssertEqual(client.missingQuotes, 3)
        XCTAssertEqual(client.expectedSeq["AAPL"], 16)
    }

    func testConflationReportsExplainSkipsAndOnlyTheRestIsAGap() {
        var client = MobileClient(id: 0, watchlist: ["AAPL"])
        client.connected(atNanos: 0)
        XCTAssertEqual(client.accept(delivery("AAPL", 1, offset: 1)), .inOrder)
        client.gatewayConflated(3)
        XCTAssertEqual(client.accept(delivery("AAPL", 4, offset: 4)), .conflated(skipped: 2, missing: 0))
        XCTAssertEqual(client.accept(delivery("AAPL", 7, offset: 7)), .conflated(skipped: 1, missing: 1))
        XCTAssertEqual(client.accept(delivery("AAPL", 9, offset: 9)), .gap(missing: 1))
        XCTAssertEqual(client.conflatedSkips, 3)
        XCTAssertEqual(client.conflationCredit, 0)
        XCTAssertEqual(client.gaps, 2)
        XCTAssertEqual(client.missingQuotes, 2)
        XCTAssertEqual(client.deliveries, 4)

        var stats = SwarmStats()
        stats.record(.conflated(skipped: 2, missing: 0), delivery: delivery("AAPL", 4, offset: 4), catchUp: false)
        stats.record(.snapshot(missing: 0), delivery: delivery("AAPL", 4, offset: 4), catchUp: false)
        stats.recordGatewayConflated(2)
        stats.recordGatewayGap()
        XCTAssertEqual(stats.totals, SwarmCounters(deliveries: 1, records: 2, bytes: 200).with {
            $0.snapshots = 1
            $0.conflated = 2
            $0.conflatedSkips = 2
            $0.gatewayGaps = 1
        })
        XCTAssertEqual(stats.latency.count, 1, "snapshots have no latency")
    }
}

private extension SwarmCounters {
    func with(_ change: (inout SwarmCounters) -> Void) -> SwarmCounters {
        var copy = self
        change(&copy)
        return copy
    }
}
