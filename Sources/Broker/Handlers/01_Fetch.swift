import KafkaProtocol
import NIOCore

// Fetch (key 1), versions 4–12, answered sessionless (session id 0: every request
// names all its partitions, as KIP-227 allows a broker to decide).
//
// A fetch that finds fewer than min_bytes waits, long-polling, without holding any
// thread: a FetchWaiter is registered with each of its partitions and fires when
// appends bring enough bytes or max_wait_ms passes; then the fetch is read again and
// answered. A fetch offset inside a stored batch returns that whole batch (the client
// skips the records before its position). max_bytes and partition_max_bytes are limits,
// except that the first batch of the response is returned whole even when larger (KIP-74).
extension Cluster {
    func handleFetch(_ request: FetchRequest, context: RequestContext) -> HandlerResult {
        let first = readFetch(request, version: context.apiVersion)
        let minBytes = max(1, Int(request.minBytes))
        if request.maxWaitMs <= 0 || first.bytes >= minBytes || first.hasError {
            return .respond(.fetch(first.response))
        }
        let eventLoop = context.eventLoop
        let promise = eventLoop.makePromise(of: KafkaResponseBody.self)
        let timeout = NIOLoopBoundBox<Scheduled<Void>?>(nil, eventLoop: eventLoop)
        let version = context.apiVersion
        let waiter = FetchWaiter(eventLoop: eventLoop, minBytes: minBytes - first.bytes) {
            timeout.value?.cancel()
            promise.succeed(.fetch(self.readFetch(request, version: version).response))
        }
        var watched: [(partition: Partition, fetchOffset: Int64)] = []
        for topic in request.topics {
            guard let known = topics[topic.topic] else { continue }
            for partition in topic.partitions {
                guard let found = known.partition(partition.partition) else { continue }
                found.addWaiter(waiter)
                watched.append((found, partition.fetchOffset))
            }
        }
        timeout.value = eventLoop.scheduleTask(in: .milliseconds(Int64(request.maxWaitMs))) { waiter.expire() }
        // An append between the read above and the registrations would otherwise go
        // unnoticed until the timeout: look once more now that the waiter is in place.
        if first.bytes == 0 && watched.contains(where: { $0.fetchOffset < $0.partition.offsets.highWatermark }) {
            waiter.expire()
        }
        return .later(promise.futureResult)
    }

    struct FetchRead {
        var response: FetchResponse
        var bytes: Int
        var hasError: Bool
    }

    func readFetch(_ request: FetchRequest, version: Int16) -> FetchRead {
        var remaining = request.maxBytes > 0 ? Int(request.maxBytes) : Int(Int32.max)
        var minOneBatch = true
        var total = 0
        var hasError = false
        let readCommitted = request.isolationLevel == 1
        var response = FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionID: 0)
        response.responses = request.topics.map { topicRequest in
            let topic = topics[topicRequest.topic]
            return .init(topic: topicRequest.topic, partitions: topicRequest.partitions.map { partitionRequest in
                var result = FetchResponse.PartitionData(
                    partitionIndex: partitionRequest.partition, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
                    abortedTransactions: readCommitted ? [] : nil, preferredReadReplica: -1, records: ByteBuffer()
                )
                guard let partition = topic?.partition(partitionRequest.partition) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    hasError = true
                    return result
                }
                if partitionRequest.currentLeaderEpoch > 0 {
                    result.errorCode = KafkaErrorCode.unknownLeaderEpoch.rawValue
                    hasError = true
                    return result
                }
                let limit = min(remaining, Int(max(0, partitionRequest.partitionMaxBytes)))
                switch partition.read(from: partitionRequest.fetchOffset, maxBytes: limit, minOneBatch: minOneBatch) {
                case .success(let read):
                    result.highWatermark = read.offsets.highWatermark
                    result.lastStableOffset = read.offsets.highWatermark
                    result.logStartOffset = read.offsets.logStartOffset
                    if let records = read.records {
                        result.records = records
                        remaining -= records.readableBytes
                        total += records.readableBytes
                        minOneBatch = false
                    }
                case .failure(.offsetOutOfRange(let logStart, let logEnd)):
                    result.errorCode = KafkaErrorCode.offsetOutOfRange.rawValue
                    result.highWatermark = logEnd
                    result.lastStableOffset = logEnd
                    result.logStartOffset = logStart
                    hasError = true
                case .failure(.storage(let reason)):
                    logger.error("fetch read failed", metadata: ["topic": "\(topicRequest.topic)", "error": "\(reason)"])
                    result.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                    hasError = true
                }
                return result
            })
        }
        return FetchRead(response: response, bytes: total, hasError: hasError)
    }
}
