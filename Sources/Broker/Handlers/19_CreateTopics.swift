import KafkaProtocol

// CreateTopics (key 19), versions 2–7. One broker: replication factor must be 1 (or -1,
// the broker default); manual assignments may only name this broker. validate_only
// checks everything and creates nothing. Unknown config names are INVALID_CONFIG.
extension Cluster {
    func handleCreateTopics(_ request: CreateTopicsRequest, context: RequestContext) -> CreateTopicsResponse {
        var seen: [String: Int] = [:]
        for topic in request.topics { seen[topic.name, default: 0] += 1 }
        return CreateTopicsResponse(throttleTimeMs: 0, topics: request.topics.map { creatable in
            var result = CreateTopicsResponse.CreatableTopicResult(name: creatable.name, topicID: .zero, errorCode: 0,
                                                                   numPartitions: -1, replicationFactor: -1)
            func fail(_ code: KafkaErrorCode, _ message: String) -> CreateTopicsResponse.CreatableTopicResult {
                result.errorCode = code.rawValue
                result.errorMessage = message
                return result
            }
            guard seen[creatable.name] == 1 else { return fail(.invalidRequest, "topic \(creatable.name) appears more than once") }
            var partitions = creatable.numPartitions == -1 ? configuration.defaultPartitions : creatable.numPartitions
            if !creatable.assignments.isEmpty {
                guard creatable.numPartitions == -1, creatable.replicationFactor == -1 else {
                    return fail(.invalidRequest, "give either assignments or partitions and replication factor")
                }
                guard creatable.assignments.allSatisfy({ $0.brokerIDs == [brokerID] }),
                      Set(creatable.assignments.map(\.partitionIndex)) == Set(0..<Int32(creatable.assignments.count)) else {
                    return fail(.invalidReplicaAssignment, "assignments must place every partition on broker \(brokerID) alone")
                }
                partitions = Int32(creatable.assignments.count)
            } else if creatable.replicationFactor != -1 && creatable.replicationFactor != 1 {
                return fail(.invalidReplicationFactor,
                            "replication factor \(creatable.replicationFactor) is larger than the 1 available broker")
            }
            var overrides: [String: String] = [:]
            for config in creatable.configs {
                guard let value = config.value else { continue }
                overrides[config.name] = value
            }
            do throws(TopicError) {
                let created = try topics.create(name: creatable.name, partitions: partitions, configs: overrides,
                                                validateOnly: request.validateOnly)
                result.numPartitions = partitions
                result.replicationFactor = 1
                if let created { result.topicID = created.id }
                let effective = TopicConfig.resolve(overrides, defaults: topics.defaults)
                result.configs = TopicConfig.describe(effective, overrides: overrides).map { entry in
                    .init(name: entry.name, value: entry.value, readOnly: false,
                          configSource: entry.isDefault ? 5 : 1, isSensitive: false)
                }
                return result
            } catch {
                return fail(error.code, error.message)
            }
        })
    }
}
