import XCTest
@testable import Swarm

final class WorkerSupervisorTests: XCTestCase {
    func testDyingChildProcessIsReportedLost() async throws {
        let hello = WorkerReport.hello(worker: 0, clients: 4, pid: 1).line()
        let second = WorkerReport.second(worker: 0, SecondSnapshot(second: 0, connectedClients: 4,
            counters: SwarmCounters(deliveries: 12, records: 12, bytes: 1200), latency: LatencyHistogram())).line()
        let script = "printf '%s\\n%s\\n' '\(hello)' '\(second)'; exit 3"
        let supervisor = try WorkerSupervisor(launches: [
            .init(executable: "/bin/sh", arguments: ["-c", script]),
        ])
        var coordinator = SwarmCoordinator(workers: 1)
        await supervisor.supervise(&coordinator)
        XCTAssertTrue(coordinator.allEnded)
        XCTAssertEqual(coordinator.problems, [])
        XCTAssertEqual(coordinator.workers[0].exit, .exited(3))
        XCTAssertEqual(coordinator.lostWorkers, [SwarmCoordinator.LostWorker(
            worker: 0, reason: "exit status 3; stream ended before the final report")])
        XCTAssertEqual(coordinator.clients, 4)
        XCTAssertEqual(coordinator.totals.deliveries, 12)
    }

    func testCleanChildWithFinalIsNotLost() async throws {
        var final = WorkerReport(kind: .final, worker: 0)
        final.counters = SwarmCounters(deliveries: 1, records: 1, bytes: 10)
        final.latency = LatencyHistogram().serialized()
        let supervisor = try WorkerSupervisor(launches: [
            .init(executable: "/bin/sh", arguments: ["-c", "printf '%s\\n' '\(final.line())'"]),
        ])
        var coordinator = SwarmCoordinator(workers: 1)
        await supervisor.supervise(&coordinator)
        XCTAssertEqual(coordinator.lostWorkers, [])
        XCTAssertEqual(coordinator.totals.bytes, 10)
    }

    func testMissingExecutableFailsToSpawn() {
        XCTAssertThrowsError(try WorkerSupervisor(launches: [.init(executable: "/nonexistent/worker", arguments: [])]))
    }
}
