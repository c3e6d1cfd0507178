import Foundation
import History
import KafkaClient
import XCTest

/// A clock that only moves when someone sleeps on it, recording every sleep.
final class ManualReplayClock: ReplayClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Int64
    private var sleeps: [Int64] = []

    init(now: Int64) { current = now }

    func now() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func sleep(until deadline: Int64) async throws {
        lock.withLock {
            sleeps.append(deadline)
            current = max(current, deadline)
        }
    }

    func advance(by nanoseconds: Int64) {
        lock.lock()
        current += nanoseconds
        lock.unlock()
    }

    var recordedSleeps: [Int64] {
        lock.lock()
        defer { lock.unlock() }
        return sleeps
    }
}

final class ReplaySchedulerTests: XCTestCase {
    let second: Int64 = 1_000_000_000
    let firstTs: Int64 = 1_732_460_000_000_000_000

    func testSpeedTenDividesGapsByTen() {
        var scheduler = ReplayScheduler(speed: .factor(10))
        let start: Int64 = 5_000
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs, now: start), start)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + second, now: 999_999), start + 100_000_000)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + 2_500_000_000, now: 0), start + 250_000_000)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + 60 * second, now: 0), start + 6 * second)
        XCTAssertEqual(scheduler.start, start)
        XCTAssertEqual(scheduler.firstTimestamp, firstTs)
    }

    func testOlderTimestampIsDueWithItsPredecessor() {
        var scheduler = ReplayScheduler(speed: .factor(10))
        _ = scheduler.deadline(forTimestamp: firstTs, now: 0)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + 2 * second, now: 0), 200_000_000)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + second, now: 0), 200_000_000)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + 3 * second, now: 0), 300_000_000)
    }

    func testMaxSpeedIsAlwaysDueAtStart() {
        var scheduler = ReplayScheduler(speed: .max)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs, now: 77), 77)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + 3_600 * second, now: 78), 77)
        XCTAssertEqual(scheduler.deadline(forTimestamp: firstTs + 7_200 * second, now: 79), 77)
    }

    func testPacerSleepsUntilEachDeadlineOnTheInjectedClock() async throws {
        let clock = ManualReplayClock(now: 1_000)
        var pacer = ReplayPacer(speed: .factor(10), clock: clock)
        let timestamps = [firstTs, firstTs + second, firstTs + second, firstTs + 3 * second]
        var deadlines: [Int64] = []
        for ts in timestamps {
            deadlines.append(try await pacer.wait(forTimestamp: ts))
        }
        XCTAssertEqual(deadlines, [1_000, 100_001_000, 100_001_000, 300_001_000])
        XCTAssertEqual(clock.recordedSleeps, [100_001_000, 300_001_000], "no sleep for a quote already due")
    }

    func testPacerAtMaxSpeedNeverSleeps() async throws {
        let clock = ManualReplayClock(now: 0)
        var pacer = ReplayPacer(speed: .max, clock: clock)
        for offset in 0..<5 {
            try await pacer.wait(forTimestamp: firstTs + Int64(offset) * 60 * second)
        }
        XCTAssertEqual(clock.recordedSleeps, [])
    }

    func testLatePacerDoesNotSleep() async throws {
        let clock = ManualReplayClock(now: 0)
        var pacer = ReplayPacer(speed: .factor(1), clock: clock)
        try await pacer.wait(forTimestamp: firstTs)
        clock.advance(by: 5 * second)
        let deadline = try await pacer.wait(forTimestamp: firstTs + second)
        XCTAssertEqual(deadline, second)
        XCTAssertEqual(clock.recordedSleeps, [])
    }

    func testSpeedParsing() {
        XCTAssertEqual(ReplaySpeed(parsing: "10"), .factor(10))
        XCTAssertEqual(ReplaySpeed(parsing: "0.5"), .factor(0.5))
        XCTAssertEqual(ReplaySpeed(parsing: "10x"), .factor(10))
        XCTAssertEqual(ReplaySpeed(parsing: "max"), .max)
        XCTAssertNil(ReplaySpeed(parsing: "0"))
        XCTAssertNil(ReplaySpeed(parsing: "-2"))
        XCTAssertNil(ReplaySpeed(parsing: "fast"))
    }
}

final class HistoryReplayerTests: XCTestCase {
    func testReplaysARangeInOrderAtItsPace() async throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        _ = try await store.claim(partitions: [TopicPartition(topic: "prices", partition: 0)], owner: "sink", generation: 1)
        let second: Int64 = 1_000_000_000
        let quotes = [
            quote("AAPL", seq: 1, ts: 10 * second, last: 1),
            quote("MSFT", seq: 1, ts: 11 * second, last: 2),
            quote("AAPL", seq: 2, ts: 12 * second, last: 3),
            quote("AAPL", seq: 3, ts: 20 * second, last: 4),
        ]
        try await store.write(quotes: quotes.enumerated().map { SinkRecord($1, topic: "prices", partition: 0, offset: Int64($0)) },
                        owner: "sink", generation: 1)
        let clock = ManualReplayClock(now: 0)
        let replayer = HistoryReplayer(store: store, speed: .factor(2), clock: clock, pageSize: 2)
        var sent: [(String, UInt64, Int64)] = []
        let count = try await replayer.run(from: 11 * second, to: 20 * second) { stored in
            sent.append((stored.quote.symbol, stored.quote.seq, clock.now()))
        }
        XCTAssertEqual(count, 3)
        XCTAssertEqual(sent.map(\.0), ["MSFT", "AAPL", "AAPL"])
        XCTAssertEqual(sent.map(\.1), [1, 2, 3])
        XCTAssertEqual(sent.map(\.2), [0, second / 2, 9 * second / 2])
    }
}
