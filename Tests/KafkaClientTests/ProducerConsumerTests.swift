import Broker
import Foundation
@testable import KafkaClient
import KafkaProtocol
import NIOCore
import NIOPosix
import XCTest

/// Producer and consumer against an in-process broker on an ephemeral loopback port.
final class ProducerConsumerTests: XCTestCase {
    var broker: TestBroker!
    var client: KafkaClusterClient!

    override func setUp() async throws {
        broker = try await TestBroker.start()
        client = try KafkaClusterClient(bootstrap: broker.bootstrap)
    }

    override func tearDown() async throws {
        await client?.close()
        try await broker?.stop()
    }

    /// Polls until `count` records arrived (or 30 s of empty polls pass).
    func consume(_ consumer: KafkaConsumer, count: Int) async throws -> [ConsumerRecord] {
        var records: [ConsumerRecord] = []
        var emptyPolls = 0
        while records.count < count && emptyPolls < 60 {
            let batch = try await consumer.poll()
            if batch.isEmpty { emptyPolls += 1 }
            records += batch
        }
        return records
    }

    func testTenThousandKeyedRecordsComeBackInKeyOrderWithExactOffsets() async throws {
        let admin = KafkaAdmin(client: client)
        try await admin.createTopics([NewTopic(name: "keyed", partitions: 8)])
        let producer = KafkaProducer(client: client)
        let results = ResultCollector()
        for index in 0..<10_000 {
            let key = "key-\(index % 50)"
            try await producer.send(topic: "keyed", key: bytes(key), value: bytes("\(index)")) { result in
                results.add(index, result)
            }
        }
        await producer.flush()
        let produced = results.all
        XCTAssertEqual(produced.count, 10_000)
        var offsetsByPartition: [Int32: [Int64]] = [:]
        var expected: [String: (partition: Int32, offset: Int64)] = [:]
        for (index, result) in produced {
            let metadata = try result.get()
            XCTAssertEqual(metadata.partition, Murmur2.partition(forKey: bytes("key-\(index % 50)"), partitionCount: 8))
            offsetsByPartition[metadata.partition, default: []].append(metadata.offset)
            expected["\(index)"] = (metadata.partition, metadata.offset)
        }
        for (partition, offsets) in offsetsByPartition {
            XCTAssertEqual(offsets.sorted(), (0..<Int64(offsets.count)).map { $0 }, "partition \(partition) offsets are 0..<n")
        }

        let consumer = KafkaConsumer(client: client)
        let partitions = (0..<8).map { TopicPartition("keyed", Int32($0)) }
        await consumer.assign(partitions)
        for partition in partitions { try await consumer.seek(partition, to: .beginning) }
        let records = try await consume(consumer, count: 10_000)
        XCTAssertEqual(records.count, 10_000)
        var lastValueByKey: [String: Int] = [:]
        for record in records {
            let value = record.value!.text
            let key = record.key!.text
            XCTAssertEqual(expected[value]?.partition, record.partition)
            XCTAssertEqual(expected[value]?.offset, record.offset)
            let number = Int(value)!
            XCTAssertGreaterThan(number, lastValueByKey[key] ?? -1, "per-key order for \(key)")
            lastValueByKey[key] = number
        }
        XCTAssertEqual(lastValueByKey.count, 50)
        for partition in partitions {
            let position = await consumer.position(of: partition)
            XCTAssertEqual(position, Int64(offsetsByPartition[partition.partition]?.count ?? 0))
            let lag = await consumer.lag(of: partition)
            XCTAssertEqual(lag, 0)
        }
        await consumer.close()
        await producer.close()
    }

