import KafkaProtocol

// DescribeConfigs (key 32), versions 1–4, for topics (resource type 2) and the broker
// (type 4). Config sources follow Kafka's codes: 1 DYNAMIC_TOPIC_CONFIG for a topic's
// overrides, 4 STATIC_BROKER_CONFIG for what the broker was started with, 5 DEFAULT_CONFIG.
extension Cluster {
    private enum ConfigSource: Int8 {
        case dynamicTopic = 1
        case staticBroker = 4
        case defaultConfig = 5
    }

    private struct ConfigEntry {
        var name: String
        var value: String
        var source: ConfigSource
        var type: TopicConfig.ValueType
        var documentation: String
    }

    func handleDescribeConfigs(_ request: DescribeConfigsRequest, context: RequestContext) -> DescribeConfigsResponse {
        DescribeConfigsResponse(throttleTimeMs: 0, results: request.resources.map { resource in
            var result = DescribeConfigsResponse.DescribeConfigsResult(errorCode: 0, resourceType: resource.resourceType,
                                                                       resourceName: resource.resourceName)
            let entries: [ConfigEntry]
            switch resource.resourceType {
            case 2:
                guard let topic = topics[resource.resourceName] else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "unknown topic \(resource.resourceName)"
                    return result
                }
                entries = TopicConfig.describe(topic.logConfig, overrides: topic.configOverrides).map { entry in
                    let definition = TopicConfig.byName[entry.name]
                    return ConfigEntry(name: entry.name, value: entry.value, source: entry.isDefault ? .defaultConfig : .dynamicTopic,
                                       type: definition?.type ?? .string, documentation: definition?.documentation ?? "")
                }
            case 4:
                guard resource.resourceName.isEmpty || resource.resourceName == String(brokerID) else {
                    result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                    result.errorMessage = "unknown broker \(resource.resourceName); this is broker \(brokerID)"
                    return result
                }
                entries = brokerConfigEntries()
            default:
                result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                result.errorMessage = "only topic (2) and broker (4) resources are described"
                return result
            }
            let keys = resource.configurationKeys.map(Set.init)
            result.configs = entries.filter { keys?.contains($0.name) ?? true }.map { entry in
                .init(
                    name: entry.name, value: entry.value, readOnly: resource.resourceType == 4,
                    isDefault: entry.source == .defaultConfig, configSource: entry.source.rawValue, isSensitive: false,
                    synonyms: request.includeSynonyms
                        ? [.init(name: entry.name, value: entry.value, source: entry.source.rawValue)] : [],
                    configType: entry.type.rawValue,
                    documentation: request.includeDocumentation ? entry.documentation : nil
                )
            }
            return result
        })
    }

    private func brokerConfigEntries() -> [ConfigEntry] {
        let defaults = configuration.logDefaults
        let endpoint = advertisedEndpoint
        func topicDefault(_ brokerName: String, _ topicName: String) -> ConfigEntry {
            let definition = TopicConfig.byName[topicName]
            return ConfigEntry(name: brokerName, value: TopicConfig.defaultValue(of: topicName, in: defaults), source: .staticBroker,
                               type: definition?.type ?? .string, documentation: definition?.documentation ?? "")
        }
        return [
            ConfigEntry(name: "broker.id", value: String(brokerID), source: .staticBroker, type: .int, documentation: "This broker's id."),
            ConfigEntry(name: "advertised.listeners", value: "PLAINTEXT://\(endpoint.host):\(endpoint.port)", source: .staticBroker,
                        type: .list, documentation: "Where clients connect."),
            ConfigEntry(name: "log.dirs", value: configuration.dataDirectory, source: .staticBroker, type: .list,
                        documentation: "The data directory."),
            ConfigEntry(name: "num.partitions", value: String(configuration.defaultPartitions), source: .staticBroker, type: .int,
                        documentation: "Partitions of auto-created topics."),
            ConfigEntry(name: "auto.create.topics.enable", value: String(configuration.autoCreateTopics), source: .staticBroker,
                        type: .boolean, documentation: "Whether Metadata creates unknown topics."),
            ConfigEntry(name: "default.replication.factor", value: "1", source: .defaultConfig, type: .int,
                        documentation: "A single broker keeps one replica."),
            ConfigEntry(name: "socket.request.max.bytes", value: String(configuration.maximumRequestSize), source: .staticBroker,
                        type: .int, documentation: "The largest request accepted."),
            ConfigEntry(name: "group.initial.rebalance.delay.ms", value: String(configuration.groupInitialRebalanceDelayMs),
                        source: .staticBroker, type: .int, documentation: "How long a new group waits for members."),
            topicDefault("log.segment.bytes", "segment.bytes"),
            topicDefault("log.roll.ms", "segment.ms"),
            topicDefault("log.retention.ms", "retention.ms"),
            topicDefault("log.retention.bytes", "retention.bytes"),
            topicDefault("log.cleanup.policy", "cleanup.policy"),
            topicDefault("message.max.bytes", "max.message.bytes"),
            topicDefault("log.message.timestamp.type", "message.timestamp.type"),
            topicDefault("log.flush.interval.messages", "flush.messages"),
            topicDefault("log.flush.interval.ms", "flush.ms"),
            topicDefault("log.index.interval.bytes", "index.interval.bytes"),
            topicDefault("log.cleaner.delete.retention.ms", "delete.retention.ms"),
        ]
    }
}
