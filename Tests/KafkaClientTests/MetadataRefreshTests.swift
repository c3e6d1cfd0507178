import Broker
import Foundation
import KafkaClient
import KafkaProtocol
import Logging
import NIOCore
import XCTest

/// Metadata refresh against the in-process broker: a topic that appears after a failed
/// send, and a broker that goes away and comes back on the same port and data directory.
final class MetadataRefreshTests: XCTestCase {
    func testSendToMissingTopicFailsWithUnknownTopicOrPartitionThenSucceedsOnceCreated() async throws {
        let broker = try await TestBroker.start { $0.autoCreateTopics = false }
        var clientConfiguration = ClientConfiguration()
        clientConfiguration.metadataRefreshBackoff = .milliseconds(5)
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap, configuration: clientConfiguration)
        var configuration = ProducerConfiguration()
        configuration.retryBackoff = .milliseconds(5)
        let producer = KafkaProducer(client: client, configuration: configuration)

        do {
            let metadata = try await producer.send(topic: "late", key: bytes("k"), value: bytes("v0"))
            XCTFail("a topic that does not exist takes no records, got \(metadata)")
        } catch {
            XCTAssertEqual(error as? KafkaClientError, .broker(.unknownTopicOrPartition, context: "metadata of topic late"))
        }
        let missing = await client.metadata.topics["late"]
        XCTAssertEqual(missing?.error, .unknownTopicOrPartition)
        XCTAssertEqual(missing?.partitionCount, 0)

        // Created through another client: nobody tells the producer's client.
        let adminClient = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: adminClient).createTopics([NewTopic(name: "late", partitions: 3)])

        let stored = try await producer.send(topic: "late", key: bytes("k"), value: bytes("v1"))
        let expectedPartition = Murmur2.partition(forKey: bytes("k"), partitionCount: 3)
        XCTAssertEqual(stored.topic, "late")
        XCTAssertEqual(stored.partition, expectedPartition)
        XCTAssertEqual(stored.offset, 0)
        let refreshed = await client.metadata.topics["late"]
        XCTAssertEqual(refreshed?.error, KafkaErrorCode.none)
        XCTAssertEqual(refreshed?.partitionCount, 3)

        // Exactly that one record is stored: nothing of the failed send.
        let partitions = (0..<3).map { TopicPartition("late", Int32($0)) }
        let ends = try await adminClient.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaClusterClient.latestTimestamp) }))
        XCTAssertEqual(ends, Dictionary(uniqueKeysWithValues: partitions.map { ($0, $0.partition == expectedPartition ? 1 : 0) }))

        await producer.close()
        await client.close()
        await adminClient.close()
        try await broker.stop()
    }

    func testProducerAndConsumerCarryOnAcrossBrokerRestart() async throws {
        var broker = try await RestartableBroker.start(name: "client-restart")
        defer { broker.removeData() }
        let bootstrap = broker.bootstrap

        let client = try KafkaClusterClient(bootstrap: bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "restart", partitions: 2)])
        var configuration = ProducerConfiguration()
        configuration.linger = .milliseconds(1)
        configuration.retryBackoff = .milliseconds(20)
        let producer = KafkaProducer(client: client, configuration: configuration)
        let results = ResultCollector()
        for index in 0..<100 {
            try await producer.send(topic: "restart", key: bytes("k\(index % 5)"), value: bytes("\(index)")) { results.add(index, $0) }
        }
        await producer.flush()
        XCTAssertEqual(results.all.filter { (try? $0.1.get()) != nil }.count, 100)

        var consumerConfiguration = ConsumerConfiguration()
        consumerConfiguration.maxWait = .milliseconds(100)
        consumerConfiguration.retryBackoff = .milliseconds(20)
        let consumer = try KafkaConsumer(bootstrap: bootstrap, configuration: consumerConfiguration)
        // A hung poll fails the test instead of hanging it: closing wakes it with `.closed`.
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 60_000_000_000)
            await consumer.close()
        }
        let partitions = [TopicPartition("restart", 0), TopicPartition("restart", 1)]
        await consumer.assign(partitions)
        var before: [ConsumerRecord] = []
        while before.count < 100 { before += try await consumer.poll() }
        XCTAssertEqual(before.count, 100)
        var positions: [TopicPartition: Int64] = [:]
        for partition in partitions { positions[partition] = await consumer.position(of: partition) }
        XCTAssertEqual(positions.values.reduce(0, +), 100)

        try await broker.shutdown()
        // Queued while the broker is gone; the consumer's fetch loop meets the dead broker too.
        for index in 100..<200 {
            try await producer.send(topic: "restart", key: bytes("k\(index % 5)"), value: bytes("\(index)")) { results.add(index, $0) }
        }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        try await broker.restart()
        XCTAssertEqual(broker.broker.port, broker.port)
        await producer.flush()
        let later = try await producer.send(topic: "restart", key: bytes("k0"), value: bytes("200"))

        let all = results.all
        XCTAssertEqual(all.count, 200)
        let failures = all.filter { if case .failure = $0.1 { return true } else { return false } }
        XCTAssertEqual(failures.count, 0, "\(failures.prefix(3).map { "\($0.1)" })")

        var after: [ConsumerRecord] = []
        while after.count < 101 { after += try await consumer.poll() }
        watchdog.cancel()
        XCTAssertEqual(after.count, 101)
        XCTAssertEqual(after.last.map { TopicPartition($0.topic, $0.partition) }, TopicPartition("restart", later.partition))
        XCTAssertEqual(after.last?.offset, later.offset)

        // Every value exactly once, in order per partition, continuing where the consumer was.
        XCTAssertEqual((before + after).map { Int($0.value!.text)! }.sorted(), Array(0...200))
        for partition in partitions {
            let old = before.filter { $0.partition == partition.partition }.map(\.offset)
            let new = after.filter { $0.partition == partition.partition }.map(\.offset)
            XCTAssertEqual(old, Array(0..<positions[partition]!), "\(partition) before the restart")
            XCTAssertEqual(new, Array(positions[partition]!..<(positions[partition]! + Int64(new.count))), "\(partition) after the restart")
            let values = (before + after).filter { $0.partition == partition.partition }.map { Int($0.value!.text)! }
            XCTAssertEqual(values, values.sorted(), "\(partition) keeps the send order")
        }
        for (index, result) in all {
            let metadata = try result.get()
            XCTAssertEqual(metadata.partition, Murmur2.partition(forKey: bytes("k\(index % 5)"), partitionCount: 2))
        }

        await consumer.close()
        await producer.close()
        await client.close()
        try await broker.shutdown()
    }
}
