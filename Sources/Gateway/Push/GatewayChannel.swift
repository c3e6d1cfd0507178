import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// The gateway's connections as Hummingbird serves them: HTTP/1.1 for the dashboard,
/// the APIs and SSE (Hummingbird's router), and an upgrade of `/ws` to a plain NIO
/// WebSocket pipeline ending in `PushConnection`, which its event loop's `HubShard`
/// writes to directly.
struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    /// What a connection became after its first request.
    enum Negotiated: Sendable {
        /// A WebSocket, now driven by its pipeline alone.
        case push
        /// Plain HTTP for the router.
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade request that was refused; answered here, then closed.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, any Error)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let shards: ShardSet
    let auth: GatewayAuth
    let maxRequestBytes: Int

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let auth = self.auth
            let outcome = NIOLoopBoundBox(PushUpgrader.Outcome.none, eventLoop: channel.eventLoop)
            let upgrader = PushUpgrader(
                accept: { head in try await Self.accept(head, auth: auth) },
                shards: shards, maxRequestBytes: maxRequestBytes, outcome: outcome)
            let upgrade = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if case .refused(let error) = outcome.value { return .refused(http, error) }
                        return .http(http)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrade)
            // Pipelining and errors are the async HTTP channel's business, as in Hummingbird's own channels.
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .push:
                // The pipeline carries the WebSocket from here; no task waits on it.
                return
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let error):
                await Self.answerRefusal(error, on: http)
            }
        } catch {
            logger.debug("connection ended before its first request was served", metadata: ["error": "\(error)"])
        }
    }

    /// Whether an upgrade request may become a push connection, and with what: the
    /// path must be `/ws` and the credentials valid (a refusal falls through to the
    /// router's `/ws` route, which answers 401 or 426).
    static func accept(_ head: HTTPRequestHead, auth: GatewayAuth) async throws -> PushConnection.Request {
        let (path, query) = Self.split(uri: head.uri)
        guard path == "/ws" else { throw NIOWebSocketUpgradeRefusal.notThisPath }
        var token = query["token"].flatMap { $0.isEmpty ? nil : $0 }
        if token == nil, let header = head.headers.first(name: "authorization"), header.hasPrefix("Bearer ") {
            token = String(header.dropFirst("Bearer ".count))
        }
        let permission = try await auth.authorise(token: token)
        let symbols = GatewayRoutes.symbols(fromQuery: query["symbols"].map { Substring($0) }) ?? []
        let batched = query["batch"].map { $0 == "1" || $0 == "true" } ?? false
        return PushConnection.Request(permission: permission, symbols: symbols,
                                      maxRate: query["maxRate"].flatMap { Int($0) }, batched: batched)
    }

    /// Answers a refused upgrade as the router's `/ws` route would — 401 with
    /// `WWW-Authenticate: Bearer` for credentials, 404 off `/ws`, 400 for a malformed
    /// handshake — with a JSON error body, then closes.
    static func answerRefusal(_ error: any Error, on http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>) async {
        var headers: HTTPFields = [.contentType: "application/json", .connection: "close"]
        let status: HTTPResponse.Status
        let body: ServerFrame
        switch error {
        case let error as GatewayAuthError:
            status = .unauthorized
            headers[.wwwAuthenticate] = "Bearer"
            body = .error(code: .unauthorized, message: error.description)
        case NIOWebSocketUpgradeRefusal.notThisPath:
            status = .notFound
            body = .error(code: .badRequest, message: "WebSocket upgrades are served on /ws only")
        default:
            status = .badRequest
            body = .error(code: .badRequest, message: "not a valid WebSocket upgrade request: \(error)")
        }
        headers[.contentLength] = String(body.payloadCount)
        try? await http.executeThenClose { _, outbound in
            try await outbound.write(contentsOf: [.head(HTTPResponse(status: status, headerFields: headers)),
                                                  .body(body.payload), .end(nil)])
        }
    }

    /// The path and the percent-decoded query parameters of a request target.
    static func split(uri: String) -> (path: Substring, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (Substring(uri), [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ") : ""
            query[name] = value.removingPercentEncoding ?? value
        }
        return (uri[..<mark], query)
    }
}

/// Why an upgrade was declined before credentials were looked at.
enum NIOWebSocketUpgradeRefusal: Error {
    case notThisPath
}
