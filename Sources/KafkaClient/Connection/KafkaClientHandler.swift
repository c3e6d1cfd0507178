import KafkaProtocol
import NIOCore

/// What the handler needs to complete one request.
struct PendingRequest {
    var promise: EventLoopPromise<ByteBuffer>
    var apiKey: APIKey
    var timeout: TimeAmount
}

/// The channel handler of a client connection. Event-loop confined: every method runs on
/// the channel's loop. It translates between the channel and `ConnectionStateMachine`.
///
/// Requests come in through `enqueue` (not through the pipeline's write path) so that a
/// request sent after close always reaches the state machine and fails with a typed error.
final class KafkaClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine = ConnectionStateMachine<PendingRequest>()
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    let brokerName: String

    init(brokerName: String) {
        self.brokerName = brokerName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(reason: "handler removed")
        self.context = nil
    }

    /// Writes `frame` (whose correlation id field is patched here) and completes
    /// `promise` with the response frame, or at once for requests without a response.
    func enqueue(frame: ByteBuffer, apiKey: APIKey, expectsResponse: Bool, timeout: TimeAmount, promise: EventLoopPromise<ByteBuffer>) {
        guard let context, context.channel.isActive else {
            _ = machine.closed(reason: "connection not active")
            promise.fail(KafkaClientError.connectionClosed(broker: brokerName, reason: "connection not active"))
            return
        }
        let pending = PendingRequest(promise: promise, apiKey: apiKey, timeout: timeout)
        switch machine.send(pending, expectsResponse: expectsResponse, deadline: .now() + timeout) {
        case let .fail(pending, reason):
            pending.promise.fail(KafkaClientError.connectionClosed(broker: brokerName, reason: reason))
        case let .write(correlationID, noResponse):
            var frame = frame
            // size (4) + api key (2) + api version (2), then the correlation id.
            frame.setInteger(correlationID, at: frame.readerIndex + 8)
            if let noResponse {
                let writePromise = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(wrapOutboundOut(frame), promise: writePromise)
                let name = brokerName
                writePromise.futureResult.whenComplete { result in
                    switch result {
                    case .success: noResponse.promise.succeed(ByteBuffer())
                    case let .failure(error): noResponse.promise.fail(KafkaClientError.connectionClosed(broker: name, reason: "\(error)"))
                    }
                }
            } else {
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
                scheduleTimerIfNeeded(deadline: .now() + timeout)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let correlationID = frame.getInteger(at: frame.readerIndex, as: Int32.self) else {
            close(context: context, reason: "response frame shorter than a correlation id")
            return
        }
        switch machine.received(correlationID: correlationID) {
        case let .succeed(pending):
            pending.promise.succeed(frame)
        case let .protocolViolation(reason):
            let failed = machine.closed(reason: reason)
            for pending in failed {
                pending.promise.fail(KafkaClientError.protocolViolation(broker: brokerName, reason: reason))
            }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(reason: "connection closed by peer")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context: context, reason: "\(error)")
    }

    private func close(context: ChannelHandlerContext, reason: String) {
        failAll(reason: reason)
        context.close(promise: nil)
    }

    private func failAll(reason: String) {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        for pending in machine.closed(reason: reason) {
            pending.promise.fail(KafkaClientError.connectionClosed(broker: brokerName, reason: reason))
        }
    }

    /// One timer per connection at most: it fires at the earliest deadline it knows of
    /// and re-arms itself for the next; responses never cancel it.
    private func scheduleTimerIfNeeded(deadline: NIODeadline) {
        guard let context else { return }
        if let current = timerDeadline, current <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        switch machine.checkTimeouts(now: .now()) {
        case .idle:
            return
        case let .checkAgain(deadline):
            scheduleTimerIfNeeded(deadline: deadline)
        case .timedOut:
            let reason = "request timed out"
            var first = true
            for pending in machine.closed(reason: reason) {
                let error: KafkaClientError = first
                    ? .requestTimedOut(broker: brokerName, api: pending.apiKey, timeoutMs: pending.timeout.nanoseconds / 1_000_000)
                    : .connectionClosed(broker: brokerName, reason: reason)
                first = false
                pending.promise.fail(error)
            }
            context?.close(promise: nil)
        }
    }
}
