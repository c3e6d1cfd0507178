import KafkaProtocol

/// The client's view of the cluster as the last Metadata responses described it:
/// brokers by node id and, per topic, each partition's leader. A value: routing
/// decisions are pure functions of it and are tested without a network.
public struct MetadataCache: Sendable, Hashable {
    /// One partition as the last Metadata response described it.
    public struct PartitionInfo: Sendable, Hashable {
        /// Node id of the leader; -1 while the partition has none (an election is running).
        public var leader: Int32
        /// The leader's epoch (KIP-320); -1 when the broker does not report one.
        public var leaderEpoch: Int32
        /// The partition-level error of the response (e.g. LEADER_NOT_AVAILABLE); `.none` when the partition is usable.
        public var error: KafkaErrorCode
    }

    /// One topic as the last Metadata response that covered it described it.
    public struct TopicInfo: Sendable, Hashable {
        /// The topic-level error: UNKNOWN_TOPIC_OR_PARTITION when the topic does not exist (and was not auto-created),
        /// LEADER_NOT_AVAILABLE while a new topic is being set up; `.none` when usable.
        public var error: KafkaErrorCode
        /// Partitions by index.
        public var partitions: [Int32: PartitionInfo]
        /// How many partitions the response listed (0 for a topic in error).
        public var partitionCount: Int { partitions.count }
    }

    /// Every broker of the last response by node id; replaced (not merged) by each update, so brokers that left disappear.
    public private(set) var brokers: [Int32: BrokerAddress] = [:]
    /// Every topic any response described, by name; a later response replaces only the topics it covers.
    public private(set) var topics: [String: TopicInfo] = [:]
    /// Node id of the controller (where CreateTopics/DeleteTopics go); -1 when unknown.
    public private(set) var controllerID: Int32 = -1
    /// The cluster id from the last response; nil before any or when the broker reports none.
    public private(set) var clusterID: String?

    /// An empty cache: it routes nothing and `needsRefresh(for:)` is true for every topic.
    public init() {}

    /// A cache holding exactly what `response` describes.
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
