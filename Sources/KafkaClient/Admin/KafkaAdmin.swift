import KafkaProtocol

/// A topic to create.
public struct NewTopic: Sendable, Hashable {
    /// The topic name (Kafka allows ASCII letters, digits, `.`, `_` and `-`, at most 249 characters; the broker checks).
    public var name: String
    /// -1 takes the broker's default.
    public var partitions: Int32
    /// Copies of each partition; -1 takes the broker's `default.replication.factor` (our single-node broker only accepts 1 or -1).
    public var replicationFactor: Int16
    /// Topic-level config overrides such as `retention.ms` or `cleanup.policy`; empty keeps the broker's defaults.
    public var configs: [String: String]

    /// A topic to create; every argument but `name` defaults to "the broker decides".
    public init(name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A topic as listed by `listTopics`.
public struct TopicListing: Sendable, Hashable {
    /// The topic name.
    public var name: String
    /// How many partitions the Metadata response listed for the topic.
    public var partitions: Int
    /// Whether the broker marks the topic internal (`__consumer_offsets`); such topics are listed only with `includeInternal`.
    public var isInternal: Bool
}

/// Topic administration: create, delete, list, describe configs.
public struct KafkaAdmin: Sendable {
    /// The cluster client every request goes through. Shared, not owned: the admin never closes it.
    public let client: KafkaClusterClient

    /// An admin over `client`. Cheap (a value holding a reference); safe to use from any task, as every call goes through the client actor.
    public init(client: KafkaClusterClient) {
        self.client = client
    }

    /// Creates topics. With `ignoreExisting`, TOPIC_ALREADY_EXISTS is not an error.
    public func createTopics(_ topics: [NewTopic], validateOnly: Bool = false, ignoreExisting: Bool = false, timeoutMs: Int32 = 30_000) async throws {
        let request = CreateTopicsRequest(
            topics: topics.map { topic in
                CreateTopicsRequest.CreatableTopic(
                    name: topic.name, numPartitions: topic.partitions, replicationFactor: topic.replicationFactor,
                    configs: topic.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })
            },
            timeoutMs: timeoutMs, validateOnly: validateOnly)
        let response = try await sendToController(request)
        for result in response.topics {
            let code = KafkaErrorCode(result.errorCode)
            if code == .none || (ignoreExisting && code == .topicAlreadyExists) { continue }
            throw KafkaClientError.broker(code, context: "create topic \(result.name)\(result.errorMessage.map { ": \($0)" } ?? "")")
        }
        if !validateOnly { await client.markStale() }
    }

    /// Deletes topics, asking the controller. Throws `KafkaClientError.broker` with the first error code the broker answers
    /// (e.g. UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist); on success the topics are dropped from the
    /// client's metadata cache. `timeoutMs` is how long the broker may wait for the deletion to complete.
    public func deleteTopics(_ names: [String], timeoutMs: Int32 = 30_000) async throws {
        let request = DeleteTopicsRequest(
            topics: names.map { .init(name: $0, topicID: .zero) }, topicNames: names, timeoutMs: timeoutMs)
        let response = try await sendToController(request)
        for result in response.responses {
            let code = KafkaErrorCode(result.errorCode)
            guard code == .none else {
                throw KafkaClientError.broker(code, context: "delete topic \(result.name ?? "?")")
            }
        }
        for name in names { await client.forget(topic: name) }
    }

    /// Every topic the cluster has, by name.
    public func listTopics(includeInternal: Bool = false) async throws -> [TopicListing] {
        let response = try await client.sendToAny(MetadataRequest(topics: nil, allowAutoTopicCreation: false))
        return response.topics.compactMap { topic in
            guard let name = topic.name, includeInternal || !topic.isInternal else { return nil }
            return TopicListing(name: name, partitions: topic.partitions.count, isInternal: topic.isInternal)
        }.sorted { $0.name < $1.name }
    }

    /// A topic's configuration (name → value; nil for sensitive or unset values).
    public func describeTopicConfigs(_ topic: String, keys: [String]? = nil) async throws -> [String: String?] {
        try await describeConfigs(resourceType: 2, name: topic, keys: keys)
    }

    /// A broker's configuration.
    public func describeBrokerConfigs(_ brokerID: Int32, keys: [String]? = nil) async throws -> [String: String?] {
        try await describeConfigs(resourceType: 4, name: String(brokerID), keys: keys)
    }

    private func describeConfigs(resourceType: Int8, name: String, keys: [String]?) async throws -> [String: String?] {
        let request = DescribeConfigsRequest(resources: [.init(resourceType: resourceType, resourceName: name, configurationKeys: keys)])
        let response = try await client.sendToAny(request)
        var configs: [String: String?] = [:]
        for result in response.results {
            let code = KafkaErrorCode(result.errorCode)
            guard code == .none else {
                throw KafkaClientError.broker(code, context: "describe configs of \(name)\(result.errorMessage.map { ": \($0)" } ?? "")")
            }
            for entry in result.configs { configs[entry.name] = .some(entry.value) }
        }
        return configs
    }

    private func sendToController<Request: KafkaRequestMessage>(_ request: Request) async throws -> Request.Response {
        let cache = try await client.refreshMetadata(topics: [])
        if cache.controllerID >= 0, cache.brokers[cache.controllerID] != nil {
            return try await client.send(request, to: cache.controllerID)
        }
        return try await client.sendToAny(request)
    }
}
