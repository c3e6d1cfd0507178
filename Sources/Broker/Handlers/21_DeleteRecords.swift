import KafkaProtocol

// DeleteRecords (key 21): advances a partition's log start offset (-1 means the high
// watermark) and removes the segments wholly before it.
extension Cluster {
    func handleDeleteRecords(_ request: DeleteRecordsRequest, context: RequestContext) -> DeleteRecordsResponse {
        DeleteRecordsResponse(throttleTimeMs: 0, topics: request.topics.map { topicRequest in
            let topic = topics[topicRequest.name]
            return .init(name: topicRequest.name, partitions: topicRequest.partitions.map { partitionRequest in
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult(partitionIndex: partitionRequest.partitionIndex,
                                                                                lowWatermark: -1, errorCode: 0)
                guard let partition = topic?.partition(partitionRequest.partitionIndex) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    return result
                }
                let target = partitionRequest.offset == -1 ? partition.offsets.highWatermark : partitionRequest.offset
                do throws(ReadError) {
                    result.lowWatermark = try partition.deleteRecords(before: target)
                } catch {
                    switch error {
                    case .offsetOutOfRange: result.errorCode = KafkaErrorCode.offsetOutOfRange.rawValue
                    case .storage: result.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                    }
                }
                return result
            })
        })
    }
}
