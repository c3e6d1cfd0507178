import Broker
import Foundation
@testable import KafkaClient
import KafkaProtocol
import NIOCore
import NIOPosix
import XCTest

/// `poll(timeout:)` and `lastFetchError`: a bounded reader can tell a quiet topic from a
/// cluster out of reach, and is never stuck in a `poll` that swallows retriable errors.
final class PollTimeoutTests: XCTestCase {
    /// A broker with a one-partition topic and a consumer assigned to it, positioned at `from`.
    private static func quietConsumer(topic: String, maxWait: TimeAmount, from position: SeekPosition)
        async throws -> (TestBroker, KafkaClusterClient, KafkaConsumer, TopicPartition) {
        let broker = try await TestBroker.start()
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: topic, partitions: 1)])
        var configuration = ConsumerConfiguration()
        configuration.maxWait = maxWait
        let consumer = KafkaConsumer(client: client, configuration: configuration)
        let partition = TopicPartition(topic, 0)
        await consumer.assign([partition])
        try await consumer.seek(partition, to: position)
        return (broker, client, consumer, partition)
    }

    func testPollWithTimeoutReturnsNothingFromAQuietTopicAndRecordsOnceTheyCome() async throws {
        let (broker, client, consumer, partition) = try await Self.quietConsumer(topic: "quiet", maxWait: .milliseconds(100), from: .beginning)

        let started = ContinuousClock.now
        let none = try await consumer.poll(timeout: .milliseconds(300))
        let waited = ContinuousClock.now - started
        XCTAssertEqual(none.count, 0)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(300), "an empty answer only once the timeout passed")
        let quietError = await consumer.lastFetchError
        XCTAssertNil(quietError, "a quiet topic is not an error")

        let producer = KafkaProducer(client: client)
        for index in 0..<3 { _ = try await producer.send(topic: "quiet", key: bytes("k"), value: bytes("v\(index)")) }
        var received: [ConsumerRecord] = []
        for _ in 0..<50 where received.count < 3 {
            received += try await consumer.poll(timeout: .seconds(1))
        }
        XCTAssertEqual(received.map(\.offset), [0, 1, 2])
        XCTAssertEqual(received.map { $0.value!.text }, ["v0", "v1", "v2"])

        await producer.close()
        await consumer.close()
        do {
            _ = try await consumer.poll(timeout: .milliseconds(10))
            XCTFail("a closed consumer's poll throws")
        } catch {
            XCTAssertEqual(error as? KafkaClientError, .closed)
        }
        await client.close()
        try await broker.stop()
    }

    /// A cancelled deadline timer once woke the next wait, whose cancelled timer woke the
    /// one after: an idle gateway spun at 1.6 cores and grew by ~80 MB/s of dispatch timers.
    func testAQuietPollParksOncePerFetchRoundNotInALoop() async throws {
        let (broker, client, consumer, _) = try await Self.quietConsumer(topic: "idle", maxWait: .milliseconds(200), from: .end)
        for _ in 0..<3 {
            let records = try await consumer.poll(timeout: .milliseconds(400))
            XCTAssertEqual(records.count, 0)
        }
        // 1.2 s of polling with 200 ms long-polls: about six fetch rounds, each waking the
        // waiter once, plus one deadline per poll. The spin parked hundreds of thousands of times.
        let waits = await consumer.pollWaits
        XCTAssertGreaterThan(waits, 0)
        XCTAssertLessThanOrEqual(waits, 30, "a quiet consumer parks once per fetch round or deadline")
        await consumer.close()
        await client.close()
        try await broker.stop()
    }

    func testPollWithTimeoutReportsTheFetchErrorWhileTheBrokerIsGoneAndClearsItWhenItIsBack() async throws {
        var broker = try await RestartableBroker.start(name: "poll-timeout", logLevel: .critical)
        defer { broker.removeData() }
        let bootstrap = broker.bootstrap

        let client = try KafkaClusterClient(bootstrap: bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "gone", partitions: 1)])
        let producer = KafkaProducer(client: client)
        _ = try await producer.send(topic: "gone", key: bytes("k"), value: bytes("before"))

        var configuration = ConsumerConfiguration()
        configuration.maxWait = .milliseconds(100)
        configuration.retryBackoff = .zero  // clamped: a refused connection must not spin the fetch loop
        let consumer = try KafkaConsumer(bootstrap: bootstrap, configuration: configuration)
        let partition = TopicPartition("gone", 0)
        await consumer.assign([partition])
        await consumer.seek([partition: 0])
        var first: [ConsumerRecord] = []
        for _ in 0..<50 where first.isEmpty { first = try await consumer.poll(timeout: .seconds(1)) }
        XCTAssertEqual(first.map { $0.value!.text }, ["before"])

        try await broker.shutdown()
        var fetchError: KafkaClientError?
        for _ in 0..<20 where fetchError == nil {
            let records = try await consumer.poll(timeout: .milliseconds(250))
            XCTAssertEqual(records.count, 0, "nothing comes from a broker that is gone")
            fetchError = await consumer.lastFetchError
        }
        let reported = try XCTUnwrap(fetchError, "the consumer says why nothing comes")
        XCTAssertTrue(reported.isRetriable, "\(reported)")

        try await broker.restart()
        XCTAssertEqual(broker.broker.port, broker.port)
        _ = try await producer.send(topic: "gone", key: bytes("k"), value: bytes("after"))
        var later: [ConsumerRecord] = []
        for _ in 0..<60 where later.isEmpty { later = try await consumer.poll(timeout: .seconds(1)) }
        XCTAssertEqual(later.map(\.offset), [1])
        XCTAssertEqual(later.map { $0.value!.text }, ["after"])
        let cleared = await consumer.lastFetchError
        XCTAssertNil(cleared, "a successful fetch round clears the error")

        await consumer.close()
        await producer.close()
        await client.close()
        try await broker.shutdown()
    }
}

