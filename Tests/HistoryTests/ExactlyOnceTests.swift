import Foundation
import History
import KafkaClient
import Market
import XCTest

final class ExactlyOnceTests: XCTestCase {
    func testTenThousandQuotesOverFourPartitionsAreStoredExactly() throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        var factory = RecordFactory(symbolCount: 20, partitions: 4)
        let claimed = try store.claim(partitions: factory.allPartitions, owner: "sink-a", generation: 1)
        XCTAssertEqual(claimed.count, 4)
        XCTAssertTrue(claimed.values.allSatisfy { $0 == nil })

        let records = factory.records(10_000)
        var written = 0
        for start in stride(from: 0, to: records.count, by: 250) {
            written += try store.write(quotes: Array(records[start..<start + 250]), owner: "sink-a", generation: 1).written
        }
        XCTAssertEqual(written, 10_000)
        XCTAssertEqual(try store.count(), 10_000)
        for symbol in factory.symbols {
            XCTAssertEqual(try store.seqRange(symbol: symbol), SeqRange(min: 1, max: 500, count: 500))
        }
        for tp in factory.allPartitions {
            XCTAssertEqual(try store.nextOffset(tp), 2500)
        }
        let reclaimed = try store.claim(partitions: factory.allPartitions, owner: "sink-a", generation: 2)
        XCTAssertEqual(reclaimed[TopicPartition(topic: "prices", partition: 3)], .some(2500))
    }

    func testRedeliveredBatchAddsNothing() throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        var factory = RecordFactory(symbolCount: 8, partitions: 4)
        _ = try store.claim(partitions: factory.allPartitions, owner: "sink", generation: 1)
        let first = factory.records(400)
        let second = factory.records(400)
        try store.write(quotes: first, owner: "sink", generation: 1)
        try store.write(quotes: second, owner: "sink", generation: 1)

        let again = try store.write(quotes: first, owner: "sink", generation: 1)
        XCTAssertEqual(again.written, 0)
        XCTAssertEqual(again.skipped, 400)
        XCTAssertEqual(try store.count(), 800)
        XCTAssertEqual(try store.seqRange(symbol: "S0"), SeqRange(min: 1, max: 100, count: 100))
        for tp in factory.allPartitions {
            XCTAssertEqual(try store.nextOffset(tp), 200)
        }
    }

    func testOverlappingRedeliveryWritesOnlyTheNewTail() throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        var factory = RecordFactory(symbolCount: 1, partitions: 1)
        _ = try store.claim(partitions: factory.allPartitions, owner: "sink", generation: 1)
        let records = factory.records(150)
        try store.write(quotes: Array(records[0..<100]), owner: "sink", generation: 1)
        let summary = try store.write(quotes: Array(records[50..<150]), owner: "sink", generation: 1)
        XCTAssertEqual(summary.written, 50)
        XCTAssertEqual(summary.skipped, 50)
        XCTAssertEqual(summary.nextOffsets, [TopicPartition(topic: "prices", partition: 0): 150])
        XCTAssertEqual(try store.seqRange(symbol: "S0"), SeqRange(min: 1, max: 150, count: 150))
    }

    func testStaleOwnerIsFencedAndNewOwnerCommits() throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        var factory = RecordFactory(symbolCount: 4, partitions: 2)
        _ = try store.claim(partitions: factory.allPartitions, owner: "old", generation: 1)
        try store.write(quotes: factory.records(100), owner: "old", generation: 1)

        // A rebalance hands partition 0 to "new" at generation 2; "old" still owns partition 1.
        let p0 = TopicPartition(topic: "prices", partition: 0)
        let resumed = try store.claim(partitions: [p0], owner: "new", generation: 2)
        XCTAssertEqual(resumed, [p0: .some(50)])

        let pending = factory.records(100)
        XCTAssertThrowsError(try store.write(quotes: pending, owner: "old", generation: 1)) { error in
            XCTAssertEqual(error as? HistoryError, .fenced(topic: "prices", partition: 0))
        }
        XCTAssertEqual(try store.count(), 100, "a fenced batch writes nothing, not even its partition-1 records")
        XCTAssertEqual(try store.nextOffset(TopicPartition(topic: "prices", partition: 1)), 50)

        XCTAssertThrowsError(try store.claim(partitions: [p0], owner: "old", generation: 1)) { error in
            XCTAssertEqual(error as? HistoryError, .fenced(topic: "prices", partition: 0))
        }

        let newOwnersShare = pending.filter { $0.partition == 0 }
        let summary = try store.write(quotes: newOwnersShare, owner: "new", generation: 2)
        XCTAssertEqual(summary.written, 50)
        XCTAssertEqual(try store.count(), 150)
        XCTAssertEqual(try store.nextOffset(p0), 100)
    }

    /// A takeover after the group was recreated (generations back at 1) replaces only the
    /// owners it saw as stale: a row another member claimed since fences it (compare-and-set).
    func testTakeoverReplacesOnlyTheStaleOwnersItSaw() async throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        let p0 = TopicPartition(topic: "prices", partition: 0)
        let p1 = TopicPartition(topic: "prices", partition: 1)
        func claim(_ partitions: [TopicPartition], _ owner: String, _ generation: Int32,
                   replacing: [TopicPartition: Int32] = [:]) async -> Result<[TopicPartition: Int64?], HistoryError> {
            do {
                return .success(try await store.claim(partitions: partitions, owner: owner, generation: generation, replacing: replacing))
            } catch {
                return .failure(error as! HistoryError)
            }
        }
        _ = try await claim([p0, p1], "before-restart", 57).get()

        let plain = await claim([p0], "a", 2)
        XCTAssertEqual(plain, .failure(.fenced(topic: "prices", partition: 0)), "a plain claim is fenced by 57")
        let seen = try await store.ownerGenerations([p0, p1])
        XCTAssertEqual(seen, [p0: 57, p1: 57])

        // Meanwhile member b takes p1 over (the same way) at generation 3.
        _ = try await claim([p1], "b", 3, replacing: [p1: 57]).get()
        // a's takeover of both, decided on what it saw, must not replace b's row.
        let both = await claim([p0, p1], "a", 2, replacing: seen)
        XCTAssertEqual(both, .failure(.fenced(topic: "prices", partition: 1)))
        let afterFailedTakeover = try await store.ownerGenerations([p0, p1])
        XCTAssertEqual(afterFailedTakeover, [p0: 57, p1: 3], "a fenced claim claims nothing")

        // The takeover of p0 alone, whose row is still the stale one, succeeds.
        let resumed = try await claim([p0], "a", 2, replacing: [p0: 57]).get()
        XCTAssertEqual(resumed.count, 1)
        XCTAssertEqual(resumed[p0], .some(nil), "nothing stored for p0 yet")
        let afterTakeover = try await store.ownerGenerations([p0, p1])
        XCTAssertEqual(afterTakeover, [p0: 2, p1: 3])
        var factory = RecordFactory(symbolCount: 2, partitions: 2)
        let records = factory.records(10)
        do {
            _ = try await store.write(quotes: records, owner: "before-restart", generation: 57)
            XCTFail("the old owner is fenced")
        } catch {
            XCTAssertEqual(error as? HistoryError, .fenced(topic: "prices", partition: 0))
        }
        let writtenByA = try await store.write(quotes: records.filter { $0.partition == 0 }, owner: "a", generation: 2)
        let writtenByB = try await store.write(quotes: records.filter { $0.partition == 1 }, owner: "b", generation: 3)
        XCTAssertEqual(writtenByA.written, 5)
        XCTAssertEqual(writtenByB.written, 5)
    }

    func testUnclaimedPartitionIsFenced() throws {
        let store = try HistoryStore(path: try temporaryDatabasePath())
        var factory = RecordFactory(symbolCount: 1, partitions: 1)
        XCTAssertThrowsError(try store.write(quotes: factory.records(3), owner: "sink", generation: 1)) { error in
            XCTAssertEqual(error as? HistoryError, .fenced(topic: "prices", partition: 0))
        }
        XCTAssertEqual(try store.count(), 0)
    }

    func testSameSymbolAndSeqAtANewOffsetIsStoredAsAnotherRecord() throws {
        // A restarted pricer starts its seqs at 1 again: the log position, not (symbol, seq),
        // identifies a record.
        let store = try HistoryStore(path: try temporaryDatabasePath())
        var factory = RecordFactory(symbolCount: 2, partitions: 1)
        _ = try store.claim(partitions: factory.allPartitions, owner: "sink", generation: 1)
        let records = factory.records(10)
        try store.write(quotes: records, owner: "sink", generation: 1)

        var batch = factory.records(2)
        batch.append(SinkRecord(records[4].quote, topic: "prices", partition: 0, offset: 12))
        let summary = try store.write(quotes: batch, owner: "sink", generation: 1)
        XCTAssertEqual(summary.written, 3)
        XCTAssertEqual(try store.count(), 13)
        XCTAssertEqual(try store.count(symbol: "S0"), 7)
        XCTAssertEqual(try store.nextOffset(TopicPartition(topic: "prices", partition: 0)), 13)
    }

    func testTwoStoresOnOneFileWritingDifferentPartitionsLoseNothing() throws {
        let path = try temporaryDatabasePath()
        let first = try HistoryStore(path: path)
        let second = try HistoryStore(path: path)
        var factory = RecordFactory(symbolCount: 16, partitions: 4)
        let records = factory.records(16_000)
        let partitionsA = [TopicPartition(topic: "prices", partition: 0), TopicPartition(topic: "prices", partition: 1)]
        let partitionsB = [TopicPartition(topic: "prices", partition: 2), TopicPartition(topic: "prices", partition: 3)]
        _ = try first.claim(partitions: partitionsA, owner: "a", generation: 1)
        _ = try second.claim(partitions: partitionsB, owner: "b", generation: 1)
        let shareA = records.filter { $0.partition < 2 }
        let shareB = records.filter { $0.partition >= 2 }

        let errors = ErrorBox()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let (store, share, owner) = index == 0 ? (first, shareA, "a") : (second, shareB, "b")
            do {
                for start in stride(from: 0, to: share.count, by: 100) {
                    try store.write(quotes: Array(share[start..<min(start + 100, share.count)]), owner: owner, generation: 1)
                }
            } catch {
                errors.append(error)
            }
        }
        XCTAssertEqual(errors.all.count, 0, "\(errors.all)")
        XCTAssertEqual(try first.count(), 16_000)
        XCTAssertEqual(try second.count(), 16_000)
        for symbol in factory.symbols {
            XCTAssertEqual(try first.seqRange(symbol: symbol), SeqRange(min: 1, max: 1000, count: 1000))
        }
        for tp in partitionsA + partitionsB {
            XCTAssertEqual(try first.nextOffset(tp), 4000)
        }
    }
}

/// Collects errors from concurrent work.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []

    func append(_ error: any Error) {
        lock.lock()
        errors.append(error)
        lock.unlock()
    }

    var all: [any Error] {
        lock.lock()
        defer { lock.unlock() }
        return errors
    }
}
