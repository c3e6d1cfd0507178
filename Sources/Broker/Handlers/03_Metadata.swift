import KafkaProtocol

// Metadata (key 3). One broker leads every partition with leader epoch 0; topic ids are
// stable. Unknown topics are created when the broker allows it and the request does
// (AllowAutoTopicCreation, v4+; always allowed before v4, as in Kafka).
extension Cluster {
    func handleMetadata(_ request: MetadataRequest, context: RequestContext) -> MetadataResponse {
        let endpoint = advertisedEndpoint
        var response = MetadataResponse(
            brokers: [.init(nodeID: brokerID, host: endpoint.host, port: endpoint.port, rack: nil)],
            clusterID: clusterID,
            controllerID: brokerID
        )
        // v0 asks for every topic with an empty list; v1+ with null.
        let wanted: [String]?
        if let requested = request.topics, !(requested.isEmpty && context.apiVersion == 0) {
            wanted = requested.map { entry in
                entry.name ?? topics.topic(id: entry.topicID)?.name ?? ""
            }
        } else {
            wanted = nil
        }
        let allowCreation = configuration.autoCreateTopics && (context.apiVersion < 4 || request.allowAutoTopicCreation)
        let selected: [(String, Topic?)] = wanted.map { names in
            names.map { name in
                if let topic = topics[name] { return (name, topic) }
                if allowCreation, (try? TopicRegistry.validateName(name)) != nil {
                    _ = try? topics.create(name: name, partitions: configuration.defaultPartitions, configs: [:])
                }
                return (name, topics[name])
            }
        } ?? topics.all.map { ($0.name, $0) }

        response.topics = selected.map { name, topic in
            guard let topic else {
                let invalid = (try? TopicRegistry.validateName(name)) == nil
                let code: KafkaErrorCode = invalid ? .invalidTopicException : .unknownTopicOrPartition
                return .init(errorCode: code.rawValue, name: name, topicID: .zero, isInternal: false, partitions: [])
            }
            var entry = MetadataResponse.MetadataResponseTopic(
                errorCode: 0, name: topic.name, topicID: topic.id, isInternal: false,
                partitions: topic.partitions.map { partition in
                    .init(errorCode: 0, partitionIndex: partition.index, leaderID: brokerID, leaderEpoch: 0,
                          replicaNodes: [brokerID], isrNodes: [brokerID], offlineReplicas: [])
                }
            )
            if request.includeTopicAuthorizedOperations { entry.topicAuthorizedOperations = Self.allTopicOperations }
            return entry
        }
        if request.includeClusterAuthorizedOperations { response.clusterAuthorizedOperations = Self.allClusterOperations }
        return response
    }

    /// Bit fields of Kafka's AclOperation codes a client may perform (no ACLs here: all of them).
    /// Topic: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11.
    static let allTopicOperations: Int32 = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11)
    /// Cluster: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
    static let allClusterOperations: Int32 = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
}
