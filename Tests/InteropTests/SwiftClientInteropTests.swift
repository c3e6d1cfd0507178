import Foundation
import KafkaClient
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Our Swift client against clients we did not write: what it produces, kcat and
/// confluent-kafka read; what confluent-kafka produces, it reads; it shares a group with
/// a librdkafka member; and two thousand of its consumers run in one process.
@Suite("Swift client with other clients", .serialized)
struct SwiftClientInteropTests {
    @Test func ourProducerIsReadByKcatByteForByteInTheJavaMurmur2Partitions() async throws {
        let broker = try await TestBroker.start()
        let producer = try KafkaProducer(bootstrap: broker.bootstrap)
        let acknowledged = NIOLockedValueBox<[String: RecordMetadata]>([:])
        for index in 0..<1_000 {
            try await producer.send(topic: "from-swift", key: ByteBuffer(string: "key-\(index)"),
                                    value: ByteBuffer(string: "value-\(index)")) { result in
                if case .success(let metadata) = result { acknowledged.withLockedValue { $0["key-\(index)"] = metadata } }
            }
        }
        await producer.close()
        let ours = acknowledged.withLockedValue { $0 }
        #expect(ours.count == 1_000)

        // librdkafka with partitioner=murmur2_random places each key where the Java client would.
        let reference = try await runPythonClient("confluent-partitions", bootstrap: broker.bootstrap,
                                                  ["--topic", "from-confluent", "--count", "1000"])
        let theirs = try #require(reference["partitions"] as? [String: Int])
        #expect(theirs.count == 1_000)
        for (key, metadata) in ours { #expect(theirs[key] == Int(metadata.partition), "\(key)") }
        #expect(Set(ours.values.map(\.partition)).count == 8)

        let read = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "from-swift", "-C", "-o", "beginning", "-e", "-q",
                                                   "-f", "%p %o %k %s\n"])
        #expect(read.lines.count == 1_000)
        for line in read.lines {
            let fields = line.split(separator: " ").map(String.init)
            let metadata = try #require(ours[fields[2]])
            #expect(Int32(fields[0]) == metadata.partition && Int64(fields[1]) == metadata.offset, "\(line)")
            #expect(fields[3] == "value-" + fields[2].dropFirst(4))
        }

        // confluent-kafka (librdkafka 2.16, another generation than kcat's) reads the same
        // bytes at the same partitions and offsets.
        let consumed = try await runPythonClient("confluent-consume", bootstrap: broker.bootstrap,
                                                 ["--topic", "from-swift", "--records"])
        let records = try #require(consumed["records"] as? [[Any]])
        #expect(records.count == 1_000)
        func hex(_ text: String) -> String { text.utf8.map { String(format: "%02x", $0) }.joined() }
        let keysByHex = Dictionary(uniqueKeysWithValues: ours.keys.map { (hex($0), $0) })
        var matched = Set<String>()
        for record in records {
            let keyHex = try #require(record[2] as? String)
            let key = try #require(keysByHex[keyHex], "unknown key \(keyHex)")
            let metadata = try #require(ours[key])
            #expect((record[0] as? NSNumber)?.int32Value == metadata.partition, "\(key)")
            #expect((record[1] as? NSNumber)?.int64Value == metadata.offset, "\(key)")
            #expect(record[3] as? String == hex("value-" + key.dropFirst(4)), "\(key)")
            matched.insert(key)
        }
        #expect(matched.count == 1_000)
        try await broker.stop()
    }

    @Test func ourConsumerReadsWhatConfluentKafkaProduced() async throws {
        let broker = try await TestBroker.start()
        let produced = try await runPythonClient("confluent-produce", bootstrap: broker.bootstrap, ["--topic", "to-swift", "--count", "20000"])
        #expect(produced.int("delivered") == 20_000)
        let consumer = try KafkaConsumer(bootstrap: broker.bootstrap)
        let partitions = (0..<Int32(8)).map { TopicPartition("to-swift", $0) }
        await consumer.assign(partitions)
        for partition in partitions { try await consumer.seek(partition, to: .beginning) }
        var values: [Int32: [Int]] = [:]
        var total = 0
        while total < 20_000 {
            for record in try await consumer.poll() {
                let text = String(buffer: record.value!)
                values[record.partition, default: []].append(Int(text.dropFirst("value-".count))!)
                total += 1
            }
        }
        await consumer.close()
        #expect(Set(values.values.flatMap { $0 }) == Set(0..<20_000))
        #expect(values.values.allSatisfy { $0 == $0.sorted() }, "each partition in produce order")
        try await broker.stop()
    }

    @Test func ourGroupMemberAndALibrdkafkaMemberSharePartitions() async throws {
        let broker = try await TestBroker.start { $0.groupMinSessionTimeoutMs = 1_000 }
        _ = try await runPythonClient("confluent-produce", bootstrap: broker.bootstrap, ["--topic", "mixed", "--count", "800"])
        let theirs = try GroupMemberProcess(client: "confluent", name: "librdkafka", bootstrap: broker.bootstrap,
                                            topic: "mixed", group: "mixed-group")
        defer { theirs.kill() }
        try await eventually("the librdkafka member owns every partition", members: [theirs]) { theirs.assignment.count == 8 }
        var configuration = GroupConfiguration(assignor: .range)
        configuration.sessionTimeout = .seconds(6)
        let ours = try KafkaGroupConsumer(bootstrap: broker.bootstrap, groupID: "mixed-group", topics: ["mixed"],
                                          configuration: configuration)
        let polling = Task { while !Task.isCancelled { _ = try? await ours.poll() } }
        try await ours.start()
        try await eventuallyAsync("both members hold disjoint halves", members: [theirs]) {
            let mine = Set(await ours.assignment.map { Int($0.partition) })
            return !mine.isEmpty && !theirs.assignment.isEmpty && mine.isDisjoint(with: theirs.assignment)
                && mine.union(theirs.assignment) == Set(0..<8)
        }
        polling.cancel()
        await ours.close()
        try await eventually("the librdkafka member takes everything back after we leave", members: [theirs]) {
            theirs.assignment.count == 8
        }
        await theirs.stop()
        try await broker.stop()
    }

    @Test func twoThousandConsumersInOneProcessEachReceiveEveryRecord() async throws {
        let broker = try await TestBroker.start()
        let producer = try KafkaProducer(bootstrap: broker.bootstrap)
        for index in 0..<50 {
            _ = try await producer.send(topic: "fanout", partition: 0, key: nil, value: ByteBuffer(string: "tick-\(index)"))
        }
        await producer.close()
        // One shared cluster client (metadata, connections) and one event loop group for all.
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        let received = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<2_000 {
                group.addTask {
                    let consumer = KafkaConsumer(client: client)
                    await consumer.assign([TopicPartition("fanout", 0)])
                    try await consumer.seek(TopicPartition("fanout", 0), to: .beginning)
                    var values: [String] = []
                    while values.count < 50 { values += try await consumer.poll().map { String(buffer: $0.value!) } }
                    await consumer.close()
                    return values
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        await client.close()
        #expect(received.count == 2_000)
        let expected = (0..<50).map { "tick-\($0)" }
        #expect(received.allSatisfy { $0 == expected })
        try await broker.stop()
    }
}
