import KafkaProtocol

// JoinGroup (key 11): parks the request until the group's rebalance completes (or
// answers at once: MEMBER_ID_REQUIRED from v4, errors, a stable static member). The
// logic lives in Groups/ConsumerGroup.swift; this only translates.
extension Cluster {
    func handleJoinGroup(_ request: JoinGroupRequest, context: RequestContext) -> HandlerResult {
        let version = context.apiVersion
        let input = JoinGroupInput(
            memberID: request.memberID, groupInstanceID: request.groupInstanceID, clientID: context.clientID,
            clientHost: context.connection.clientHost, sessionTimeoutMs: Int64(request.sessionTimeoutMs),
            // v0 has no rebalance timeout: Kafka uses the session timeout.
            rebalanceTimeoutMs: Int64(version == 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs),
            protocolType: request.protocolType,
            protocols: request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) },
            requireKnownMemberID: version >= 4,
            newMemberID: GroupCoordinator.newMemberID(clientID: context.clientID))
        let future = groups.join(groupID: request.groupID, input: input, eventLoop: context.eventLoop).map { outcome in
            KafkaResponseBody.joinGroup(JoinGroupResponse(
                errorCode: outcome.error.rawValue, generationID: outcome.generation,
                protocolType: outcome.protocolType, protocolName: outcome.protocolName ?? (version >= 7 ? nil : ""),
                leader: outcome.leaderID, skipAssignment: outcome.skipAssignment, memberID: outcome.memberID,
                members: outcome.members.map {
                    JoinGroupResponse.JoinGroupResponseMember(memberID: $0.memberID, groupInstanceID: $0.groupInstanceID, metadata: $0.metadata)
                }))
        }
        return .later(future)
    }
}
