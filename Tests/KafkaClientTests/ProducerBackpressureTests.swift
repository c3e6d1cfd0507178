import Foundation
import KafkaClient
import KafkaProtocol
import NIOCore
import NIOPosix
import XCTest

/// Bounded buffer memory: with a broker that stops answering, `send` suspends once
/// `bufferMemory` is used up and carries on when the answers come.
final class ProducerBackpressureTests: XCTestCase {
    func testSendSuspendsWhileBufferMemoryIsFullAndResumesWhenTheBrokerAnswers() async throws {
        let proxy = PausableProxy()
        try await proxy.start(group: MultiThreadedEventLoopGroup.singleton)
        let broker = try await TestBroker.start { $0.advertisedPort = proxy.port }
        proxy.upstreamPort = broker.broker.port
        let client = try KafkaClusterClient(bootstrap: "127.0.0.1:\(proxy.port)")
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "slow", partitions: 1)])

        func value(_ index: Int) -> ByteBuffer { bytes(String(format: "%0100d", index)) }
        let recordSize = RecordBatchBuilder.estimatedSize(keyLength: nil, valueLength: 100)
        let fitting = 10
        var configuration = ProducerConfiguration()
        configuration.bufferMemory = fitting * recordSize + recordSize / 2
        configuration.batchSize = 4 * recordSize
        configuration.linger = .zero
        let producer = KafkaProducer(client: client, configuration: configuration)
        // Producer id, metadata and the leader's connection while the broker still answers.
        let first = try await producer.send(topic: "slow", key: nil, value: value(0))
        XCTAssertEqual(first.offset, 0)

        proxy.pause()
        let total = 40
        let returned = Counter()
        let results = ResultCollector()
        let sender = Task {
            for index in 1...total {
                try await producer.send(topic: "slow", key: nil, value: value(index)) { results.add(index, $0) }
                returned.increment()
            }
        }
        // Wait for the buffer to fill, then make sure nothing more gets in.
        for _ in 0..<1000 where returned.value < fitting {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertEqual(returned.value, fitting, "sends return until bufferMemory is full, then suspend")
        XCTAssertEqual(results.all.count, 0, "no answer has come")

        proxy.resume()
        try await sender.value
        XCTAssertEqual(returned.value, total)
        await producer.flush()

        let all = results.all.sorted { $0.0 < $1.0 }
        XCTAssertEqual(all.count, total)
        XCTAssertEqual(try all.map { try $0.1.get().offset }, (1...Int64(total)).map { $0 })

        let consumer = KafkaConsumer(client: client)
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 60_000_000_000)
            await consumer.close()
        }
        await consumer.assign([TopicPartition("slow", 0)])
        var records: [ConsumerRecord] = []
        while records.count < total + 1 { records += try await consumer.poll() }
        watchdog.cancel()
        XCTAssertEqual(records.map(\.offset), (0...Int64(total)).map { $0 })
        XCTAssertEqual(records.map { $0.value! }, (0...total).map(value))
        let end = try await client.listOffsets([TopicPartition("slow", 0): KafkaClusterClient.latestTimestamp])
        XCTAssertEqual(end, [TopicPartition("slow", 0): Int64(total + 1)], "every record stored exactly once")

        await consumer.close()
        await producer.close()
        await client.close()
        try await broker.stop()
        try await proxy.stop()
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock(); defer { lock.unlock() }
        count += 1
    }

    var value: Int {
        lock.lock(); defer { lock.unlock() }
        return count
    }
}
