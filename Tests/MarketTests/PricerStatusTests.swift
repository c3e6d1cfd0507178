import XCTest
@testable import Market

final class PricerStatusTests: XCTestCase {
    func testStatusLine() {
        let status = PricerStatus(elapsedSeconds: 12.04, sent: 12_000, acked: 11_950, inFlight: 50, errors: 0, quotesPerSecond: 999.6, targetRate: 1000)
        XCTAssertEqual(status.statusLine, "[   12.0s] 1,000 quotes/s (target 1,000)  sent 12,000  acked 11,950  in flight 50  errors 0")
        let untargeted = PricerStatus(elapsedSeconds: 0, sent: 0, acked: 0, inFlight: 0, errors: 3, quotesPerSecond: .nan)
        XCTAssertEqual(untargeted.statusLine, "[    0.0s] 0 quotes/s  sent 0  acked 0  in flight 0  errors 3")
    }

    func testSummary() {
        let status = PricerStatus(elapsedSeconds: 60, sent: 60_000, acked: 59_990, inFlight: 0, errors: 4, quotesPerSecond: 1000, targetRate: 1000)
        XCTAssertEqual(status.summary(symbols: 500), "pricer: sent 60,000 quotes for 500 symbols in 60.0s (1,000.0 quotes/s, target 1,000); acked 59,990, errors 4, unacknowledged 6")
        let empty = PricerStatus(elapsedSeconds: 0, sent: 0, acked: 0, inFlight: 0, errors: 0, quotesPerSecond: 0)
        XCTAssertEqual(empty.summary(symbols: 1), "pricer: sent 0 quotes for 1 symbols in 0.0s (0.0 quotes/s); acked 0, errors 0, unacknowledged 0")
    }

    func testNumberFormatting() {
        XCTAssertEqual(StatusFormat.grouped(Int64(1_234_567)), "1,234,567")
        XCTAssertEqual(StatusFormat.grouped(Int64(-1_200)), "-1,200")
        XCTAssertEqual(StatusFormat.grouped(Int64(999)), "999")
        XCTAssertEqual(StatusFormat.grouped(UInt64.max), "18446744073709551615")
        XCTAssertEqual(StatusFormat.fixed(1234.56, decimals: 1, grouping: true), "1,234.6")
        XCTAssertEqual(StatusFormat.fixed(0.05, decimals: 2), "0.05")
        XCTAssertEqual(StatusFormat.fixed(-0.004, decimals: 2), "0.00")
        XCTAssertEqual(StatusFormat.fixed(-3.25, decimals: 1), "-3.3")
        XCTAssertEqual(StatusFormat.fixed(7, decimals: 0), "7")
        XCTAssertEqual(StatusFormat.fixed(.infinity, decimals: 1), "inf")
        XCTAssertEqual(StatusFormat.padLeft("ab", to: 4), "  ab")
    }
}
