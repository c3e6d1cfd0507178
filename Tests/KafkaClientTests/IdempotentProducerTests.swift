import Broker
import Foundation
import KafkaClient
import KafkaProtocol
import NIOCore
import NIOPosix
import XCTest

/// The idempotent producer through a proxy that drops connections mid-stream: requests
/// reach the broker but their answers are lost, the producer resends, and the broker's
/// sequence checks keep every record exactly once.
final class IdempotentProducerTests: XCTestCase {
    func testEveryRecordExactlyOnceThroughDroppingProxy() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let proxy = DroppingProxy(drops: 6, dropAfterBytes: 48 * 1024)
        try await proxy.start(group: group)
        let broker = try await TestBroker.start { $0.advertisedPort = proxy.port }
        proxy.upstreamPort = broker.broker.port
        let client = try KafkaClusterClient(bootstrap: "127.0.0.1:\(proxy.port)")
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "chaos", partitions: 4)])

        var configuration = ProducerConfiguration(acks: .all, idempotent: true)
        configuration.linger = .milliseconds(2)
        configuration.batchSize = 4 * 1024
        configuration.retryBackoff = .milliseconds(20)
        let producer = KafkaProducer(client: client, configuration: configuration)
        let results = ResultCollector()
        let total = 20_000
        for index in 0..<total {
            try await producer.send(topic: "chaos", key: bytes("k\(index % 97)"), value: bytes(String(format: "%08d", index))) { result in
                results.add(index, result)
            }
        }
        await producer.flush()
        let failures = results.all.filter { if case .failure = $0.1 { return true } else { return false } }
        XCTAssertEqual(results.all.count, total)
        XCTAssertEqual(failures.count, 0, "\(failures.prefix(3).map { "\($0.1)" })")
        XCTAssertGreaterThanOrEqual(proxy.dropCount, 1, "the proxy dropped at least one connection")

        let consumer = KafkaConsumer(client: client)
        let partitions = (0..<4).map { TopicPartition("chaos", Int32($0)) }
        await consumer.assign(partitions)
        var seen: [Int: Int] = [:]
        var offsets: [Int32: [Int64]] = [:]
        var empty = 0
        var count = 0
        while count < total && empty < 40 {
            let batch = try await consumer.poll()
            if batch.isEmpty { empty += 1 }
            for record in batch {
                seen[Int(record.value!.text)!, default: 0] += 1
                offsets[record.partition, default: []].append(record.offset)
                count += 1
            }
        }
        XCTAssertEqual(count, total)
        XCTAssertEqual(seen.count, total)
        XCTAssertEqual(seen.values.filter { $0 != 1 }.count, 0, "no duplicates")
        for (partition, list) in offsets {
            XCTAssertEqual(list, (0..<Int64(list.count)).map { $0 }, "partition \(partition) has no gaps")
        }
        print("idempotence: proxy dropped \(proxy.dropCount) connections; \(total) records exactly once")
        await consumer.close()
        await producer.close()
        await client.close()
        try await broker.stop()
        try await proxy.stop()
    }
}
