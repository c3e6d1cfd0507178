import KafkaProtocol

// FindCoordinator (key 10): this single broker coordinates every group. v0–3 ask for
// one key, v4 (KIP-699) for a batch. Transactions are not supported, so a transaction
// coordinator (key type 1) is not available.
extension Cluster {
    func handleFindCoordinator(_ request: FindCoordinatorRequest, context: RequestContext) -> FindCoordinatorResponse {
        let endpoint = advertisedEndpoint
        let error: KafkaErrorCode = request.keyType == 0 ? .none : .coordinatorNotAvailable
        let found = error == .none
        if context.apiVersion >= 4 {
            return FindCoordinatorResponse(coordinators: request.coordinatorKeys.map { key in
                FindCoordinatorResponse.Coordinator(
                    key: key, nodeID: found ? brokerID : -1, host: found ? endpoint.host : "", port: found ? endpoint.port : -1,
                    errorCode: error.rawValue, errorMessage: found ? nil : "transactions are not supported")
            })
        }
        return FindCoordinatorResponse(
            errorCode: error.rawValue, errorMessage: found ? nil : "transactions are not supported",
            nodeID: found ? brokerID : -1, host: found ? endpoint.host : "", port: found ? endpoint.port : -1)
    }
}
