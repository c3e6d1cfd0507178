import KafkaProtocol
import NIOCore

extension Cluster {
    /// Routes one request to its handler (Handlers/NN_Name.swift). Checks, in Kafka's
    /// order: a known API key, a version we speak (ApiVersions answers even an unknown
    /// version, in v0), authentication, a body that decodes.
    func route(_ frame: KafkaRequestFrame, context: RequestContext) -> HandlerResult {
        guard let apiKey = frame.apiKey else {
            return .close(reason: "unknown API key \(frame.header.requestApiKey)")
        }
        guard let versions = SupportedAPIVersions.tickstream[apiKey], versions.contains(frame.apiVersion) else {
            if apiKey == .apiVersions {
                return .respondInVersion(.apiVersions(apiVersionsResponse(errorCode: .unsupportedVersion)), version: 0)
            }
            return .close(reason: "unsupported version \(frame.apiVersion) of \(apiKey)")
        }
        if !context.connection.authenticated && ![.apiVersions, .saslHandshake, .saslAuthenticate].contains(apiKey) {
            return .close(reason: "\(apiKey) before SASL authentication")
        }
        let body: KafkaRequestBody
        do {
            body = try frame.decodeBody()
        } catch {
            return .close(reason: "malformed \(apiKey) v\(frame.apiVersion) request: \(error)")
        }
        switch body {
        case .produce(let request): return handleProduce(request, context: context)
        case .fetch(let request): return handleFetch(request, context: context)
        case .listOffsets(let request): return .respond(.listOffsets(handleListOffsets(request, context: context)))
        case .metadata(let request): return .respond(.metadata(handleMetadata(request, context: context)))
        case .offsetCommit(let request): return handleOffsetCommit(request, context: context)
        case .offsetFetch(let request): return handleOffsetFetch(request, context: context)
        case .findCoordinator(let request): return .respond(.findCoordinator(handleFindCoordinator(request, context: context)))
        case .joinGroup(let request): return handleJoinGroup(request, context: context)
        case .heartbeat(let request): return handleHeartbeat(request, context: context)
        case .leaveGroup(let request): return handleLeaveGroup(request, context: context)
        case .syncGroup(let request): return handleSyncGroup(request, context: context)
        case .describeGroups(let request): return handleDescribeGroups(request, context: context)
        case .listGroups(let request): return handleListGroups(request, context: context)
        case .saslHandshake(let request): return .respond(.saslHandshake(handleSaslHandshake(request, context: context)))
        case .apiVersions(let request): return .respond(.apiVersions(handleApiVersions(request, context: context)))
        case .createTopics(let request): return .respond(.createTopics(handleCreateTopics(request, context: context)))
        case .deleteTopics(let request): return .respond(.deleteTopics(handleDeleteTopics(request, context: context)))
        case .deleteRecords(let request): return .respond(.deleteRecords(handleDeleteRecords(request, context: context)))
        case .initProducerId(let request): return .respond(.initProducerId(handleInitProducerId(request, context: context)))
        case .offsetForLeaderEpoch(let request):
            return .respond(.offsetForLeaderEpoch(handleOffsetForLeaderEpoch(request, context: context)))
        case .describeConfigs(let request): return .respond(.describeConfigs(handleDescribeConfigs(request, context: context)))
        case .saslAuthenticate(let request): return handleSaslAuthenticate(request, context: context)
        case .createPartitions(let request): return .respond(.createPartitions(handleCreatePartitions(request, context: context)))
        case .describeCluster(let request): return .respond(.describeCluster(handleDescribeCluster(request, context: context)))
        }
    }
}
