import KafkaProtocol

// ApiVersions (key 18). The broker lists exactly what it implements; a client asking in
// a version we do not speak gets UNSUPPORTED_VERSION and the list, in v0, so it can
// retry with one we do (KIP-511). The response header is always v0 (KafkaHeaderVersion).
extension Cluster {
    func apiVersionsResponse(errorCode: KafkaErrorCode) -> ApiVersionsResponse {
        ApiVersionsResponse(
            errorCode: errorCode.rawValue,
            apiKeys: SupportedAPIVersions.sorted.map { key, versions in
                ApiVersionsResponse.ApiVersion(apiKey: key.rawValue, minVersion: versions.lowerBound, maxVersion: versions.upperBound)
            },
            throttleTimeMs: 0
        )
    }

    func handleApiVersions(_ request: ApiVersionsRequest, context: RequestContext) -> ApiVersionsResponse {
        apiVersionsResponse(errorCode: .none)
    }
}
