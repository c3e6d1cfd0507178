import DequeModule
import KafkaProtocol
import Logging
import NIOCore

/// One client connection: takes request frames, routes them, and writes responses in
/// the order the requests came (Kafka's rule for a connection), whatever order their
/// handlers finish in. A pipelining client gets up to
/// `maxRequestsInFlightPerConnection` requests handled at once; beyond that, or while
/// the socket is not writable, the broker stops reading from it.
///
/// Anything malformed closes this connection only; the broker and its log are untouched.
final class KafkaConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Slot {
        case waiting
        case respond([ByteBuffer])
        /// Respond, then close once the bytes are written (failed authentication).
        case respondAndClose([ByteBuffer])
        case nothing
        case close(String)
    }

    private let cluster: Cluster
    private var logger: Logger
    private var connection: ConnectionState?
    /// Responses not yet written, in request order; `slots[0]` belongs to request `firstSequence`.
    private var slots = Deque<Slot>()
    private var firstSequence = 0
    private var readPaused = false
    private var closing = false

    init(cluster: Cluster) {
        self.cluster = cluster
        self.logger = cluster.logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let remote = context.channel.remoteAddress.map { "\($0)" } ?? "unknown"
        connection = ConnectionState(remoteAddress: remote, authenticated: cluster.configuration.saslPlainUsers == nil)
        connection?.clientHost = "/" + (context.channel.remoteAddress?.ipAddress ?? "unknown")
        logger[metadataKey: "peer"] = "\(remote)"
        cluster.metrics.connections.increment()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cluster.metrics.connections.decrement()
        cluster.connectionClosed(eventLoop: context.eventLoop, connection: connection)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, let connection else { return }
        let payload = unwrapInboundIn(data)
        cluster.metrics.bytesIn.increment(by: payload.readableBytes + 4)
        if connection.expectsRawSaslToken {
            authenticateRawToken(payload, connection: connection, context: context)
            return
        }
        let frame: KafkaRequestFrame
        do {
            frame = try KafkaRequestFrame(parsing: payload)
        } catch {
            close(context: context, reason: "unreadable request header: \(error)")
            return
        }
        if connection.clientID == nil {
            connection.clientID = frame.header.clientID
            logger[metadataKey: "client"] = "\(frame.header.clientID ?? "")"
        }
        logger.trace("request", metadata: [
            "api": "\(frame.apiKey.map { "\($0)" } ?? "key \(frame.header.requestApiKey)")",
            "version": "\(frame.apiVersion)", "correlation": "\(frame.correlationID)",
        ])
        let sequence = firstSequence + slots.count
        slots.append(.waiting)
        let requestContext = RequestContext(header: frame.header, eventLoop: context.eventLoop, connection: connection)
        let started = NIODeadline.now()
        let apiKey = frame.apiKey
        let version = frame.apiVersion
        let correlationID = frame.correlationID

        switch cluster.route(frame, context: requestContext) {
        case .respond(let response):
            finish(sequence, apiKey: apiKey, started: started, response: response, version: version, correlationID: correlationID, context: context)
        case .respondInVersion(let response, let responseVersion):
            finish(sequence, apiKey: apiKey, started: started, response: response, version: responseVersion, correlationID: correlationID, context: context)
        case .later(let future):
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            future.hop(to: context.eventLoop).whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .success(let response):
                    handler.finish(sequence, apiKey: apiKey, started: started, response: response, version: version,
                                   correlationID: correlationID, context: context)
                case .failure(let error):
                    handler.complete(sequence, .close("\(apiKey.map { "\($0)" } ?? "request") failed: \(error)"), context: context)
                }
            }
        case .respondThenClose(let response):
            finish(sequence, apiKey: apiKey, started: started, response: response, version: version,
                   correlationID: correlationID, context: context, thenClose: true)
        case .noResponse:
            if let apiKey { cluster.metrics.requestCompleted(apiKey, nanoseconds: (NIODeadline.now() - started).nanoseconds) }
            complete(sequence, .nothing, context: context)
        case .close(let reason):
            cluster.metrics.requestErrors.increment()
            complete(sequence, .close(reason), context: context)
        }
        if slots.count >= cluster.configuration.maxRequestsInFlightPerConnection {
            pauseReading(context: context)
        }
    }

    /// After a v0 SaslHandshake the client sends its PLAIN token as a bare frame and
    /// expects a bare frame back: empty on success; failure closes the connection.
    private func authenticateRawToken(_ token: ByteBuffer, connection: ConnectionState, context: ChannelHandlerContext) {
        connection.expectsRawSaslToken = false
        guard let user = cluster.verifyPlainToken(Array(token.readableBytesView)) else {
            close(context: context, reason: "SASL authentication failed")
            return
        }
        connection.authenticated = true
        connection.principal = user
        let sequence = firstSequence + slots.count
        slots.append(.waiting)
        var reply = context.channel.allocator.buffer(capacity: 4)
        reply.writeInteger(Int32(0))
        complete(sequence, .respond([reply]), context: context)
    }

    private func finish(_ sequence: Int, apiKey: APIKey?, started: NIODeadline, response: KafkaResponseBody, version: Int16,
                        correlationID: Int32, context: ChannelHandlerContext, thenClose: Bool = false) {
        if let apiKey { cluster.metrics.requestCompleted(apiKey, nanoseconds: (NIODeadline.now() - started).nanoseconds) }
        do {
            let chunks = try KafkaFrame.encodeResponse(response, version: version, correlationID: correlationID,
                                                       allocator: context.channel.allocator, sliceThreshold: 256)
            complete(sequence, thenClose ? .respondAndClose(chunks) : .respond(chunks), context: context)
        } catch {
            logger.error("could not encode a response", metadata: ["api": "\(response.apiKey)", "error": "\(error)"])
            complete(sequence, .close("response encoding failed: \(error)"), context: context)
        }
    }

    private func complete(_ sequence: Int, _ slot: Slot, context: ChannelHandlerContext) {
        let index = sequence - firstSequence
        guard index >= 0, index < slots.count, !closing else { return }
        slots[index] = slot
        var wrote = false
        while let first = slots.first {
            switch first {
            case .waiting:
                if wrote { context.flush() }
                return
            case .respond(let chunks):
                for chunk in chunks {
                    cluster.metrics.bytesOut.increment(by: chunk.readableBytes)
                    context.write(wrapOutboundOut(chunk), promise: nil)
                }
                wrote = true
            case .respondAndClose(let chunks):
                for chunk in chunks {
                    cluster.metrics.bytesOut.increment(by: chunk.readableBytes)
                    context.write(wrapOutboundOut(chunk), promise: nil)
                }
                closing = true
                slots.removeAll()
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in loopBound.value.close(promise: nil) }
                return
            case .nothing:
                break
            case .close(let reason):
                if wrote { context.flush() }
                close(context: context, reason: reason)
                return
            }
            slots.removeFirst()
            firstSequence += 1
        }
        if wrote { context.flush() }
        if slots.count < cluster.configuration.maxRequestsInFlightPerConnection / 2 && context.channel.isWritable {
            resumeReading(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if slots.count < cluster.configuration.maxRequestsInFlightPerConnection { resumeReading(context: context) }
        } else {
            pauseReading(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    private func pauseReading(context: ChannelHandlerContext) {
        guard !readPaused else { return }
        readPaused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readPaused else { return }
        readPaused = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Oversized or negative frame sizes arrive here from the frame decoder.
        close(context: context, reason: "\(error)")
    }

    private func close(context: ChannelHandlerContext, reason: String) {
        guard !closing else { return }
        closing = true
        logger.warning("closing connection", metadata: ["reason": "\(reason)", "client": "\(connection?.clientID ?? "")"])
        slots.removeAll()
        context.close(promise: nil)
    }
}
