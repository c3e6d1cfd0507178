import KafkaProtocol

// Heartbeat (key 12): keeps a member's session alive and tells it when to rejoin
// (REBALANCE_IN_PROGRESS), or that it is no longer a member.
extension Cluster {
    func handleHeartbeat(_ request: HeartbeatRequest, context: RequestContext) -> HandlerResult {
        let error = groups.heartbeat(groupID: request.groupID, memberID: request.memberID,
                                     groupInstanceID: request.groupInstanceID, generation: request.generationID)
        return .respond(.heartbeat(HeartbeatResponse(errorCode: error.rawValue)))
    }
}
