import KafkaProtocol

// ListGroups (key 16): every group this coordinator knows, including groups that only
// hold committed offsets (Empty). v4 (KIP-518) filters by state.
extension Cluster {
    func handleListGroups(_ request: ListGroupsRequest, context: RequestContext) -> HandlerResult {
        let wanted = Set(request.statesFilter.map { $0.lowercased() })
        let listed = groups.list().filter { wanted.isEmpty || wanted.contains($0.state.rawValue.lowercased()) }
        return .respond(.listGroups(ListGroupsResponse(errorCode: 0, groups: listed.map {
            ListGroupsResponse.ListedGroup(groupID: $0.groupID, protocolType: $0.protocolType, groupState: $0.state.rawValue)
        })))
    }
}
