import NIOCore
import NIOHTTP1
import Synchronization

/// Completes one connection attempt exactly once: succeeded when the WebSocket
/// handler is in place and the request sent, failed by whichever goes wrong first
/// (refused upgrade, error, close, timeout).
final class UpgradeWaiter: Sendable {
    private let promise: EventLoopPromise<Void>
    private let done = Atomic<Bool>(false)

    init(eventLoop: any EventLoop) {
        promise = eventLoop.makePromise(of: Void.self)
    }

    var futureResult: EventLoopFuture<Void> { promise.futureResult }

    func succeed() {
        if done.exchange(true, ordering: .acquiringAndReleasing) == false { promise.succeed() }
    }

    func fail(_ error: any Error) {
        if done.exchange(true, ordering: .acquiringAndReleasing) == false { promise.fail(error) }
    }
}

/// Why a swarm client's WebSocket connection could not be opened.
public enum WebSocketSwarmError: Error, CustomStringConvertible {
    /// The gateway answered the upgrade request with plain HTTP (e.g. 401).
    case upgradeRefused(status: Int)
    case closedDuringUpgrade
    case upgradeTimedOut(seconds: Int64)
    case badAddress(String)

    public var description: String {
        switch self {
        case .upgradeRefused(let status): return "the gateway refused the WebSocket upgrade with HTTP \(status)"
        case .closedDuringUpgrade: return "the connection closed during the WebSocket upgrade"
        case .upgradeTimedOut(let seconds): return "the WebSocket upgrade took longer than \(seconds) s"
        case .badAddress(let text): return "'\(text)' is not host:port"
        }
    }
}

/// Sends the HTTP GET that `HTTPClientUpgradeHandler` turns into an upgrade request,
/// and fails the attempt if the answer is plain HTTP instead of a switch to WebSocket.
/// Removed by the upgrade.
final class WebSocketUpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private let path: String
    private let waiter: UpgradeWaiter

    init(host: String, path: String, waiter: UpgradeWaiter) {
        self.host = host
        self.path = path
        self.waiter = waiter
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let response) = unwrapInboundIn(data) {
            waiter.fail(WebSocketSwarmError.upgradeRefused(status: Int(response.status.code)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiter.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiter.fail(WebSocketSwarmError.closedDuringUpgrade)
        context.fireChannelInactive()
    }
}
