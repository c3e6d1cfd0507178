import KafkaProtocol
import NIOCore

/// The group leader's partition assignment strategies of the "consumer" protocol type,
/// identical in outcome to the Java client's `RangeAssignor` and `RoundRobinAssignor`.
public enum PartitionAssignor: String, Sendable, Hashable, CaseIterable {
    /// Per topic, consecutive ranges of partitions to the members sorted by id; the first members get one extra
    /// when the count does not divide (Java's `RangeAssignor`). Protocol name "range".
    case range = "range"
    /// All partitions of all subscribed topics, sorted, dealt one by one to the members subscribed to them
    /// (Java's `RoundRobinAssignor`). Protocol name "roundrobin".
    case roundRobin = "roundrobin"

    /// `subscriptions`: member id → subscribed topics. `partitionCounts`: topic → partitions
    /// (topics missing here are skipped). Every member appears in the result.
    public func assign(subscriptions: [String: [String]], partitionCounts: [String: Int]) -> [String: [TopicPartition]] {
        var result: [String: [TopicPartition]] = [:]
        for member in subscriptions.keys { result[member] = [] }
        switch self {
        case .range:
            var membersByTopic: [String: [String]] = [:]
            for (member, topics) in subscriptions {
                for topic in Set(topics) { membersByTopic[topic, default: []].append(member) }
            }
            for (topic, unsortedMembers) in membersByTopic {
                guard let count = partitionCounts[topic], count > 0 else { continue }
                let members = unsortedMembers.sorted()
                let perMember = count / members.count
                let extra = count % members.count
                for (index, member) in members.enumerated() {
                    let start = index * perMember + min(index, extra)
                    let length = perMember + (index < extra ? 1 : 0)
                    for partition in start..<(start + length) {
                        result[member]!.append(TopicPartition(topic, Int32(partition)))
                    }
                }
            }
        case .roundRobin:
            let members = subscriptions.keys.sorted()
            guard !members.isEmpty else { return result }
            let subscribed = subscriptions.mapValues(Set.init)
            let topics = Set(subscriptions.values.joined()).sorted()
            var next = 0
            for topic in topics {
                guard let count = partitionCounts[topic] else { continue }
                for partition in 0..<count {
                    for step in 0..<members.count {
                        let member = members[(next + step) % members.count]
                        if subscribed[member]!.contains(topic) {
                            result[member]!.append(TopicPartition(topic, Int32(partition)))
                            next = (next + step + 1) % members.count
                            break
                        }
                    }
                }
            }
        }
        return result.mapValues { $0.sorted() }
    }
}

/// The "consumer" protocol's embedded messages: each is a version (int16) followed by
/// the body in that version (ConsumerProtocolSubscription/Assignment JSON definitions).
enum ConsumerProtocolCodec {
    static func encodeSubscription(topics: [String], userData: ByteBuffer? = nil, version: Int16 = 0) throws(KafkaClientError) -> ByteBuffer {
        try encode(ConsumerProtocolSubscription(topics: topics.sorted(), userData: userData), version: version)
    }

    static func encodeAssignment(_ partitions: [TopicPartition], version: Int16 = 0) throws(KafkaClientError) -> ByteBuffer {
        var byTopic: [String: [Int32]] = [:]
        for partition in partitions { byTopic[partition.topic, default: []].append(partition.partition) }
        let message = ConsumerProtocolAssignment(
            assignedPartitions: byTopic.sorted { $0.key < $1.key }.map { .init(topic: $0.key, partitions: $0.value.sorted()) })
        return try encode(message, version: version)
    }

    static func decodeSubscription(_ bytes: ByteBuffer) throws(KafkaClientError) -> ConsumerProtocolSubscription {
        try decode(bytes)
    }

    /// An empty buffer is an empty assignment (a member the leader gave nothing).
    static func decodeAssignment(_ bytes: ByteBuffer) throws(KafkaClientError) -> [TopicPartition] {
        guard bytes.readableBytes > 0 else { return [] }
        let message: ConsumerProtocolAssignment = try decode(bytes)
        return message.assignedPartitions.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0) } }.sorted()
    }

    private static func encode<Message: KafkaVersionedMessage>(_ message: Message, version: Int16) throws(KafkaClientError) -> ByteBuffer {
        var writer = KafkaWriter()
        writer.buffer.writeInteger(version)
        do {
            try message.write(to: &writer, version: version)
        } catch {
            throw .codec(error)
        }
        return writer.finishContiguous()
    }

    /// Versions newer than ours are read as our newest: later versions only add fields at the end.
    private static func decode<Message: KafkaVersionedMessage>(_ bytes: ByteBuffer) throws(KafkaClientError) -> Message {
        var buffer = bytes
        guard let version = buffer.readInteger(as: Int16.self), version >= 0 else {
            throw .codec(.truncated(what: "\(Message.self) version", needed: 2, available: bytes.readableBytes))
        }
        do {
            return try Message(from: &buffer, version: min(version, Message.validVersions.upperBound))
        } catch {
            throw .codec(error)
        }
    }
}
