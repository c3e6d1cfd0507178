import Broker
import KafkaClient
import NIOCore
import NIOPosix
import XCTest

/// Thousands of consumers on one event-loop group: how much does an idle one cost?
final class ConsumerMemoryTests: XCTestCase {
    func testTwoThousandIdleConsumersShareOneClient() async throws {
        let broker = try await TestBroker.start()
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "fanout", partitions: 8)])
        let producer = KafkaProducer(client: client)
        for index in 0..<8 { _ = try await producer.send(topic: "fanout", partition: Int32(index), key: nil, value: bytes("x")) }
        _ = try await client.metadata(for: ["fanout"])

        let count = 2000
        let before = residentBytes()
        var consumers: [KafkaConsumer] = []
        consumers.reserveCapacity(count)
        for index in 0..<count {
            let consumer = KafkaConsumer(client: client)
            let partition = TopicPartition("fanout", Int32(index % 8))
            await consumer.assign([partition])
            try await consumer.seek(partition, to: .end)
            consumers.append(consumer)
        }
        let after = residentBytes()
        let perConsumer = (after - before) / count
        print("client memory: \(count) idle consumers (shared cluster client, assigned and positioned) added \(after - before) bytes RSS, \(perConsumer) bytes per consumer")
        var positioned = 0
        for (index, consumer) in consumers.enumerated() {
            if await consumer.position(of: TopicPartition("fanout", Int32(index % 8))) == 1 { positioned += 1 }
        }
        XCTAssertEqual(positioned, count)
        for consumer in consumers { await consumer.close() }
        await producer.close()
        await client.close()
        try await broker.stop()
    }
}
