@testable import KafkaClient
import KafkaProtocol
import NIOCore
import XCTest

final class RecordAccumulatorTests: XCTestCase {
    let p0 = TopicPartition("t", 0)
    let p1 = TopicPartition("t", 1)
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func append(_ accumulator: inout RecordAccumulator, _ partition: TopicPartition, size: Int = 10, at now: NIODeadline) -> RecordAccumulator.AppendResult {
        accumulator.append(to: partition, timestamp: 1, key: nil, value: ByteBuffer(repeating: 1, count: size), now: now)
    }

    func testBatchIsReadyOnlyAfterLingerUnlessFull() {
        var accumulator = RecordAccumulator(batchSize: 1000, linger: .milliseconds(10), bufferMemory: 100_000)
        XCTAssertEqual(append(&accumulator, p0, at: start), .appended(batchIsFull: false))
        XCTAssertEqual(accumulator.readyPartitions(now: start + .milliseconds(9)), [])
        XCTAssertEqual(accumulator.nextLingerDeadline(), start + .milliseconds(10))
        XCTAssertEqual(accumulator.readyPartitions(now: start + .milliseconds(10)), [p0])
    }

    func testFullBatchIsReadyAtOnceAndANewBatchStarts() {
        var accumulator = RecordAccumulator(batchSize: 200, linger: .seconds(10), bufferMemory: 100_000)
        var results: [RecordAccumulator.AppendResult] = []
        for _ in 0..<6 { results.append(append(&accumulator, p0, size: 50, at: start)) }
        XCTAssertEqual(results.filter { $0 == .appended(batchIsFull: true) }.count, 4)
        XCTAssertEqual(accumulator.queuedBatches(of: p0), 3)
        XCTAssertEqual(accumulator.readyPartitions(now: start), [p0])
    }

    func testFlushMakesEveryBatchReady() {
        var accumulator = RecordAccumulator(batchSize: 1000, linger: .seconds(10), bufferMemory: 100_000)
        _ = append(&accumulator, p0, at: start)
        _ = append(&accumulator, p1, at: start)
        accumulator.flushing = true
        XCTAssertEqual(accumulator.readyPartitions(now: start), [p0, p1])
    }

    func testBufferMemoryBoundsAppendsUntilBatchesComplete() {
        var accumulator = RecordAccumulator(batchSize: 100_000, linger: .zero, bufferMemory: 200)
        XCTAssertEqual(append(&accumulator, p0, size: 100, at: start), .appended(batchIsFull: false))
        XCTAssertEqual(append(&accumulator, p0, size: 100, at: start), .bufferFull)
        XCTAssertFalse(accumulator.hasRoom(for: 100))
        let batch = accumulator.drain(p0, idempotent: false)!
        XCTAssertEqual(batch.recordCount, 1)
        accumulator.complete(batch)
        XCTAssertEqual(accumulator.usedMemory, 0)
        XCTAssertTrue(accumulator.isEmpty)
        XCTAssertEqual(append(&accumulator, p0, size: 100, at: start), .appended(batchIsFull: false))
    }

    func testIdempotentSequencesFollowRecordCountsPerPartition() {
        // A 30-byte record takes 37 bytes in the batch, 61 by the conservative estimate;
        // with the 61-byte header two fit a 170-byte batch.
        var accumulator = RecordAccumulator(batchSize: 170, linger: .zero, bufferMemory: 100_000)
        for _ in 0..<5 { _ = append(&accumulator, p0, size: 30, at: start) }
        _ = append(&accumulator, p1, size: 30, at: start)
        let first = accumulator.drain(p0, idempotent: true)!
        let second = accumulator.drain(p0, idempotent: true)!
        let other = accumulator.drain(p1, idempotent: true)!
        XCTAssertEqual(first.baseSequence, 0)
        XCTAssertEqual(first.recordCount, 2)
        XCTAssertEqual(second.baseSequence, 2)
        XCTAssertEqual(other.baseSequence, 0)
        let header = try! RecordBatchHeader.validate(in: second.encoded(producerID: 7, producerEpoch: 1), at: 0)
        XCTAssertEqual(header.producerID, 7)
        XCTAssertEqual(header.baseSequence, 2)
        XCTAssertEqual(header.recordCount, 2)
    }

    func testAtMostMaxInFlightBatchesPerPartition() {
        var accumulator = RecordAccumulator(batchSize: 40, linger: .zero, bufferMemory: 100_000, maxInFlightPerPartition: 2)
        for _ in 0..<4 { _ = append(&accumulator, p0, size: 30, at: start) }
        XCTAssertNotNil(accumulator.drain(p0, idempotent: true))
        XCTAssertNotNil(accumulator.drain(p0, idempotent: true))
        XCTAssertEqual(accumulator.readyPartitions(now: start), [])
        XCTAssertEqual(accumulator.inFlight[p0], 2)
    }

    func testRetriedBatchesGoBackInSequenceOrderAndWaitForInFlight() {
        var accumulator = RecordAccumulator(batchSize: 40, linger: .zero, bufferMemory: 100_000)
        for _ in 0..<4 { _ = append(&accumulator, p0, size: 30, at: start) }
        let a = accumulator.drain(p0, idempotent: true)!
        let b = accumulator.drain(p0, idempotent: true)!
        let c = accumulator.drain(p0, idempotent: true)!
        // b fails first, then a: both return ahead of the unsent batch, a before b.
        accumulator.requeue(b)
        XCTAssertEqual(accumulator.readyPartitions(now: start), [], "c and a still in flight")
        accumulator.requeue(a)
        XCTAssertEqual(accumulator.readyPartitions(now: start), [], "c still in flight")
        accumulator.complete(c)
        XCTAssertEqual(accumulator.readyPartitions(now: start), [p0])
        let resent = accumulator.drain(p0, idempotent: true)!
        XCTAssertEqual(resent.id, a.id)
        XCTAssertEqual(resent.baseSequence, 0)
        XCTAssertEqual(resent.attempts, 2)
        XCTAssertEqual(accumulator.readyPartitions(now: start), [], "a retry goes alone")
        accumulator.complete(resent)
        let next = accumulator.drain(p0, idempotent: true)!
        XCTAssertEqual(next.id, b.id)
        XCTAssertEqual(next.baseSequence, 1)
        accumulator.complete(next)
        let last = accumulator.drain(p0, idempotent: true)!
        XCTAssertEqual(last.baseSequence, 3)
    }
}
