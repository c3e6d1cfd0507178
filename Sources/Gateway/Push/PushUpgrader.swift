import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The server side of the WebSocket handshake (RFC 6455 §4.2) for `/ws`.
///
/// NIO's own upgrader always installs its frame encoder, which would re-frame (and,
/// to prepend a header into a shared buffer, copy) every outgoing message; gateway
/// frames are encoded once with their header, so this upgrader installs only the
/// frame decoder, a fragment aggregator for client requests, and `PushConnection`.
///
/// One per connection: `buildUpgradeResponse` checks the request (path, headers,
/// credentials) and keeps the outcome in `outcome`: what the request asked for, which
/// `upgrade` — called on the same channel right after — hands to the connection, or
/// why it was refused, which the connection's HTTP side then answers (NIO hands a
/// refused upgrade request to no router).
struct PushUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = GatewayChannel.Negotiated

    let supportedProtocol = "websocket"
    /// Headers that must be named in `Connection` (none: the key and version are checked below).
    let requiredUpgradeHeaders: [String] = []

    /// Turns the request into what the connection serves, or throws to refuse the
    /// upgrade (the request then goes on to the HTTP router, which answers it).
    let accept: @Sendable (HTTPRequestHead) async throws -> PushConnection.Request
    let shards: ShardSet
    /// Largest client message accepted (after reassembling fragments).
    let maxRequestBytes: Int
    let outcome: NIOLoopBoundBox<Outcome>

    /// Where an upgrade request got to.
    enum Outcome: Sendable {
        case none
        case accepted(PushConnection.Request)
        case refused(any Error)
    }

    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
    static func acceptValue(forKey key: String) -> String {
        Data(SHA1.hash(Array((key + guid).utf8))).base64EncodedString()
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders)
        -> EventLoopFuture<HTTPHeaders>
    {
        guard upgradeRequest.headers.first(name: "sec-websocket-version") == "13",
              let key = upgradeRequest.headers.first(name: "sec-websocket-key"), !key.isEmpty
        else {
            outcome.value = .refused(NIOWebSocketUpgradeError.invalidUpgradeHeader)
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.invalidUpgradeHeader)
        }
        let accept = self.accept
        let outcome = self.outcome
        let promise = channel.eventLoop.makePromise(of: PushConnection.Request.self)
        promise.completeWithTask { try await accept(upgradeRequest) }
        return promise.futureResult.flatMapErrorThrowing { error in
            outcome.value = .refused(error)
            throw error
        }.map { request in
            outcome.value = .accepted(request)
            var headers = initialResponseHeaders
            headers.replaceOrAdd(name: "Upgrade", value: "websocket")
            headers.replaceOrAdd(name: "Connection", value: "upgrade")
            headers.add(name: "Sec-WebSocket-Accept", value: Self.acceptValue(forKey: key))
            return headers
        }
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<GatewayChannel.Negotiated> {
        channel.eventLoop.makeCompletedFuture {
            guard case .accepted(let request) = outcome.value, let shard = shards.shard(for: channel.eventLoop) else {
                throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget
            }
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxRequestBytes)))
            try pipeline.addHandler(NIOWebSocketFrameAggregator(
                minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64, maxAccumulatedFrameSize: maxRequestBytes))
            try pipeline.addHandler(PushConnection(shard: shard, request: request))
            return .push
        }
    }
}
