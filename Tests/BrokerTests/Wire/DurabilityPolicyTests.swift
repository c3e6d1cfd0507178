import Foundation
import KafkaProtocol
import Logging
import NIOPosix
import XCTest
@testable import Broker

/// The per-topic durability policy (flush.messages=1, flush.ms=N, OS-managed), observed
/// through each partition's count of fsyncs (`Partition.flushCount`).
final class DurabilityPolicyTests: XCTestCase {
    func testFlushMessagesOneFsyncsEveryBatchBeforeTheAck() async throws {
        let broker = try await WireTestBroker.start()
        let connection = try await WireConnection.connect(port: broker.port)
        try await connection.createTopic("synced", configs: ["flush.messages": "1"])
        let partition = try broker.partition("synced", 0)
        XCTAssertEqual(partition.flushCount, 0)
        // A slow disk: were the ack sent before the fsync (or beside it), it would arrive
        // while the fsync is still sleeping and the count below would lag by one.
        partition.beforeFlush = { usleep(200_000) }

        for round in 1...6 {
            let acks: Int16 = round.isMultiple(of: 2) ? -1 : 1
            let response = try await connection.send(Wire.produce("synced", acks: acks, [(0, makeBatch(count: 2))]), version: 9)
            XCTAssertEqual(response.responses.first?.partitionResponses.first?.errorCode, 0)
            // Read as soon as the ack is in: the fsync for this batch already happened.
            XCTAssertEqual(partition.flushCount, round, "round \(round)")
            XCTAssertEqual(partition.flushedOffset, Int64(2 * round), "round \(round)")
        }

        await connection.close()
        try await broker.stop()
    }

    func testOperatingSystemModeNeverFsyncsOnTheProducePathNorInTheBackground() async throws {
        let broker = try await WireTestBroker.start()
        let connection = try await WireConnection.connect(port: broker.port)
        // Kafka's default flush.ms (Long.MAX_VALUE) means "leave it to the OS".
        try await connection.createTopic("os-managed", configs: ["flush.ms": String(Int64.max)])
        let partition = try broker.partition("os-managed", 0)

        for _ in 1...6 {
            let response = try await connection.send(Wire.produce("os-managed", acks: -1, [(0, makeBatch(count: 2))]), version: 9)
            XCTAssertEqual(response.responses.first?.partitionResponses.first?.errorCode, 0)
        }
        XCTAssertEqual(partition.offsets.highWatermark, 12)
        XCTAssertEqual(partition.flushCount, 0)
        XCTAssertEqual(partition.flushedOffset, 0)
        // The periodic flusher skips the topic however much time has passed.
        broker.cluster.flushDuePartitions(now: Cluster.nowMilliseconds() + 86_400_000)
        XCTAssertEqual(partition.flushCount, 0)
        XCTAssertEqual(partition.flushedOffset, 0)

        await connection.close()
        try await broker.stop()
    }

    /// flush.ms drives the periodic flusher, called here with a clock of the test's
    /// choosing on a cluster with no background tasks, so that nothing else flushes.
    func testFlushMsFsyncsOnItsIntervalAndNotOnAppend() throws {
        let directory = TemporaryDirectory("tickstream-durability")
        defer { directory.cleanUp() }
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        defer { try? threadPool.syncShutdownGracefully() }
        var logger = Logger(label: "durability-tests")
        logger.logLevel = .warning
        let cluster = try Cluster(configuration: BrokerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory.path),
                                  logger: logger, threadPool: threadPool)
        defer { cluster.topics.closeAll() }
        try cluster.topics.create(name: "interval", partitions: 1, configs: ["flush.ms": "1000"])
        let partition = try XCTUnwrap(cluster.topics["interval"]?.partition(0))
        let start: Int64 = 5_000_000

        cluster.flushDuePartitions(now: start)
        XCTAssertEqual(partition.flushCount, 0, "nothing appended, nothing to flush")

        _ = try partition.append(makeBatch(count: 2), now: start)
        XCTAssertEqual(partition.flushCount, 0, "an append alone does not fsync")
        cluster.flushDuePartitions(now: start)
        XCTAssertEqual(partition.flushCount, 1, "the first unflushed data is due at once")
        XCTAssertEqual(partition.flushedOffset, 2)

        _ = try partition.append(makeBatch(count: 3), now: start + 10)
        cluster.flushDuePartitions(now: start + 999)
        XCTAssertEqual(partition.flushCount, 1, "999 ms after the last flush is not yet due")
        XCTAssertEqual(partition.flushedOffset, 2)
        cluster.flushDuePartitions(now: start + 1000)
        XCTAssertEqual(partition.flushCount, 2)
        XCTAssertEqual(partition.flushedOffset, 5)

        cluster.flushDuePartitions(now: start + 60_000)
        XCTAssertEqual(partition.flushCount, 2, "no new data, no fsync")
    }
}
