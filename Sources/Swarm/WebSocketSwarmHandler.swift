import Logging
import Market
import NIOCore
import NIOWebSocket

/// What the transport asks of one client's connection, sent down its pipeline as a
/// user outbound event (so the handler's state stays on its event loop).
enum WebSocketSwarmControl: Sendable {
    /// Stop reading the socket (backgrounded app): the gateway's writes back up and
    /// its outbox for this client conflates, as for any client that stops reading.
    case pause
    /// Read again.
    case resume
    /// Close deliberately: a close frame, then the socket; not reported as lost.
    case close
}

/// The read side of one simulated WebSocket client, added once the upgrade is done:
/// sends the subscribe (or resume) request, turns gateway frames into deliveries,
/// snapshots, gap and conflation notices for the sink, answers pings, and controls
/// reading — paused while backgrounded, paced to a slow reader's bandwidth.
///
/// Event-loop confined: NIO calls it on its channel's loop only.
final class WebSocketSwarmHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let client: Int
    private let request: String
    private let bytesPerSecond: Int?
    private let sink: any SwarmDeliverySink
    private let ready: UpgradeWaiter
    private let logger: Logger

    private var paused = false
    private var closing = false
    private var readPending = false
    private var readScheduled = false
    private var bytesSinceRead = 0
    /// The gateway's cumulative conflation count on this connection, as last reported.
    private var reportedConflated = 0
    private var unreadable = 0

    init(client: Int, request: String, bytesPerSecond: Int?, sink: any SwarmDeliverySink, ready: UpgradeWaiter, logger: Logger) {
        self.client = client
        self.request = request
        self.bytesPerSecond = bytesPerSecond.map { max(1, $0) }
        self.sink = sink
        self.ready = ready
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added by the upgrade, on an active channel: ask for the watchlist at once.
        send(.text, ByteBuffer(string: request), context: context)
        ready.succeed()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        bytesSinceRead += frame.length + 4
        switch frame.opcode {
        case .text, .binary:
            let received = WallClock.nowNanos()
            let data = frame.unmaskedData
            handle(data, receivedNanos: received)
        case .ping:
            send(.pong, frame.unmaskedData, context: context)
        case .connectionClose:
            // The server closes (shutdown, policy): answer and drop the socket; it is lost.
            if !closing {
                send(.connectionClose, frame.unmaskedData, context: context)
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    private func handle(_ buffer: ByteBuffer, receivedNanos: Int64) {
        // A `batch` message carries ordinary frames; each counts as if it came alone.
        buffer.withUnsafeReadableBytes { bytes in
            let complete = GatewayWireFormat.forEachFrame(in: bytes) { frame in handleFrame(frame, receivedNanos: receivedNanos) }
            if !complete {
                unreadable += 1
                if unreadable == 1 { logger.warning("client \(client): a batch frame from the gateway was cut short") }
            }
        }
    }

    private func handleFrame(_ bytes: UnsafeRawBufferPointer, receivedNanos: Int64) {
        let parsed: Result<GatewayFrame, GatewayFrameError>
        do throws(GatewayFrameError) {
            parsed = .success(try GatewayFrame.parse(bytes))
        } catch {
            parsed = .failure(error)
        }
        switch parsed {
        case .success(.quote(let kind, let quote, let partition, let offset, let quoteBytes)):
            let delivery = Delivery(symbol: quote.symbol, seq: quote.seq, timestampNanos: quote.timestamp,
                                    partition: partition, offset: offset, receivedNanos: receivedNanos, bytes: quoteBytes)
            switch kind {
            case .update: sink.deliver(delivery, to: client)
            case .snapshot: sink.snapshot(delivery, to: client)
            }
        case .success(.gap(let reason, let partitions)):
            sink.gatewayGap(client: client, partitions: partitions, reason: reason)
        case .success(.stats(let conflated)):
            if conflated > reportedConflated {
                sink.gatewayConflated(client: client, quotes: conflated - reportedConflated)
                reportedConflated = conflated
            }
        case .success(.error(let code)):
            logger.warning("client \(client): the gateway answered with an error frame", metadata: ["code": "\(code)"])
        case .success(.other):
            break
        case .failure(let error):
            unreadable += 1
            if unreadable == 1 { logger.warning("client \(client): unreadable gateway frame: \(error)") }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closing {
            closing = true
            sink.connectionLost(client: client, reason: "the gateway closed the connection")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !closing {
            closing = true
            sink.connectionLost(client: client, reason: "\(error)")
        }
        context.close(promise: nil)
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if paused {
            readPending = true
            return
        }
        guard let bytesPerSecond, bytesSinceRead > 0 else {
            context.read()
            return
        }
        // A slow link: the next read waits as long as the last one took to carry.
        guard !readScheduled else { return }
        readScheduled = true
        let nanos = Int64(bytesSinceRead) * 1_000_000_000 / Int64(bytesPerSecond)
        bytesSinceRead = 0
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanos)) {
            self.readScheduled = false
            if self.paused {
                self.readPending = true
            } else {
                loopBound.value.read()
            }
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let control = event as? WebSocketSwarmControl else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch control {
        case .pause:
            paused = true
        case .resume:
            paused = false
            if readPending {
                readPending = false
                context.read()
            }
        case .close:
            closing = true
            var code = ByteBuffer()
            code.writeInteger(UInt16(1000))
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        }
        promise?.succeed()
    }

    /// Writes one masked frame (RFC 6455 §5.3: every client frame is masked).
    private func send(_ opcode: WebSocketOpcode, _ data: ByteBuffer, context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: data)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }
}
