import KafkaProtocol

// ListOffsets (key 2), versions 1–7: -2 earliest (log start), -1 latest (high
// watermark), -3 the record with the largest timestamp (v7, KIP-734), otherwise the
// first record whose timestamp is at least the one asked for, found through the time
// index and then record by record within that batch.
extension Cluster {
    func handleListOffsets(_ request: ListOffsetsRequest, context: RequestContext) -> ListOffsetsResponse {
        return ListOffsetsResponse(throttleTimeMs: 0, topics: request.topics.map { topicRequest in
            let topic = topics[topicRequest.name]
            return .init(name: topicRequest.name, partitions: topicRequest.partitions.map { partitionRequest in
                var result = ListOffsetsResponse.ListOffsetsPartitionResponse(
                    partitionIndex: partitionRequest.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1
                )
                guard let partition = topic?.partition(partitionRequest.partitionIndex) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    return result
                }
                if partitionRequest.currentLeaderEpoch > 0 {
                    result.errorCode = KafkaErrorCode.unknownLeaderEpoch.rawValue
                    return result
                }
                let offsets = partition.offsets
                do {
                    switch partitionRequest.timestamp {
                    case -2:
                        result.offset = offsets.logStartOffset
                    case -1:
                        result.offset = offsets.highWatermark
                    case -3:
                        if let found = try partition.offsetOfMaxTimestamp() {
                            result.offset = found.offset
                            result.timestamp = found.timestamp
                        }
                    case let timestamp where timestamp >= 0:
                        if let found = try partition.offset(forTimestamp: timestamp) {
                            result.offset = found.offset
                            result.timestamp = found.timestamp
                        }
                    default:
                        result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                        return result
                    }
                } catch {
                    result.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                    return result
                }
                result.leaderEpoch = 0
                return result
            })
        })
    }
}
