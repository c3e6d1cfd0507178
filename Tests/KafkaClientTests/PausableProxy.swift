import Foundation
import NIOCore
import NIOPosix

/// A TCP proxy in front of the broker whose broker-to-client direction can be paused:
/// while paused, requests still reach the broker (which stores the records) but its
/// answers are held, in order, until `resume()`. A broker that "does not answer".
final class PausableProxy: @unchecked Sendable {
    private let lock = NSLock()
    private var paused = false
    private var holders: [HoldingHandler] = []
    private var channel: (any Channel)?
    /// Set before the first client connects (the broker starts after the proxy binds, so
    /// that it can advertise the proxy's port).
    var upstreamPort = 0
    var port: Int { channel?.localAddress?.port ?? 0 }

    var isPaused: Bool {
        lock.lock(); defer { lock.unlock() }
        return paused
    }

    func start(group: any EventLoopGroup) async throws {
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: self.upstreamPort).flatMap { outbound in
                    inbound.eventLoop.makeCompletedFuture {
                        let holder = HoldingHandler(partner: inbound, proxy: self)
                        self.register(holder)
                        try outbound.pipeline.syncOperations.addHandler(holder)
                        try inbound.pipeline.syncOperations.addHandler(ForwardHandler(partner: outbound))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    private func register(_ holder: HoldingHandler) {
        lock.lock(); defer { lock.unlock() }
        holders.append(holder)
    }

    /// Holds every answer from now on.
    func pause() {
        lock.lock(); defer { lock.unlock() }
        paused = true
    }

    /// Delivers the held answers, in order, and forwards again.
    func resume() {
        lock.lock()
        paused = false
        let current = holders
        lock.unlock()
        for holder in current { holder.release() }
    }

    func stop() async throws {
        try await channel?.close()
    }
}

/// Client to broker: forwarded as it comes.
private final class ForwardHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let partner: any Channel

    init(partner: any Channel) { self.partner = partner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) { partner.close(promise: nil) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// Broker to client: held while the proxy is paused. Both this handler and `release`
/// run on the channel's event loop, so answers keep their order.
private final class HoldingHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let partner: any Channel
    let proxy: PausableProxy
    private var held: [ByteBuffer] = []
    private var eventLoop: (any EventLoop)?

    init(partner: any Channel, proxy: PausableProxy) {
        self.partner = partner
        self.proxy = proxy
    }

    func handlerAdded(context: ChannelHandlerContext) { eventLoop = context.eventLoop }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if proxy.isPaused || !held.isEmpty {
            held.append(buffer)
        } else {
            partner.writeAndFlush(buffer, promise: nil)
        }
    }

    func release() {
        eventLoop?.execute {
            let out = self.held
            self.held.removeAll()
            for buffer in out { self.partner.write(buffer, promise: nil) }
            self.partner.flush()
        }
    }

    func channelInactive(context: ChannelHandlerContext) { partner.close(promise: nil) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
