import KafkaProtocol

// OffsetForLeaderEpoch (key 23), versions 2–4. Every partition has had one leader epoch,
// 0, since it was created, so the end offset of epoch 0 is the log end. librdkafka uses
// this to validate a consumer's position once Metadata carries leader epochs (KIP-320).
extension Cluster {
    func handleOffsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest, context: RequestContext) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(throttleTimeMs: 0, topics: request.topics.map { topicRequest in
            let topic = topics[topicRequest.topic]
            return .init(topic: topicRequest.topic, partitions: topicRequest.partitions.map { partitionRequest in
                var result = OffsetForLeaderEpochResponse.EpochEndOffset(errorCode: 0, partition: partitionRequest.partition,
                                                                         leaderEpoch: -1, endOffset: -1)
                guard let partition = topic?.partition(partitionRequest.partition) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    return result
                }
                if partitionRequest.currentLeaderEpoch > 0 {
                    result.errorCode = KafkaErrorCode.unknownLeaderEpoch.rawValue
                    return result
                }
                if partitionRequest.leaderEpoch >= 0 {
                    result.leaderEpoch = 0
                    result.endOffset = partition.offsets.highWatermark
                }
                return result
            })
        })
    }
}
