import Foundation
import Synchronization
import XCTest
@testable import Swarm

final class SwarmWorkerTests: XCTestCase {
    private let symbols = (1...40).map { "SYM\($0)" }

    private func settings() -> BehaviourSettings {
        var settings = BehaviourSettings()
        settings.churnPerMinute = 1200
        settings.fleetClients = 20
        settings.backgroundFraction = 0.25
        settings.slowFraction = 0.25
        settings.reconnectDelayMillis = 50...150
        settings.backgroundEveryMillis = 300
        settings.backgroundForMillis = 100...200
        return settings
    }

    func testPlanIsReproducibleAndEveryAbsenceEnds() {
        let planner = BehaviourPlanner(settings: settings(), seed: 9)
        let again = BehaviourPlanner(settings: settings(), seed: 9)
        var backgrounds = 0
        var slow = 0
        for client in 0..<200 {
            let actions = planner.actions(forClient: client, durationMillis: 10_000)
            XCTAssertEqual(actions, again.actions(forClient: client, durationMillis: 10_000))
            XCTAssertEqual(actions, actions.sorted())
            let disconnects = actions.filter { $0.action == .disconnect }.count
            let reconnects = actions.filter { $0.action == .reconnect }.count
            XCTAssertTrue(disconnects == reconnects || disconnects == reconnects + 1)
            switch planner.behaviour(forClient: client) {
            case .background: backgrounds += 1
            case .slowReader(let bytesPerSecond, _):
                slow += 1
                XCTAssertEqual(bytesPerSecond, 16 * 1024)
            case .steady: XCTAssertFalse(actions.contains { $0.action == .pause })
            }
        }
        XCTAssertEqual(backgrounds, (0..<200).filter { planner.behaviour(forClient: $0) == .background }.count)
        XCTAssertTrue((30...70).contains(backgrounds), "about a quarter of 200: \(backgrounds)")
        XCTAssertTrue((30...70).contains(slow), "about a quarter of 200: \(slow)")
    }

    func testSplitSpreadsClientsEvenly() {
        let ranges = SwarmWorkerConfiguration.split(clients: 10, processes: 3)
        XCTAssertEqual(ranges.map(\.first), [0, 4, 7])
        XCTAssertEqual(ranges.map(\.count), [4, 3, 3])
    }

    /// Churning, backgrounding and slow clients over the synthetic feed: every
    /// resume continues the sequence (no gap, no duplicate), and the seconds
    /// reported add up to the final totals.
    func testWorkerOverSyntheticFeedSeesNoGapAndReportsAddUp() async throws {
        let transport = SyntheticFeedTransport(symbols: symbols, partitions: 4)
        var configuration = SwarmWorkerConfiguration(
            worker: 0, firstClient: 0, clientCount: 20, symbols: symbols, watchlistSize: 5, seed: 42,
            durationMillis: 2200, epochNanos: WallClock.nowNanos(), behaviour: settings())
        configuration.via = "synthetic"
        let worker = SwarmWorker(configuration: configuration, partition: transport.partition(for:))
        // The feed runs on a thread of its own, as a broker would: it must not wait for a
        // turn on the two-thread cooperative pool that the worker and the test share (on
        // a loaded CI box a pool-scheduled feeder once published nothing in 2.2 s).
        let feeding = FeedSwitch()
        let feeder = Thread {
            while feeding.isOn {
                transport.publish(timestampNanos: WallClock.nowNanos())
                usleep(5_000)
            }
        }
        feeder.start()
        let reports = Mutex<[WorkerReport]>([])
        let stats = await worker.run(transport: transport) { report in reports.withLock { $0.append(report) } }
        feeding.turnOff()

        let lines = reports.withLock { $0 }
        XCTAssertEqual(lines.last?.kind, .final)
        XCTAssertEqual(stats.totals.gaps, 0)
        XCTAssertEqual(stats.totals.duplicates, 0)
        XCTAssertGreaterThan(stats.totals.deliveries, 0)
        let planned = worker.scheduledActions.filter { $0.action == .reconnect }.count
        XCTAssertGreaterThan(planned, 0)
        XCTAssertLessThanOrEqual(stats.totals.reconnects, UInt64(planned))
        XCTAssertEqual(UInt64(transport.connects), 20 + stats.totals.reconnects)

        // The wire form merges back to the same figures.
        var coordinator = SwarmCoordinator(workers: 1)
        for report in lines { coordinator.ingest(line: report.line(), from: 0) }
        coordinator.workerEnded(0, exit: .exited(0))
        var secondsTotal = SwarmCounters()
        for report in lines where report.kind == .second { secondsTotal += report.counters! }
        XCTAssertEqual(secondsTotal, stats.totals)
        XCTAssertEqual(coordinator.totals, stats.totals)
        XCTAssertEqual(coordinator.latency, stats.latency)
        XCTAssertEqual(coordinator.lostWorkers, [])
        XCTAssertEqual(coordinator.problems, [])
    }
}

/// Stops a feeder thread.
private final class FeedSwitch: Sendable {
    private let on = Atomic<Bool>(true)
    var isOn: Bool { on.load(ordering: .acquiring) }
    func turnOff() { on.store(false, ordering: .releasing) }
}
