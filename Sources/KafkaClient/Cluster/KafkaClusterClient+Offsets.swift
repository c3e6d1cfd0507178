import KafkaProtocol

extension KafkaClusterClient {
    /// ListOffsets timestamp for the log start offset.
    public static let earliestTimestamp: Int64 = -2
    /// ListOffsets timestamp for the high watermark.
    public static let latestTimestamp: Int64 = -1

    /// Looks up, per partition, the first offset at or after a timestamp (or -2 earliest,
    /// -1 latest), asking each partition's leader. A timestamp past every record answers
    /// -1, which this turns into the latest offset. Retries after metadata refreshes.
    public func listOffsets(_ query: [TopicPartition: Int64], attempts: Int = 10) async throws -> [TopicPartition: Int64] {
        var remaining = query
        var result: [TopicPartition: Int64] = [:]
        var lastError: (any Error)?
        for attempt in 0..<attempts where !remaining.isEmpty {
            if attempt > 0 {
                markStale()
                try await Task.sleep(nanoseconds: UInt64(configuration.retryBackoff.nanoseconds))
            }
            let cache = try await metadata(for: Array(Set(remaining.keys.map(\.topic))))
            let routed = cache.route(remaining.keys)
            if !routed.unroutable.isEmpty { lastError = KafkaClientError.leaderNotAvailable(topic: routed.unroutable[0].topic, partition: routed.unroutable[0].partition) }
            for (node, partitions) in routed.byLeader {
                var topics: [String: [ListOffsetsRequest.ListOffsetsPartition]] = [:]
                for partition in partitions {
                    topics[partition.topic, default: []].append(.init(partitionIndex: partition.partition, timestamp: remaining[partition]!))
                }
                let request = ListOffsetsRequest(replicaID: -1, topics: topics.map { .init(name: $0.key, partitions: $0.value) })
                let response: ListOffsetsResponse
                do {
                    response = try await send(request, to: node)
                } catch let error as KafkaClientError where error.isRetriable {
                    lastError = error
                    continue
                }
                var needLatest: [TopicPartition: Int64] = [:]
                for topic in response.topics {
                    for answer in topic.partitions {
                        let partition = TopicPartition(topic.name, answer.partitionIndex)
                        let code = KafkaErrorCode(answer.errorCode)
                        guard code == .none else {
                            let error = KafkaClientError.broker(code, context: "ListOffsets \(partition)")
                            guard code.isRetriable else { throw error }
                            lastError = error
                            continue
                        }
                        let offset = answer.offset >= 0 ? answer.offset : (answer.oldStyleOffsets.first ?? -1)
                        if offset < 0 {
                            needLatest[partition] = Self.latestTimestamp
                        } else {
                            result[partition] = offset
                        }
                        remaining[partition] = nil
                    }
                }
                if !needLatest.isEmpty {
                    let latest = try await listOffsets(needLatest, attempts: attempts)
                    result.merge(latest) { $1 }
                }
            }
        }
        guard remaining.isEmpty else {
            throw lastError ?? KafkaClientError.leaderNotAvailable(topic: remaining.first!.key.topic, partition: remaining.first!.key.partition)
        }
        return result
    }
}
