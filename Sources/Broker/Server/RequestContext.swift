import KafkaProtocol
import NIOCore

/// What a handler answers: now, later (long-poll fetches, group joins, fsync'd
/// produces), not at all (acks=0), or by closing the connection.
enum HandlerResult {
    case respond(KafkaResponseBody)
    /// Answer in a version other than the request's (ApiVersions' v0 fallback).
    case respondInVersion(KafkaResponseBody, version: Int16)
    case later(EventLoopFuture<KafkaResponseBody>)
    case noResponse
    /// Answer, then close the connection (failed authentication).
    case respondThenClose(KafkaResponseBody)
    case close(reason: String)
}

/// Per-connection state handlers may read or change: SASL progress and who is on the
/// other end. Confined to the connection's event loop.
final class ConnectionState: @unchecked Sendable {
    // @unchecked: only touched on the channel's event loop.
    let remoteAddress: String
    var clientID: String?
    /// True once SASL authentication succeeded, or always when SASL is off.
    var authenticated: Bool
    /// The mechanism agreed in SaslHandshake, waiting for SaslAuthenticate.
    var saslMechanism: String?
    /// After a v0 SaslHandshake the next frame is a bare SASL token, not a Kafka request.
    var expectsRawSaslToken = false
    var principal: String?
    /// How group APIs report the client's address (Kafka's form: "/127.0.0.1").
    var clientHost = "unknown"

    init(remoteAddress: String, authenticated: Bool) {
        self.remoteAddress = remoteAddress
        self.authenticated = authenticated
    }
}

/// Everything a handler knows about the request besides its body.
struct RequestContext {
    let header: RequestHeader
    let eventLoop: any EventLoop
    let connection: ConnectionState

    var apiVersion: Int16 { header.requestApiVersion }
    var clientID: String { header.clientID ?? "" }
}
