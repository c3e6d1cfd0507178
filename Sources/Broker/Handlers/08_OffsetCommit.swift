import KafkaProtocol

// OffsetCommit (key 8): stores committed positions (with their metadata string) in the
// durable OffsetStore, after the group checks that the committer is a member of the
// current generation (a fenced member cannot commit). A commit with generation -1 and
// no member id is a standalone consumer using the broker only for offsets.
extension Cluster {
    func handleOffsetCommit(_ request: OffsetCommitRequest, context: RequestContext) -> HandlerResult {
        let groupError: KafkaErrorCode = request.groupID.isEmpty ? .invalidGroupID : groups.validateCommit(
            groupID: request.groupID, memberID: request.memberID, groupInstanceID: request.groupInstanceID,
            generation: request.generationIDOrMemberEpoch)
        let now = Cluster.nowMilliseconds()
        var errors: [[KafkaErrorCode]] = request.topics.map { topic in
            let known = topics[topic.name]
            return topic.partitions.map { partition in
                if groupError != .none { return groupError }
                return known?.partition(partition.partitionIndex) == nil ? .unknownTopicOrPartition : .none
            }
        }
        var entries: [(GroupTopicPartition, CommittedOffset)] = []
        var positions: [(Int, Int)] = []
        for (t, topic) in request.topics.enumerated() {
            for (p, partition) in topic.partitions.enumerated() where errors[t][p] == .none {
                entries.append((GroupTopicPartition(topic: topic.name, partition: partition.partitionIndex),
                                CommittedOffset(offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                                                metadata: partition.committedMetadata, commitTimestampMs: now)))
                positions.append((t, p))
            }
        }
        if !entries.isEmpty {
            do {
                let stored = try groups.offsets.commit(group: request.groupID, entries)
                for ((t, p), error) in zip(positions, stored) { errors[t][p] = error }
            } catch {
                logger.error("could not store committed offsets", metadata: ["group": "\(request.groupID)", "error": "\(error)"])
                for (t, p) in positions { errors[t][p] = .unknownServerError }
            }
        }
        return .respond(.offsetCommit(OffsetCommitResponse(topics: zip(request.topics, errors).map { topic, errors in
            OffsetCommitResponse.OffsetCommitResponseTopic(name: topic.name, partitions: zip(topic.partitions, errors).map {
                OffsetCommitResponse.OffsetCommitResponsePartition(partitionIndex: $0.partitionIndex, errorCode: $1.rawValue)
            })
        })))
    }
}
