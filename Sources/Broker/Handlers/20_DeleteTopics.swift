import KafkaProtocol

// DeleteTopics (key 20), versions 1–6 (v6 may name topics by id). The topic's metadata
// goes first, then its partition directories; fetches waiting on it are woken.
extension Cluster {
    func handleDeleteTopics(_ request: DeleteTopicsRequest, context: RequestContext) -> DeleteTopicsResponse {
        let targets: [(name: String?, id: KafkaUUID)] = context.apiVersion >= 6
            ? request.topics.map { ($0.name, $0.topicID) }
            : request.topicNames.map { ($0, KafkaUUID.zero) }
        return DeleteTopicsResponse(throttleTimeMs: 0, responses: targets.map { target in
            let name = target.name ?? topics.topic(id: target.id)?.name
            var result = DeleteTopicsResponse.DeletableTopicResult(name: name, topicID: target.id, errorCode: 0)
            guard let name else {
                result.errorCode = KafkaErrorCode.unknownTopicID.rawValue
                return result
            }
            do throws(TopicError) {
                let deleted = try topics.delete(name: name)
                result.topicID = deleted.id
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            return result
        })
    }
}
