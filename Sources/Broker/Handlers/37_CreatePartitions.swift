import KafkaProtocol

// CreatePartitions (key 37): partitions can only be added.
extension Cluster {
    func handleCreatePartitions(_ request: CreatePartitionsRequest, context: RequestContext) -> CreatePartitionsResponse {
        CreatePartitionsResponse(throttleTimeMs: 0, results: request.topics.map { topic in
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: topic.name, errorCode: 0)
            if let assignments = topic.assignments, !assignments.allSatisfy({ $0.brokerIDs == [brokerID] }) {
                result.errorCode = KafkaErrorCode.invalidReplicaAssignment.rawValue
                result.errorMessage = "new partitions can only be placed on broker \(brokerID)"
                return result
            }
            do throws(TopicError) {
                try topics.addPartitions(name: topic.name, count: topic.count, validateOnly: request.validateOnly)
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            return result
        })
    }
}
