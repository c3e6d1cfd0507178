import XCTest
@testable import Swarm

final class SwarmCoordinatorTests: XCTestCase {
    private func histogram(_ micros: [UInt64]) -> LatencyHistogram {
        var histogram = LatencyHistogram()
        for value in micros { histogram.record(micros: value) }
        return histogram
    }

    private func secondLine(worker: Int, second: Int, connected: Int, deliveries: UInt64, bytes: UInt64, latencies: [UInt64],
                            gaps: UInt64 = 0, reconnects: UInt64 = 0) -> String {
        WorkerReport.second(worker: worker, SecondSnapshot(
            second: second, connectedClients: connected,
            counters: SwarmCounters(deliveries: deliveries, records: deliveries, bytes: bytes, gaps: gaps, missingQuotes: gaps, reconnects: reconnects),
            latency: histogram(latencies))).line()
    }

    func testMergingFakeWorkerStreamsGivesExactTotals() throws {
        var coordinator = SwarmCoordinator(workers: 2)
        coordinator.ingest(line: WorkerReport.hello(worker: 0, clients: 3, pid: 100).line(), from: 0)
        coordinator.ingest(line: WorkerReport.hello(worker: 1, clients: 2, pid: 101).line(), from: 1)
        coordinator.ingest(line: secondLine(worker: 0, second: 0, connected: 3, deliveries: 4, bytes: 400, latencies: [100, 200, 300, 400]), from: 0)
        coordinator.ingest(line: secondLine(worker: 1, second: 0, connected: 2, deliveries: 2, bytes: 150, latencies: [1000, 2000], gaps: 1), from: 1)

        var progress = coordinator.progress
        XCTAssertEqual(progress.second, 0)
        XCTAssertEqual(progress.connectedClients, 5)
        XCTAssertEqual(progress.deliveriesPerSecond, 6)
        XCTAssertEqual(progress.p50Micros, 300)
        XCTAssertEqual(progress.p99Micros, 2000)

        coordinator.ingest(line: secondLine(worker: 0, second: 1, connected: 2, deliveries: 1, bytes: 100, latencies: [500], reconnects: 1), from: 0)
        progress = coordinator.progress
        XCTAssertEqual(progress.second, 0, "worker 1 has not reported second 1 yet")

        // Finals carry the totals and the whole histograms.
        var final0 = WorkerReport(kind: .final, worker: 0)
        final0.counters = SwarmCounters(deliveries: 5, records: 5, bytes: 500, reconnects: 1)
        final0.latency = histogram([100, 200, 300, 400, 500]).serialized()
        final0.catchUpLatency = LatencyHistogram().serialized()
        var final1 = WorkerReport(kind: .final, worker: 1)
        final1.counters = SwarmCounters(deliveries: 2, records: 2, bytes: 150, gaps: 1, missingQuotes: 1)
        final1.latency = histogram([1000, 2000]).serialized()
        coordinator.ingest(lines: final0.line() + "\n", from: 0)
        coordinator.ingest(line: final1.line(), from: 1)
        coordinator.workerEnded(0, exit: .exited(0))
        coordinator.workerEnded(1, exit: .exited(0))

        XCTAssertTrue(coordinator.allEnded)
        XCTAssertEqual(coordinator.lostWorkers, [])
        XCTAssertEqual(coordinator.clients, 5)
        XCTAssertEqual(coordinator.totals, SwarmCounters(deliveries: 7, records: 7, bytes: 650, gaps: 1, missingQuotes: 1, reconnects: 1))
        let latency = coordinator.latency
        XCTAssertEqual(latency.count, 7)
        XCTAssertEqual(latency, histogram([100, 200, 300, 400, 500, 1000, 2000]))
        XCTAssertEqual(latency.micros(atPercentile: 50), 400)

        let summary = coordinator.summary(durationSeconds: 2)
        XCTAssertEqual(summary.timeline.map(\.second), [0, 1])
        XCTAssertEqual(summary.timeline.map(\.counters.deliveries), [6, 1])
        XCTAssertEqual(summary.timeline.map(\.connectedClients), [5, 2])
        XCTAssertEqual(summary.deliveriesPerSecond, 3.5)
        XCTAssertEqual(summary.bytesPerSecond, 325)
    }

