import KafkaProtocol

// OffsetFetch (key 9): committed positions of a group — for the listed partitions, or
// (topics null, v2+) every partition the group committed. v8 asks for several groups
// at once. An uncommitted partition answers offset -1, as Kafka does.
extension Cluster {
    func handleOffsetFetch(_ request: OffsetFetchRequest, context: RequestContext) -> HandlerResult {
        if context.apiVersion >= 8 {
            return .respond(.offsetFetch(OffsetFetchResponse(groups: request.groups.map { group in
                let topics = committedOffsets(group: group.groupID,
                                              topics: group.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
                return OffsetFetchResponse.OffsetFetchResponseGroup(groupID: group.groupID, topics: topics.map { topic in
                    OffsetFetchResponse.OffsetFetchResponseTopics(name: topic.name, partitions: topic.partitions.map {
                        OffsetFetchResponse.OffsetFetchResponsePartitions(
                            partitionIndex: $0.partition, committedOffset: $0.offset, committedLeaderEpoch: $0.leaderEpoch,
                            metadata: $0.metadata, errorCode: 0)
                    })
                })
            })))
        }
        let topics = committedOffsets(group: request.groupID, topics: request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
        return .respond(.offsetFetch(OffsetFetchResponse(topics: topics.map { topic in
            OffsetFetchResponse.OffsetFetchResponseTopic(name: topic.name, partitions: topic.partitions.map {
                OffsetFetchResponse.OffsetFetchResponsePartition(
                    partitionIndex: $0.partition, committedOffset: $0.offset, committedLeaderEpoch: $0.leaderEpoch,
                    metadata: $0.metadata, errorCode: 0)
            })
        })))
    }

    private struct FetchedTopic {
        var name: String
        var partitions: [(partition: Int32, offset: Int64, leaderEpoch: Int32, metadata: String)]
    }

    private func committedOffsets(group: String, topics requested: [(String, [Int32])]?) -> [FetchedTopic] {
        guard let requested else {
            var byTopic: [String: FetchedTopic] = [:]
            for (key, value) in groups.offsets.all(group: group) {
                byTopic[key.topic, default: FetchedTopic(name: key.topic, partitions: [])].partitions
                    .append((key.partition, value.offset, value.leaderEpoch, value.metadata ?? ""))
            }
            return byTopic.values.sorted { $0.name < $1.name }.map { topic in
                var topic = topic
                topic.partitions.sort { $0.partition < $1.partition }
                return topic
            }
        }
        return requested.map { name, partitions in
            FetchedTopic(name: name, partitions: partitions.map { partition in
                if let stored = groups.offsets.committed(group: group, topic: name, partition: partition) {
                    return (partition, stored.offset, stored.leaderEpoch, stored.metadata ?? "")
                }
                return (partition, -1, -1, "")
            })
        }
    }
}
