import KafkaProtocol

// SaslHandshake (key 17), versions 0–1: agrees on PLAIN, the one mechanism offered when
// the broker has SASL users. With v1 the credentials follow in SaslAuthenticate; with
// v0 they follow as one raw, unframed-by-Kafka token (see KafkaConnectionHandler).
extension Cluster {
    static let saslMechanisms = ["PLAIN"]

    func handleSaslHandshake(_ request: SaslHandshakeRequest, context: RequestContext) -> SaslHandshakeResponse {
        guard configuration.saslPlainUsers != nil else {
            return SaslHandshakeResponse(errorCode: KafkaErrorCode.unsupportedSASLMechanism.rawValue, mechanisms: [])
        }
        guard !context.connection.authenticated else {
            return SaslHandshakeResponse(errorCode: KafkaErrorCode.illegalSASLState.rawValue, mechanisms: Self.saslMechanisms)
        }
        guard Self.saslMechanisms.contains(request.mechanism) else {
            return SaslHandshakeResponse(errorCode: KafkaErrorCode.unsupportedSASLMechanism.rawValue, mechanisms: Self.saslMechanisms)
        }
        context.connection.saslMechanism = request.mechanism
        context.connection.expectsRawSaslToken = context.apiVersion == 0
        return SaslHandshakeResponse(errorCode: 0, mechanisms: Self.saslMechanisms)
    }

    /// Checks a PLAIN token (RFC 4616: `authzid NUL authcid NUL password`); the user
    /// name on success.
    func verifyPlainToken(_ bytes: [UInt8]) -> String? {
        guard let users = configuration.saslPlainUsers else { return nil }
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let user = String(decoding: parts[1], as: UTF8.self)
        let password = String(decoding: parts[2], as: UTF8.self)
        guard let expected = users[user], Self.constantTimeEqual(Array(expected.utf8), Array(password.utf8)) else { return nil }
        let authorizationID = String(decoding: parts[0], as: UTF8.self)
        guard authorizationID.isEmpty || authorizationID == user else { return nil }
        return user
    }

    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
