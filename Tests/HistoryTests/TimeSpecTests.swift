import History
import XCTest

final class TimeSpecTests: XCTestCase {
    /// 2026-11-26T10:00:00Z
    let tenOClock: Int64 = 1_795_687_200 * 1_000_000_000

    func testNow() throws {
        XCTAssertEqual(try TimeSpec(parsing: "now"), .now)
        XCTAssertEqual(try TimeSpec(parsing: " NOW "), .now)
        XCTAssertEqual(TimeSpec.now.resolve(now: 42), 42)
    }

    func testRelativeDurations() throws {
        XCTAssertEqual(try TimeSpec(parsing: "30s"), .ago(nanoseconds: 30_000_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "10m"), .ago(nanoseconds: 600_000_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "2h"), .ago(nanoseconds: 7_200_000_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "1d"), .ago(nanoseconds: 86_400_000_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "500ms"), .ago(nanoseconds: 500_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "1.5h"), .ago(nanoseconds: 5_400_000_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "1h30m"), .ago(nanoseconds: 5_400_000_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "10m").resolve(now: tenOClock), tenOClock - 600_000_000_000)
    }

    func testISO8601() throws {
        XCTAssertEqual(try TimeSpec(parsing: "2026-11-26T10:00:00Z"), .absolute(nanoseconds: tenOClock))
        XCTAssertEqual(try TimeSpec(parsing: "2026-11-26T10:00:00.123456789Z"), .absolute(nanoseconds: tenOClock + 123_456_789))
        XCTAssertEqual(try TimeSpec(parsing: "2026-11-26T10:00:00.5Z"), .absolute(nanoseconds: tenOClock + 500_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "2026-11-26T12:00:00+02:00"), .absolute(nanoseconds: tenOClock))
        XCTAssertEqual(try TimeSpec(parsing: "2026-11-26T05:30:00-0430"), .absolute(nanoseconds: tenOClock))
        XCTAssertEqual(try TimeSpec(parsing: "2026-11-26 10:00"), .absolute(nanoseconds: tenOClock))
        XCTAssertEqual(try TimeSpec(parsing: "2026-11-26"), .absolute(nanoseconds: tenOClock - 36_000_000_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "1970-01-01T00:00:00Z"), .absolute(nanoseconds: 0))
        XCTAssertEqual(try TimeSpec(parsing: "2024-02-29T00:00:00Z"), .absolute(nanoseconds: 1_709_164_800_000_000_000))
    }

    func testUnixNumbersByMagnitude() throws {
        XCTAssertEqual(try TimeSpec(parsing: "1795687200"), .absolute(nanoseconds: tenOClock))
        XCTAssertEqual(try TimeSpec(parsing: "1795687200.25"), .absolute(nanoseconds: tenOClock + 250_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "1795687200123"), .absolute(nanoseconds: tenOClock + 123_000_000))
        XCTAssertEqual(try TimeSpec(parsing: "1795687200123456"), .absolute(nanoseconds: tenOClock + 123_456_000))
        XCTAssertEqual(try TimeSpec(parsing: "1795687200123456789"), .absolute(nanoseconds: tenOClock + 123_456_789))
    }

    func testRejectsNonsense() {
        for text in ["", "soon", "10x", "m", "2026-13-01", "2026-02-30", "2026-11-26T25:00Z", "2026-11-26T10:00:00.Z",
                     "2026-11-26T10:00:00Zjunk", "1795687200123.5", "1.2.3"] {
            XCTAssertThrowsError(try TimeSpec(parsing: text), "\(text) should not parse")
        }
        XCTAssertThrowsError(try TimeSpec(parsing: "10x")) { error in
            XCTAssertEqual((error as? TimeSpecError)?.input, "10x")
        }
    }

    func testISO8601Formatting() {
        XCTAssertEqual(CivilTime.iso8601(tenOClock + 123_456_789), "2026-11-26T10:00:00.123Z")
        XCTAssertEqual(CivilTime.iso8601(tenOClock + 123_456_789, fractionDigits: 9), "2026-11-26T10:00:00.123456789Z")
        XCTAssertEqual(CivilTime.iso8601(tenOClock, fractionDigits: 0), "2026-11-26T10:00:00Z")
        XCTAssertEqual(CivilTime.iso8601(-1, fractionDigits: 9), "1969-12-31T23:59:59.999999999Z")
    }
}
