import Atomics
import NIOCore

/// A Fetch that found too little data and waits, long-polling, for more.
///
/// It is registered with every partition it reads. Appends report their bytes to it
/// from whatever thread produced them; once `minBytes` have arrived (or the wait
/// expires) it fires exactly once, on its connection's event loop, where the Fetch is
/// read again and answered. No thread ever blocks on it.
final class FetchWaiter: Sendable {
    let eventLoop: any EventLoop
    private let minBytes: Int
    private let arrived = ManagedAtomic<Int>(0)
    private let fired = ManagedAtomic<Bool>(false)
    private let action: @Sendable () -> Void

    init(eventLoop: any EventLoop, minBytes: Int, action: @escaping @Sendable () -> Void) {
        self.eventLoop = eventLoop
        self.minBytes = minBytes
        self.action = action
    }

    var hasFired: Bool { fired.load(ordering: .acquiring) }

    /// Counts appended bytes; true when this call is the one that satisfied the waiter
    /// (the caller must then `fire()` it on its event loop).
    func dataArrived(bytes: Int) -> Bool {
        guard !hasFired else { return false }
        let total = arrived.wrappingIncrementThenLoad(by: bytes, ordering: .relaxed)
        guard total >= minBytes else { return false }
        return fired.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    /// Fires on timeout (or shutdown) unless data already fired it.
    func expire() {
        if fired.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            run()
        }
    }

    /// Runs the action; call on `eventLoop` after `dataArrived` returned true.
    func run() {
        eventLoop.preconditionInEventLoop()
        action()
    }
}

/// The waiters of one partition. Fired and expired waiters are dropped when the list
/// has doubled since the last sweep, so a quiet partition with many polling consumers
/// stays small and registering stays O(1) amortised: with thousands of consumers
/// long-polling one partition, sweeping on every registration cost O(n²) per round of
/// polls and held the event loop (2,000 clients took 50 s to connect).
struct FetchWaiterList {
    private var waiters: [FetchWaiter] = []
    private var sweepAt = Self.minimumSweep

    static let minimumSweep = 16

    var count: Int { waiters.count }

    mutating func add(_ waiter: FetchWaiter) {
        if waiters.count >= sweepAt {
            waiters.removeAll { $0.hasFired }
            sweepAt = max(Self.minimumSweep, waiters.count * 2)
        }
        waiters.append(waiter)
    }

    /// Reports an append; returns the waiters it satisfied and forgets them.
    mutating func dataArrived(bytes: Int) -> [FetchWaiter] {
        guard !waiters.isEmpty else { return [] }
        var satisfied: [FetchWaiter] = []
        waiters.removeAll { waiter in
            if waiter.dataArrived(bytes: bytes) {
                satisfied.append(waiter)
                return true
            }
            return waiter.hasFired
        }
        return satisfied
    }

    mutating func removeAll() -> [FetchWaiter] {
        defer { waiters.removeAll() }
        return waiters
    }
}

extension Sequence where Element == FetchWaiter {
    /// Runs the satisfied waiters with one task per event loop rather than one per waiter:
    /// a price tick wakes thousands of consumers, spread over a couple of loops.
    func fireGroupedByEventLoop() {
        var byLoop: [ObjectIdentifier: (any EventLoop, [FetchWaiter])] = [:]
        for waiter in self {
            let key = ObjectIdentifier(waiter.eventLoop)
            byLoop[key, default: (waiter.eventLoop, [])].1.append(waiter)
        }
        for (_, (loop, waiters)) in byLoop {
            loop.execute {
                for waiter in waiters { waiter.run() }
            }
        }
    }
}
