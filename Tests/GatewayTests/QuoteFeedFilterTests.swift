@testable import Gateway
import NIOCore
import XCTest

/// The feed forwards only records that are quotes keyed by their own symbol.
final class QuoteFeedFilterTests: XCTestCase {
    private let quote = #"{"sym":"AAPL","seq":7,"bid":189.5,"ask":189.52,"last":189.51,"vol":300,"ts":1732460000000000000}"#

    func testAQuoteKeyedByItsSymbolPasses() {
        XCTAssertEqual(KafkaQuoteFeed.quoteSymbol(key: ByteBuffer(string: "AAPL"), value: ByteBuffer(string: quote)), "AAPL")
    }

    func testEverythingElseIsSkipped() {
        let cases: [(key: ByteBuffer?, value: ByteBuffer?, why: String)] = [
            (ByteBuffer(string: "MSFT"), ByteBuffer(string: quote), "keyed by another symbol"),
            (nil, ByteBuffer(string: quote), "no key"),
            (ByteBuffer(string: "AAPL"), nil, "a tombstone"),
            (ByteBuffer(string: "AAPL"), ByteBuffer(string: "hello"), "not JSON"),
            (ByteBuffer(string: "AAPL"), ByteBuffer(string: String(quote.dropLast())), "truncated JSON"),
            (ByteBuffer(string: "AAPL"), ByteBuffer(string: #"{"sym":"AAPL","seq":7}"#), "a JSON object missing fields"),
        ]
        for entry in cases {
            XCTAssertNil(KafkaQuoteFeed.quoteSymbol(key: entry.key, value: entry.value), entry.why)
        }
    }
}
