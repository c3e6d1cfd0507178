import KafkaProtocol

/// The client's view of the cluster as the last Metadata responses described it:
/// brokers by node id and, per topic, each partition's leader. A value: routing
/// decisions are pure functions of it and are tested without a network.
public struct MetadataCache: Sendable, Hashable {
    public struct PartitionInfo: Sendable, Hashable {
        public var leader: Int32
        public var leaderEpoch: Int32
        public var error: KafkaErrorCode
    }

    public struct TopicInfo: Sendable, Hashable {
        public var error: KafkaErrorCode
        /// Partitions by index.
        public var partitions: [Int32: PartitionInfo]
        public var partitionCount: Int { partitions.count }
    }

    public private(set) var brokers: [Int32: BrokerAddress] = [:]
    public private(set) var topics: [String: TopicInfo] = [:]
    public private(set) var controllerID: Int32 = -1
    public private(set) var clusterID: String?

    public init() {}

    public init(_ response: MetadataResponse) {
        self.update(with: response)
    }

    /// Merges a response: brokers are replaced, topics in the response replace what was
    /// known of them, other topics are kept (a response may cover only some topics).
    public mutating func update(with response: MetadataResponse) {
        var brokers: [Int32: BrokerAddress] = [:]
        for broker in response.brokers {
            brokers[broker.nodeID] = BrokerAddress(host: broker.host, port: Int(broker.port))
        }
        self.brokers = brokers
        self.controllerID = response.controllerID
        self.clusterID = response.clusterID
        for topic in response.topics {
            guard let name = topic.name else { continue }
            var partitions: [Int32: PartitionInfo] = [:]
            for partition in topic.partitions {
                partitions[partition.partitionIndex] = PartitionInfo(
                    leader: partition.leaderID, leaderEpoch: partition.leaderEpoch, error: KafkaErrorCode(partition.errorCode))
            }
            topics[name] = TopicInfo(error: KafkaErrorCode(topic.errorCode), partitions: partitions)
        }
    }

    /// Forgets a topic (after DeleteTopics, or UNKNOWN_TOPIC_OR_PARTITION).
    public mutating func remove(topic: String) {
        topics[topic] = nil
    }

    /// Partitions of `topic`, or nil when unknown or in error.
    public func partitionCount(of topic: String) -> Int? {
        guard let info = topics[topic], info.error == .none, !info.partitions.isEmpty else { return nil }
        return info.partitionCount
    }

    /// The leader of a partition and its address, when there is one the cache can reach.
    public func leader(for partition: TopicPartition) -> (nodeID: Int32, address: BrokerAddress)? {
        guard let info = topics[partition.topic]?.partitions[partition.partition], info.leader >= 0,
              let address = brokers[info.leader] else { return nil }
        return (info.leader, address)
    }

    /// Groups partitions by their leader's node id; partitions without a reachable leader
    /// go to `unroutable`.
    public func route(_ partitions: some Sequence<TopicPartition>) -> (byLeader: [Int32: [TopicPartition]], unroutable: [TopicPartition]) {
        var byLeader: [Int32: [TopicPartition]] = [:]
        var unroutable: [TopicPartition] = []
        for partition in partitions {
            if let leader = leader(for: partition) {
                byLeader[leader.nodeID, default: []].append(partition)
            } else {
                unroutable.append(partition)
            }
        }
        return (byLeader, unroutable)
    }

    /// Whether the cache lacks anything needed to route to `topics`.
    public func needsRefresh(for topics: some Sequence<String>) -> Bool {
        for topic in topics {
            guard let info = self.topics[topic], info.error == .none, !info.partitions.isEmpty else { return true }
            for partition in info.partitions.values where partition.leader < 0 || brokers[partition.leader] == nil {
                return true
            }
        }
        return false
    }
}
