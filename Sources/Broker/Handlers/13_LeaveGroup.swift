import KafkaProtocol

// LeaveGroup (key 13): one member (v0–2) or a batch of members, possibly by static
// instance id alone (v3+, KIP-345). The group rebalances without waiting for a timeout.
extension Cluster {
    func handleLeaveGroup(_ request: LeaveGroupRequest, context: RequestContext) -> HandlerResult {
        if context.apiVersion < 3 {
            let errors = groups.leave(groupID: request.groupID, members: [(request.memberID, nil)])
            return .respond(.leaveGroup(LeaveGroupResponse(errorCode: errors.first?.rawValue ?? 0)))
        }
        let leaving = request.members.map { (memberID: $0.memberID, groupInstanceID: $0.groupInstanceID) }
        let errors = groups.leave(groupID: request.groupID, members: leaving)
        return .respond(.leaveGroup(LeaveGroupResponse(members: zip(request.members, errors).map { member, error in
            LeaveGroupResponse.MemberResponse(memberID: member.memberID, groupInstanceID: member.groupInstanceID, errorCode: error.rawValue)
        })))
    }
}