    func testHandWrittenLineParses() {
        var coordinator = SwarmCoordinator(workers: 1)
        coordinator.ingest(line: #"{"kind":"second","worker":0,"second":4,"connected":10,"counters":{"deliveries":3,"catchUpDeliveries":0,"records":9,"bytes":900,"gaps":0,"missingQuotes":0,"duplicates":1,"reconnects":0,"pauses":0},"latency":{"totalCount":3,"clamped":0,"buckets":[[250,2],[700,1]]}}"#, from: 0)
        XCTAssertEqual(coordinator.problems, [])
        XCTAssertEqual(coordinator.totals.records, 9)
        XCTAssertEqual(coordinator.totals.duplicates, 1)
        XCTAssertEqual(coordinator.latency.count, 3)
        XCTAssertEqual(coordinator.progress.second, 4)
    }

    func testWorkerEndingBeforeFinalIsLostAndItsSecondsStillCount() {
        var coordinator = SwarmCoordinator(workers: 2)
        coordinator.ingest(line: secondLine(worker: 0, second: 0, connected: 1, deliveries: 10, bytes: 1000, latencies: [50]), from: 0)
        coordinator.ingest(line: secondLine(worker: 1, second: 0, connected: 1, deliveries: 20, bytes: 2000, latencies: [60]), from: 1)
        coordinator.ingest(line: "garbage {", from: 1)
        var final = WorkerReport(kind: .final, worker: 1)
        final.counters = SwarmCounters(deliveries: 20, records: 20, bytes: 2000)
        final.latency = histogram([60]).serialized()
        coordinator.ingest(line: final.line(), from: 1)
        coordinator.workerEnded(0, exit: .exited(0))  // EOF before final
        coordinator.workerEnded(1, exit: .exited(0))

        XCTAssertEqual(coordinator.lostWorkers.map(\.worker), [0])
        XCTAssertEqual(coordinator.lostWorkers.first?.reason, "stream ended before the final report")
        XCTAssertEqual(coordinator.totals.deliveries, 30)
        XCTAssertEqual(coordinator.latency.count, 2)
        XCTAssertEqual(coordinator.workers[1].malformedLines, 1)
        XCTAssertEqual(coordinator.problems.count, 1)
        XCTAssertTrue(coordinator.summary(durationSeconds: 1).text().contains("workers lost 1"))
    }

    func testSignalledWorkerIsReportedWithEveryReason() {
        var coordinator = SwarmCoordinator(workers: 1)
        coordinator.ingest(line: WorkerReport.error(worker: 0, message: "broker unreachable").line(), from: 0)
        coordinator.workerEnded(0, exit: .signalled(9))
        XCTAssertEqual(coordinator.lostWorkers, [SwarmCoordinator.LostWorker(
            worker: 0, reason: "killed by signal 9; stream ended before the final report; error: broker unreachable")])
    }

    func testWorkerDyingBeforeItsFirstReportStillCountsItsPlannedClients() {
        var coordinator = SwarmCoordinator(clientsPerWorker: [3, 2])
        coordinator.ingest(line: WorkerReport.hello(worker: 0, clients: 3, pid: 100).line(), from: 0)
        coordinator.workerEnded(1, exit: .exited(2))
        XCTAssertEqual(coordinator.clients, 5)
        XCTAssertEqual(coordinator.lostWorkers, [SwarmCoordinator.LostWorker(
            worker: 1, reason: "exit status 2; stream ended before the final report")])
        XCTAssertEqual(coordinator.summary(durationSeconds: 1).clients, 5)
    }
}
