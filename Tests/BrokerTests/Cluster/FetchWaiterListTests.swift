import NIOCore
import NIOEmbedded
import XCTest
@testable import Broker

/// The long-poll registry of one partition: satisfied once, and swept so it stays small.
final class FetchWaiterListTests: XCTestCase {
    func testWaitersFireOnceWhenTheirBytesArriveAndAreForgotten() {
        let loop = EmbeddedEventLoop()
        var list = FetchWaiterList()
        let fired = Counter()
        let small = FetchWaiter(eventLoop: loop, minBytes: 10) { fired.add(1) }
        let large = FetchWaiter(eventLoop: loop, minBytes: 100) { fired.add(100) }
        list.add(small)
        list.add(large)
        XCTAssertEqual(list.dataArrived(bytes: 50).count, 1)
        small.run()
        XCTAssertEqual(list.count, 1)
        XCTAssertEqual(list.dataArrived(bytes: 50).count, 1, "the large one has its 100 bytes now")
        large.run()
        XCTAssertEqual(list.dataArrived(bytes: 1000).count, 0, "fired waiters are gone")
        XCTAssertEqual(list.count, 0)
        XCTAssertEqual(fired.total, 101)
    }

    /// Thousands of consumers polling a quiet partition: each poll expires and a new one
    /// registers. Expired waiters are swept once the list doubles, so it stays within
    /// twice the live waiters (plus the minimum), however many polls came and went.
    func testExpiredWaitersAreSweptSoTheListStaysWithinTwiceTheLiveOnes() {
        let loop = EmbeddedEventLoop()
        var list = FetchWaiterList()
        let live = 1000
        var current = (0..<live).map { _ in FetchWaiter(eventLoop: loop, minBytes: 1) {} }
        for waiter in current { list.add(waiter) }
        var largest = list.count
        for _ in 0..<20 {
            for (index, waiter) in current.enumerated() {
                waiter.expire()
                let next = FetchWaiter(eventLoop: loop, minBytes: 1) {}
                current[index] = next
                list.add(next)
                largest = max(largest, list.count)
            }
        }
        XCTAssertLessThanOrEqual(largest, 2 * live + FetchWaiterList.minimumSweep)
        XCTAssertEqual(list.dataArrived(bytes: 1).count, live, "every live waiter is still there, once")
        XCTAssertEqual(list.count, 0)
    }
}

private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func add(_ amount: Int) { lock.withLock { value += amount } }
    var total: Int { lock.withLock { value } }
}
