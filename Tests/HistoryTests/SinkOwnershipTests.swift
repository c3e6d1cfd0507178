import KafkaClient
import XCTest
@testable import History

/// The sink's in-memory claims: a takeover decided at one version never replaces (or
/// clears) the claims a rebalance installed after it.
final class SinkOwnershipTests: XCTestCase {
    func testConditionalInstallAndClearHoldOnlyAtTheVersionTheyWereDecidedAt() {
        let ownership = SinkOwnership()
        let p0 = TopicPartition("prices", 0)
        let p1 = TopicPartition("prices", 1)
        ownership.install(owner: "m", generation: 1, partitions: [p0, p1])
        ownership.clear()  // the claim of generation 1 was fenced
        let decidedAt = ownership.version

        // A rebalance installs generation 2 while the takeover of generation 1 waits for the coordinator.
        XCTAssertTrue(ownership.install(owner: "m", generation: 2, partitions: [p1]))
        XCTAssertFalse(ownership.install(owner: "m", generation: 1, partitions: [p0, p1], ifVersion: decidedAt))
        XCTAssertFalse(ownership.clear(ifVersion: decidedAt))
        XCTAssertEqual(ownership.snapshot.generation, 2)
        XCTAssertEqual(ownership.snapshot.partitions, [p1])

        // Without a rebalance in between, the takeover installs.
        let now = ownership.version
        XCTAssertTrue(ownership.install(owner: "m", generation: 3, partitions: [p0], ifVersion: now))
        XCTAssertEqual(ownership.snapshot.generation, 3)
        XCTAssertEqual(ownership.snapshot.partitions, [p0])
        XCTAssertEqual(ownership.version, now + 1)
        XCTAssertTrue(ownership.clear(ifVersion: ownership.version))
        XCTAssertEqual(ownership.snapshot.partitions, [])
    }
}

/// The write loop's rule for polled records against its pending batch. The records of
/// the first poll after a re-seek must never be dropped together with a stale batch:
/// nothing reads them again, and the next transaction would store the partition's next
/// offset past a gap (found by the frozen-sink process test, 1 run in 6).
final class PendingBatchAdmissionTests: XCTestCase {
    func testRecordsOfTheCurrentVersionReplaceAStaleBatchInsteadOfBeingDroppedWithIt() {
        var stale = HistorySink.PendingBatch()
        stale.version = 6
        stale.polledRecords = 40
        XCTAssertEqual(stale.admission(ofPolledVersion: 7, current: 7), .replaceBatch)

        var current = HistorySink.PendingBatch()
        current.version = 7
        current.polledRecords = 40
        XCTAssertEqual(current.admission(ofPolledVersion: 7, current: 7), .append)
        XCTAssertEqual(HistorySink.PendingBatch().admission(ofPolledVersion: 7, current: 7), .append)

        // Polled before the claims moved: stale, and so is any batch.
        XCTAssertEqual(current.admission(ofPolledVersion: 7, current: 8), .dropBoth)
        XCTAssertEqual(HistorySink.PendingBatch().admission(ofPolledVersion: 7, current: 8), .dropBoth)
    }
}
