import XCTest
@testable import Market

/// A clock the test moves by hand.
final class FakeClock: NanosecondClock, @unchecked Sendable {
    var now: UInt64
    init(_ now: UInt64) { self.now = now }
    func nanoseconds() -> UInt64 { now }
    func advance(nanoseconds: UInt64) { now += nanoseconds }
}

final class RatePacerTests: XCTestCase {
    func testReleasesExactlyRateTimesSecondsWithIrregularPolling() {
        let clock = FakeClock(5_000_000_000)
        var pacer = RatePacer(ratePerSecond: 1000, startNanoseconds: clock.now)
        var random = MarketRandom(seed: 3)
        var total = 0
        let end = clock.now + 10_000_000_000
        while clock.now < end {
            total += pacer.due(clock: clock)
            clock.advance(nanoseconds: min(1 + random.integer(below: 3_000_000), end - clock.now))
        }
        total += pacer.due(clock: clock)
        XCTAssertEqual(total, 10_000)
        XCTAssertEqual(pacer.released, 10_000)
        XCTAssertEqual(pacer.skipped, 0)
        XCTAssertEqual(pacer.achievedRate(now: clock.now), 1000)
    }

    func testNoDriftWithAwkwardRatesAndTinySteps() {
        let clock = FakeClock(0)
        var pacer = RatePacer(ratePerSecond: 333.333, startNanoseconds: 0)
        var total = 0
        for _ in 0..<300_000 {
            clock.advance(nanoseconds: 100_000) // 0.1 ms
            total += pacer.due(clock: clock)
        }
        // 30 s × 333.333/s = 9999.99 → 9999 whole quotes.
        XCTAssertEqual(total, 9_999)
        XCTAssertEqual(pacer.scheduledCount(at: 30_000_000_000), 9_999)
        XCTAssertEqual(pacer.scheduledCount(at: 30_000_030_001), 10_000)
    }

    func testFractionalRate() {
        var pacer = RatePacer(ratePerSecond: 0.5, startNanoseconds: 100)
        XCTAssertEqual(pacer.due(now: 100), 0)
        XCTAssertEqual(pacer.due(now: 2_000_000_099), 0)
        XCTAssertEqual(pacer.due(now: 2_000_000_100), 1)
        XCTAssertEqual(pacer.due(now: 60_000_000_100), 29)
    }

    func testCatchUpCapDropsTheExcessAndKeepsTheSchedule() {
        var pacer = RatePacer(ratePerSecond: 1000, startNanoseconds: 0, maxCatchUp: 50)
        XCTAssertEqual(pacer.due(now: 10_000_000), 10)
        // A 2-second stall: 2000 are due, only 50 go out, the rest are skipped.
        XCTAssertEqual(pacer.due(now: 2_010_000_000), 50)
        XCTAssertEqual(pacer.skipped, 1_950)
        XCTAssertEqual(pacer.released, 60)
        // Afterwards the rate is back to 1000/s, anchored to the original start.
        XCTAssertEqual(pacer.due(now: 2_011_000_000), 1)
        XCTAssertEqual(pacer.due(now: 3_011_000_000), 50)
        XCTAssertEqual(pacer.released + pacer.skipped, 3_011)
    }

    func testNanosecondsUntilNextDue() {
        var pacer = RatePacer(ratePerSecond: 1000, startNanoseconds: 1_000)
        XCTAssertEqual(pacer.nanosecondsUntilNextDue(now: 1_000), 1_000_000)
        XCTAssertEqual(pacer.due(now: 1_001_000), 1)
        XCTAssertEqual(pacer.nanosecondsUntilNextDue(now: 1_001_000), 1_000_000)
        XCTAssertEqual(pacer.nanosecondsUntilNextDue(now: 5_000_000), 0)
        let third = RatePacer(ratePerSecond: 3, startNanoseconds: 0)
        XCTAssertEqual(third.nanosecondsUntilNextDue(now: 0), 333_333_334)
        XCTAssertEqual(third.scheduledCount(at: 333_333_333), 0)
        XCTAssertEqual(third.scheduledCount(at: 333_333_334), 1)
        XCTAssertEqual(RatePacer(ratePerSecond: 0, startNanoseconds: 0).nanosecondsUntilNextDue(now: 0), .max)
        var stopped = RatePacer(ratePerSecond: .nan, startNanoseconds: 0)
        XCTAssertEqual(stopped.due(now: 1_000_000_000_000), 0)
    }

    func testRateMeterReportsWindowRates() {
        var meter = RateMeter(startNanoseconds: 0)
        meter.record(500)
        XCTAssertEqual(meter.sampleRate(now: 500_000_000), 1000)
        meter.record(200)
        meter.record()
        XCTAssertEqual(meter.sampleRate(now: 1_500_000_000), 201)
        XCTAssertEqual(meter.sampleRate(now: 1_500_000_000), 0)
        XCTAssertEqual(meter.total, 701)
    }
}