    func testSeekByTimestampBeginningAndEnd() async throws {
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "timed", partitions: 1)])
        let producer = KafkaProducer(client: client)
        for index in 0..<30 {
            let metadata = try await producer.send(topic: "timed", key: nil, value: bytes("v\(index)"), timestamp: 1_000 + Int64(index) * 10)
            XCTAssertEqual(metadata.offset, Int64(index))
            XCTAssertEqual(metadata.timestamp, 1_000 + Int64(index) * 10)
        }
        let partition = TopicPartition("timed", 0)
        let consumer = KafkaConsumer(client: client)
        await consumer.assign([partition])
        try await consumer.seek(partition, to: .timestamp(1_145))
        var position = await consumer.position(of: partition)
        XCTAssertEqual(position, 15)
        let records = try await consume(consumer, count: 15)
        XCTAssertEqual(records.map(\.offset), (15..<30).map { Int64($0) })
        XCTAssertEqual(records.first?.timestamp, 1_150)
        try await consumer.seek(partition, to: .end)
        position = await consumer.position(of: partition)
        XCTAssertEqual(position, 30)
        try await consumer.seek(partition, to: .timestamp(99_999))
        position = await consumer.position(of: partition)
        XCTAssertEqual(position, 30)
        try await consumer.seek(partition, to: .beginning)
        position = await consumer.position(of: partition)
        XCTAssertEqual(position, 0)
        try await consumer.seek(partition, to: .offset(28))
        let tail = try await consume(consumer, count: 2)
        XCTAssertEqual(tail.map { $0.value!.text }, ["v28", "v29"])
        await consumer.close()
        await producer.close()
    }

    func testAcksZeroOneAndAll() async throws {
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "acks", partitions: 2)])
        var reported: [Acks: [Int64]] = [:]
        for acks in [Acks.none, .leader, .all] {
            var configuration = ProducerConfiguration(acks: acks, idempotent: acks == .all)
            configuration.linger = .milliseconds(2)
            let producer = KafkaProducer(client: client, configuration: configuration)
            for index in 0..<100 {
                let metadata = try await producer.send(topic: "acks", partition: 0, key: nil, value: bytes("\(acks)-\(index)"))
                reported[acks, default: []].append(metadata.offset)
            }
            await producer.close()
        }
        XCTAssertEqual(reported[.none], Array(repeating: -1, count: 100))
        XCTAssertEqual(reported[.leader], (100..<200).map { Int64($0) })
        XCTAssertEqual(reported[.all], (200..<300).map { Int64($0) })
        let consumer = KafkaConsumer(client: client)
        await consumer.assign([TopicPartition("acks", 0)])
        let records = try await consume(consumer, count: 300)
        XCTAssertEqual(records.count, 300)
        XCTAssertEqual(records.map(\.offset), (0..<300).map { Int64($0) })
        XCTAssertEqual(records[0].value?.text, "none-0")
        XCTAssertEqual(records[299].value?.text, "all-99")
        await consumer.close()
    }

    func testPauseResumeAndLag() async throws {
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "paused", partitions: 2)])
        let producer = KafkaProducer(client: client)
        for index in 0..<20 {
            _ = try await producer.send(topic: "paused", partition: Int32(index % 2), key: nil, value: bytes("\(index)"))
        }
        let consumer = KafkaConsumer(client: client)
        let p0 = TopicPartition("paused", 0), p1 = TopicPartition("paused", 1)
        await consumer.assign([p0, p1])
        await consumer.pause([p1])
        let first = try await consume(consumer, count: 10)
        XCTAssertEqual(first.count, 10)
        XCTAssertEqual(Set(first.map(\.partition)), [0])
        let lag0 = await consumer.lag(of: p0)
        XCTAssertEqual(lag0, 0)
        await consumer.resume([p1])
        let second = try await consume(consumer, count: 10)
        XCTAssertEqual(second.map(\.partition), Array(repeating: 1, count: 10))
        XCTAssertEqual(second.map(\.offset), (0..<10).map { Int64($0) })
        await consumer.close()
        await producer.close()
    }

    func testAdminCreatesListsDescribesAndDeletesTopics() async throws {
        let admin = KafkaAdmin(client: client)
        try await admin.createTopics([NewTopic(name: "admin-a", partitions: 3, configs: ["retention.ms": "60000"]), NewTopic(name: "admin-b", partitions: 1)])
        try await admin.createTopics([NewTopic(name: "admin-a", partitions: 3)], ignoreExisting: true)
        let topics = try await admin.listTopics()
        XCTAssertEqual(topics.filter { $0.name.hasPrefix("admin-") }.map(\.name), ["admin-a", "admin-b"])
        XCTAssertEqual(topics.first { $0.name == "admin-a" }?.partitions, 3)
        let configs = try await admin.describeTopicConfigs("admin-a", keys: ["retention.ms"])
        XCTAssertEqual(configs["retention.ms"], "60000")
        try await admin.deleteTopics(["admin-b"])
        let after = try await admin.listTopics()
        XCTAssertEqual(after.filter { $0.name.hasPrefix("admin-") }.map(\.name), ["admin-a"])
    }

    func testSASLPlainAuthenticatesAndRejectsWrongPassword() async throws {
        let secured = try await TestBroker.start { $0.saslPlainUsers = ["alice": "secret"] }
        defer { Task { try? await secured.stop() } }
        var good = ConnectionConfiguration()
        good.sasl = SASLPlainCredentials(username: "alice", password: "secret")
        let address = try BrokerAddress(parsing: secured.bootstrap)
        let connection = try await BrokerConnection.connect(to: address, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: good)
        let metadata = try await connection.send(MetadataRequest(topics: nil, allowAutoTopicCreation: false))
        XCTAssertEqual(metadata.brokers.count, 1)
        await connection.close()
        var bad = good
        bad.sasl = SASLPlainCredentials(username: "alice", password: "wrong")
        do {
            _ = try await BrokerConnection.connect(to: address, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: bad)
            XCTFail("wrong password accepted")
        } catch let error as KafkaClientError {
            guard case .authenticationFailed = error else { return XCTFail("\(error)") }
        }
        try await secured.stop()
    }

    func testConnectionLossFailsInFlightRequestsWithTypedError() async throws {
        let address = try BrokerAddress(parsing: broker.bootstrap)
        let connection = try await BrokerConnection.connect(to: address, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        XCTAssertEqual(connection.versions[.produce], 9)
        XCTAssertEqual(connection.versions[.fetch], 12)
        let created = try await connection.send(MetadataRequest(topics: [.init(topicID: .zero, name: "idle")], allowAutoTopicCreation: true))
        XCTAssertEqual(created.topics.first?.name, "idle")
        // A long-poll fetch of an empty partition stays in flight until the connection goes away.
        let fetch = FetchRequest(replicaID: -1, maxWaitMs: 20_000, minBytes: 1, maxBytes: 1024, topics: [
            .init(topic: "idle", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1024)]),
        ])
        let pending = connection.sendFuture(fetch, extraTimeout: .seconds(20))
        // Pipelining: a second request behind it (the broker answers in order, so it waits too).
        let second = connection.sendFuture(MetadataRequest(topics: [], allowAutoTopicCreation: false))
        try await Task.sleep(nanoseconds: 200_000_000)
        try await connection.channel.close()
        for future in [pending.map { _ in () }, second.map { _ in () }] {
            do {
                _ = try await future.get()
                XCTFail("a request survived the connection")
            } catch let error as KafkaClientError {
                guard case .connectionClosed = error else { return XCTFail("\(error)") }
            }
        }
        do {
            _ = try await connection.send(MetadataRequest(topics: [], allowAutoTopicCreation: false))
            XCTFail("send on a closed connection succeeded")
        } catch let error as KafkaClientError {
            guard case .connectionClosed = error else { return XCTFail("\(error)") }
        }
    }
}

/// Thread-safe collection of producer completions.
final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [(Int, Result<RecordMetadata, any Error>)] = []

    func add(_ index: Int, _ result: Result<RecordMetadata, any Error>) {
        lock.lock(); defer { lock.unlock() }
        results.append((index, result))
    }

    var all: [(Int, Result<RecordMetadata, any Error>)] {
        lock.lock(); defer { lock.unlock() }
        return results
    }
}
