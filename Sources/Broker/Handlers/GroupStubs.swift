import KafkaProtocol

extension Cluster {
    func handleFindCoordinator(_ request: FindCoordinatorRequest, context: RequestContext) -> FindCoordinatorResponse {
        FindCoordinatorResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, nodeID: -1, host: "", port: -1)
    }
    func handleOffsetCommit(_ request: OffsetCommitRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
    func handleOffsetFetch(_ request: OffsetFetchRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
    func handleJoinGroup(_ request: JoinGroupRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
    func handleHeartbeat(_ request: HeartbeatRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
    func handleLeaveGroup(_ request: LeaveGroupRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
    func handleSyncGroup(_ request: SyncGroupRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
    func handleDescribeGroups(_ request: DescribeGroupsRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
    func handleListGroups(_ request: ListGroupsRequest, context: RequestContext) -> HandlerResult { .close(reason: "groups not yet available") }
}
