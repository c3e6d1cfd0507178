import KafkaProtocol
import NIOCore

// SaslAuthenticate (key 36), versions 0–2: the PLAIN credentials after a v1 handshake.
// A failure is answered with SASL_AUTHENTICATION_FAILED and the connection is closed,
// as Kafka does.
extension Cluster {
    func handleSaslAuthenticate(_ request: SaslAuthenticateRequest, context: RequestContext) -> HandlerResult {
        let connection = context.connection
        guard connection.saslMechanism == "PLAIN", !connection.authenticated else {
            return .respondThenClose(.saslAuthenticate(SaslAuthenticateResponse(
                errorCode: KafkaErrorCode.illegalSASLState.rawValue,
                errorMessage: "SaslAuthenticate must follow a SaslHandshake that chose PLAIN", authBytes: ByteBuffer())))
        }
        guard let user = verifyPlainToken(Array(request.authBytes.readableBytesView)) else {
            logger.warning("SASL authentication failed", metadata: ["peer": "\(connection.remoteAddress)"])
            return .respondThenClose(.saslAuthenticate(SaslAuthenticateResponse(
                errorCode: KafkaErrorCode.saslAuthenticationFailed.rawValue,
                errorMessage: "Authentication failed: invalid username or password", authBytes: ByteBuffer())))
        }
        connection.authenticated = true
        connection.principal = user
        return .respond(.saslAuthenticate(SaslAuthenticateResponse(errorCode: 0, authBytes: ByteBuffer(), sessionLifetimeMs: 0)))
    }
}
