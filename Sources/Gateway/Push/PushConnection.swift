import Market
import NIOCore
import NIOWebSocket

/// One WebSocket client of the gateway, as the last handler of its channel: it reads
/// the client's request frames (subscribe, unsubscribe, resume; pings; close) and
/// writes what its `HubShard` hands it. Frames leave pre-encoded — every client's
/// copy of a quote is a reference to the same buffer — so there is no frame encoder
/// in the pipeline and no task or async sequence per connection.
///
/// Event-loop confined, like every channel handler; the shard it belongs to lives on
/// the same loop and calls `push` and `close` directly.
final class PushConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    /// What the upgrade request asked for, checked before the upgrade was accepted.
    struct Request: Sendable {
        var permission: SymbolPermission
        /// `?symbols=` to subscribe at once (may be empty).
        var symbols: [String]
        /// `?maxRate=`.
        var maxRate: Int?
        /// `?batch=1`: several frames per WebSocket message (see `GatewayWireFormat`).
        var batched: Bool
    }

    /// Largest batch payload; a longer run of frames goes out as several batches.
    static let maxBatchBytes = 64 * 1024

    private let shard: HubShard
    private let request: Request
    private var context: ChannelHandlerContext?
    private var id: ClientID?
    private var closing = false

    init(shard: HubShard, request: Request) {
        self.shard = shard
        self.request = request
    }

    /// Whether the socket takes writes now (NIO's write-buffer watermarks).
    var isWritable: Bool { context?.channel.isWritable ?? false }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard let id = shard.attach(self, permission: request.permission, maxRate: request.maxRate) else {
            close(code: .goingAway)
            return
        }
        self.id = id
        if !request.symbols.isEmpty { shard.subscribe(id, symbols: request.symbols) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        detach()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        detach()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let id { shard.flush(id) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The frame decoder's complaints (too large, bad length, reserved bits…).
        if let error = error as? NIOWebSocketError {
            close(code: error == .multiByteControlFrameLength || error == .fragmentedControlFrame ? .protocolError : .messageTooLarge)
        } else {
            detach()
            context.close(promise: nil)
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !closing else { return }
        // RFC 6455 §5.1: a server closes a connection whose client frames are unmasked.
        guard frame.maskKey != nil else {
            close(code: .protocolError, reason: "client frames must be masked")
            return
        }
        switch frame.opcode {
        case .text, .binary:
            guard let id else { return }
            shard.handle(requestBytes: Array(frame.unmaskedData.readableBytesView), from: id)
        case .ping:
            let pong = WebSocketWire.frame(opcode: WebSocketWire.pong, payload: frame.unmaskedData,
                                           allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            // Forget the client before answering, so nothing more is queued for it.
            detach()
            var payload = frame.unmaskedData
            let code = payload.readWebSocketErrorCode() ?? .normalClosure
            close(code: code)
        case .pong:
            break
        default:
            close(code: .protocolError, reason: "unexpected frame")
        }
    }

    // MARK: Outbound (from the shard)

    /// Writes `frames` in order — each a shared buffer, or with `?batch=1` as few
    /// batch messages as fit — and flushes once.
    func push(_ frames: [ServerFrame]) {
        guard let context, !closing, !frames.isEmpty else { return }
        if request.batched && frames.count > 1 {
            writeBatches(frames, context: context)
        } else {
            for frame in frames { context.write(wrapOutboundOut(frame.wire), promise: nil) }
        }
        context.flush()
    }

    /// Sends a close frame and closes the socket once it is written.
    func close(code: WebSocketErrorCode, reason: String? = nil) {
        detach()
        guard let context, !closing else { return }
        closing = true
        var payload = context.channel.allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        payload.write(webSocketErrorCode: code)
        if let reason { payload.writeString(reason) }
        let frame = WebSocketWire.frame(opcode: WebSocketWire.close, payload: payload, allocator: context.channel.allocator)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    // MARK: Internals

    private func detach() {
        guard let id else { return }
        self.id = nil
        shard.detach(id)
    }

    /// `{"type":"batch","frames":[…]}` messages of consecutive frames, each payload
    /// copied once into the message (a run of one goes as the frame itself).
    private func writeBatches(_ frames: [ServerFrame], context: ChannelHandlerContext) {
        let overhead = GatewayWireFormat.batchPrefix.count + GatewayWireFormat.batchSuffix.count
        var start = 0
        while start < frames.count {
            var end = start
            var payload = overhead
            while end < frames.count {
                let added = frames[end].payloadCount + (end > start ? 1 : 0)
                if end > start && payload + added > Self.maxBatchBytes { break }
                payload += added
                end += 1
            }
            if end - start == 1 {
                context.write(wrapOutboundOut(frames[start].wire), promise: nil)
            } else {
                var buffer = context.channel.allocator.buffer(capacity: payload + ServerFrame.maxHeaderLength)
                WebSocketWire.writeHeader(opcode: WebSocketWire.text, payload: payload, to: &buffer)
                buffer.writeBytes(GatewayWireFormat.batchPrefix)
                for index in start..<end {
                    if index > start { buffer.writeInteger(UInt8(ascii: ",")) }
                    buffer.writeImmutableBuffer(frames[index].payload)
                }
                buffer.writeBytes(GatewayWireFormat.batchSuffix)
                context.write(wrapOutboundOut(buffer), promise: nil)
            }
            start = end
        }
    }
}
