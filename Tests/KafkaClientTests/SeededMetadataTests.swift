import Broker
@testable import KafkaClient
import KafkaProtocol
import NIOCore
import XCTest

/// Many consumers, each with its own connection, sharing one metadata lookup.
final class SeededMetadataTests: XCTestCase {
    /// The seeded client never asks for metadata: its bootstrap list points at a closed
    /// port, so any Metadata request would fail, yet it reads every record through a
    /// connection of its own to the leader named in the shared cache.
    func testConsumerOverSeededClientReadsWithoutMetadataRequest() async throws {
        let broker = try await TestBroker.start()
        let shared = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: shared).createTopics([NewTopic(name: "seeded", partitions: 3)])
        let producer = KafkaProducer(client: shared)
        for index in 0..<30 {
            _ = try await producer.send(topic: "seeded", partition: Int32(index % 3), key: nil, value: bytes("v\(index)"))
        }
        let cache = try await shared.metadata(for: ["seeded"])
        XCTAssertEqual(cache.partitionCount(of: "seeded"), 3)

        var configuration = ClientConfiguration()
        configuration.allowAutoTopicCreation = false
        let own = KafkaClusterClient(bootstrap: [BrokerAddress(host: "127.0.0.1", port: 1)], configuration: configuration, metadata: cache)
        let consumer = KafkaConsumer(client: own, closesClient: true)
        let partitions = (0..<3).map { TopicPartition("seeded", Int32($0)) }
        await consumer.assign(partitions)
        await consumer.seek(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(2)) }))
        var values: [String] = []
        while values.count < 24 {
            values += try await consumer.poll().map { $0.value!.text }
        }
        XCTAssertEqual(values.count, 24)
        XCTAssertEqual(Set(values), Set((6..<30).map { "v\($0)" }))
        let ownMetadata = await own.metadata
        XCTAssertEqual(ownMetadata, cache)

        await consumer.close()
        do {
            _ = try await own.connection(to: cache.leader(for: partitions[0])!.nodeID)
            XCTFail("the consumer closes the client it owns")
        } catch KafkaClientError.closed {
        }
        await producer.close()
        await shared.close()
        try await broker.stop()
    }
}
