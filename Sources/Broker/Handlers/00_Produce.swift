import KafkaProtocol
import NIOCore

// Produce (key 0). Batches are validated (length, magic 2, CRC-32C, max.message.bytes)
// and stored exactly as produced, with broker-assigned offsets; records are never
// decoded. acks=0 gets no response at all; acks=1 and acks=-1 (all: one replica here)
// are answered after the append, and — for topics with flush.messages=1 — after the
// partition's log is fsync'd.
extension Cluster {
    func handleProduce(_ request: ProduceRequest, context: RequestContext) -> HandlerResult {
        let now = Cluster.nowMilliseconds()
        let validAcks = [-1, 0, 1].contains(request.acks)
        var mustFlush: [Partition] = []
        var response = ProduceResponse(throttleTimeMs: 0)
        response.responses = request.topicData.map { topicData in
            let topic = topics[topicData.name]
            return .init(name: topicData.name, partitionResponses: topicData.partitionData.map { data in
                var result = ProduceResponse.PartitionProduceResponse(index: data.index, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1)
                guard validAcks else {
                    result.errorCode = KafkaErrorCode.invalidRequiredAcks.rawValue
                    return result
                }
                guard let partition = topic?.partition(data.index) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    return result
                }
                guard let records = data.records else {
                    result.errorCode = KafkaErrorCode.invalidRecord.rawValue
                    result.errorMessage = "no records"
                    return result
                }
                do throws(AppendError) {
                    let appended = try partition.append(records, now: now)
                    result.baseOffset = appended.baseOffset
                    result.logAppendTimeMs = appended.logAppendTime
                    result.logStartOffset = appended.logStartOffset
                    metrics.recordsIn.increment(by: Int(appended.lastOffset - appended.baseOffset + 1))
                    if topic?.logConfig.durability == .everyBatch { mustFlush.append(partition) }
                } catch {
                    let (code, message) = Self.errorCode(for: error)
                    result.errorCode = code.rawValue
                    result.errorMessage = message
                    result.logStartOffset = partition.offsets.logStartOffset
                }
                return result
            })
        }
        if request.acks == 0 { return .noResponse }
        guard !mustFlush.isEmpty else { return .respond(.produce(response)) }
        let logger = self.logger
        let pending = response
        let partitionsToFlush = mustFlush
        let flushed = threadPool.runIfActive(eventLoop: context.eventLoop) { () -> ProduceResponse in
            var response = pending
            for partition in partitionsToFlush {
                do {
                    _ = try partition.flush()
                } catch {
                    logger.error("fsync failed", metadata: ["topic": "\(partition.topic)", "error": "\(error)"])
                    response.markFailed(topic: partition.topic, partition: partition.index, code: .kafkaStorageError)
                }
            }
            return response
        }
        return .later(flushed.map { .produce($0) })
    }

    static func errorCode(for error: AppendError) -> (KafkaErrorCode, String) {
        switch error {
        case .corruptMessage(let reason): return (.corruptMessage, reason)
        case .messageTooLarge(let size, let limit): return (.messageTooLarge, "batch of \(size) bytes exceeds max.message.bytes \(limit)")
        case .invalidRecord(let reason): return (.invalidRecord, reason)
        case .storage(let reason): return (.kafkaStorageError, reason)
        case .outOfOrderSequence(let reason): return (.outOfOrderSequenceNumber, reason)
        case .invalidProducerEpoch(let reason): return (.invalidProducerEpoch, reason)
        case .unknownProducerID(let reason): return (.unknownProducerID, reason)
        }
    }
}

extension ProduceResponse {
    mutating func markFailed(topic: String, partition: Int32, code: KafkaErrorCode) {
        for t in responses.indices where responses[t].name == topic {
            for p in responses[t].partitionResponses.indices where responses[t].partitionResponses[p].index == partition {
                responses[t].partitionResponses[p].errorCode = code.rawValue
                responses[t].partitionResponses[p].baseOffset = -1
            }
        }
    }
}
