import KafkaProtocol

// DescribeCluster (key 60): the Java AdminClient's describeCluster.
extension Cluster {
    func handleDescribeCluster(_ request: DescribeClusterRequest, context: RequestContext) -> DescribeClusterResponse {
        if request.endpointType != 1 {
            return DescribeClusterResponse(
                errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
                errorMessage: "only broker endpoints (type 1) are described", endpointType: request.endpointType, clusterID: clusterID
            )
        }
        let endpoint = advertisedEndpoint
        return DescribeClusterResponse(
            errorCode: 0,
            endpointType: 1,
            clusterID: clusterID,
            controllerID: brokerID,
            brokers: [.init(brokerID: brokerID, host: endpoint.host, port: endpoint.port, rack: nil)],
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? Self.allClusterOperations : Int32.min
        )
    }
}
