import KafkaProtocol

// InitProducerId (key 22) for idempotent producers: a fresh producer id with epoch 0,
// or — when a producer that already has an id asks again (v3+, KIP-360) — the same id
// with its epoch bumped. Transactions are not supported: a transactional id is refused.
extension Cluster {
    func handleInitProducerId(_ request: InitProducerIdRequest, context: RequestContext) -> InitProducerIdResponse {
        if request.transactionalID != nil {
            return InitProducerIdResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.transactionalIDAuthorizationFailed.rawValue,
                                          producerID: -1, producerEpoch: -1)
        }
        if request.producerID >= 0 && request.producerEpoch >= 0 {
            if request.producerEpoch == Int16.max {
                // Epoch exhausted: a new id.
                if let id = try? producerIDs.next() {
                    return InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerID: id, producerEpoch: 0)
                }
            } else {
                return InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerID: request.producerID,
                                              producerEpoch: request.producerEpoch + 1)
            }
        }
        do {
            return InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerID: try producerIDs.next(), producerEpoch: 0)
        } catch {
            logger.error("could not reserve producer ids", metadata: ["error": "\(error)"])
            return InitProducerIdResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.kafkaStorageError.rawValue,
                                          producerID: -1, producerEpoch: -1)
        }
    }
}
