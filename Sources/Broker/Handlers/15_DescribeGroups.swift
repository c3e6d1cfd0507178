import KafkaProtocol

// DescribeGroups (key 15): state, protocol and members of each group. Member
// subscriptions and assignments are shown only when the group is Stable, as Kafka does;
// an unknown group is reported Dead with no error (v0–5).
extension Cluster {
    func handleDescribeGroups(_ request: DescribeGroupsRequest, context: RequestContext) -> HandlerResult {
        .respond(.describeGroups(DescribeGroupsResponse(groups: request.groups.map { groupID in
            guard let group = groups.describe(groupID: groupID) else {
                return DescribeGroupsResponse.DescribedGroup(
                    errorCode: 0, groupID: groupID, groupState: GroupState.unknownGroupStateName, protocolType: "",
                    protocolData: "", members: [], authorizedOperations: Int32.min)
            }
            return DescribeGroupsResponse.DescribedGroup(
                errorCode: 0, groupID: groupID, groupState: group.state.rawValue, protocolType: group.protocolType,
                protocolData: group.protocolName,
                members: group.members.map {
                    DescribeGroupsResponse.DescribedGroupMember(
                        memberID: $0.memberID, groupInstanceID: $0.groupInstanceID, clientID: $0.clientID,
                        clientHost: $0.clientHost, memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                },
                authorizedOperations: Int32.min)
        })))
    }
}