/// A fetch answer that arrives after its partition was unassigned, assigned again and
/// sought counts for nothing: records come from the new position, without a gap.
final class StaleFetchAnswerTests: XCTestCase {
    func testAnAnswerFromBeforeAReassignmentIsDiscarded() async throws {
        let proxy = PausableProxy()
        try await proxy.start(group: MultiThreadedEventLoopGroup.singleton)
        let broker = try await TestBroker.start { $0.advertisedPort = proxy.port }
        proxy.upstreamPort = broker.broker.port
        let admin = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: admin).createTopics([NewTopic(name: "stale", partitions: 1)])
        let producer = KafkaProducer(client: admin)
        for index in 0..<100 {
            try await producer.send(topic: "stale", key: bytes("k"), value: bytes("\(index)")) { _ in }
        }
        await producer.flush()

        var configuration = ConsumerConfiguration()
        configuration.maxWait = .milliseconds(50)
        configuration.maxPollRecords = 1000
        let consumer = try KafkaConsumer(bootstrap: "127.0.0.1:\(proxy.port)", configuration: configuration)
        let partition = TopicPartition("stale", 0)
        await consumer.assign([partition])
        await consumer.seek([partition: 0])
        var warmUp: [ConsumerRecord] = []
        for _ in 0..<50 where warmUp.count < 100 { warmUp += try await consumer.poll(timeout: .seconds(1)) }
        XCTAssertEqual(warmUp.map(\.offset), Array(0..<100))

        // The consumer long-polls at offset 100; the answer to its fetch is held.
        proxy.pause()
        let held = try await consumer.poll(timeout: .milliseconds(300))
        XCTAssertEqual(held.count, 0)
        // Meanwhile the partition leaves, comes back and is sought (a rebalance, then a sink
        // seeking to its own stored offsets). With epochs counted per partition from zero
        // again, the new state carried the held request's epoch, so the held answer was
        // taken for the new position: fetching went on from 100 and 10…99 never came.
        await consumer.assign([])
        await consumer.assign([partition])
        await consumer.seek([partition: 10])
        proxy.resume()
        for index in 100..<110 {
            try await producer.send(topic: "stale", key: bytes("k"), value: bytes("\(index)")) { _ in }
        }
        await producer.flush()

        var records: [ConsumerRecord] = []
        for _ in 0..<50 where records.count < 100 { records += try await consumer.poll(timeout: .seconds(1)) }
        XCTAssertEqual(records.first?.offset, 10, "the first record is the sought one")
        XCTAssertEqual(records.map(\.offset), Array(10..<110), "from the new position, without a gap or a repeat")
        XCTAssertEqual(records.map { $0.value!.text }, (10..<110).map(String.init))

        await consumer.close()
        await producer.close()
        await admin.close()
        try await broker.stop()
        try await proxy.stop()
    }
}
