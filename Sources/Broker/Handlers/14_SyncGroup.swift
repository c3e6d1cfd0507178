import KafkaProtocol
import NIOCore

// SyncGroup (key 14): the leader brings every member's assignment; each member's
// request waits until it arrives (Groups/ConsumerGroup.swift).
extension Cluster {
    func handleSyncGroup(_ request: SyncGroupRequest, context: RequestContext) -> HandlerResult {
        var assignments: [String: ByteBuffer] = [:]
        for entry in request.assignments { assignments[entry.memberID] = entry.assignment }
        let future = groups.sync(
            groupID: request.groupID, memberID: request.memberID, groupInstanceID: request.groupInstanceID,
            generation: request.generationID, protocolType: request.protocolType, protocolName: request.protocolName,
            assignments: assignments, eventLoop: context.eventLoop
        ).map { outcome in
            KafkaResponseBody.syncGroup(SyncGroupResponse(
                errorCode: outcome.error.rawValue, protocolType: outcome.protocolType,
                protocolName: outcome.protocolName, assignment: outcome.assignment))
        }
        return .later(future)
    }
}
