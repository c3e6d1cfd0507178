import DequeModule
import NIOCore

/// The request pipeline of one broker connection as a value: correlation ids, the
/// requests in flight (answered in order, Kafka guarantees per connection), their
/// deadlines, and what happens when the connection closes. No I/O: the channel handler
/// feeds events in and carries out the returned actions.
///
/// `Pending` is whatever the handler needs to complete a request (a promise, in
/// practice); tests use plain values.
struct ConnectionStateMachine<Pending> {
    struct InFlight {
        var correlationID: Int32
        var deadline: NIODeadline
        var pending: Pending
    }

    enum State {
        case active
        case closed(reason: String)
    }

    private var state: State = .active
    private var nextCorrelationID: Int32
    private(set) var inFlight: Deque<InFlight> = []

    init(firstCorrelationID: Int32 = 0) {
        self.nextCorrelationID = firstCorrelationID
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    enum SendAction {
        /// Write the frame with this correlation id. `awaitingResponse` says whether a
        /// response will come (acks=0 Produce gets none).
        case write(correlationID: Int32, pending: Pending?)
        /// The connection is closed: fail the request at once.
        case fail(Pending, reason: String)
    }

    /// A request is about to be written.
    mutating func send(_ pending: Pending, expectsResponse: Bool, deadline: NIODeadline) -> SendAction {
        guard case .active = state else {
            if case let .closed(reason) = state { return .fail(pending, reason: reason) }
            return .fail(pending, reason: "closed")
        }
        let id = nextCorrelationID
        nextCorrelationID = nextCorrelationID == .max ? 0 : nextCorrelationID + 1
        if expectsResponse {
            inFlight.append(InFlight(correlationID: id, deadline: deadline, pending: pending))
            return .write(correlationID: id, pending: nil)
        }
        return .write(correlationID: id, pending: pending)
    }

    enum ResponseAction {
        case succeed(Pending)
        /// A response that matches no request (or not the oldest): the stream is out of
        /// step and the connection must close, failing everything.
        case protocolViolation(reason: String)
    }

    /// A response frame arrived carrying `correlationID`.
    mutating func received(correlationID: Int32) -> ResponseAction {
        guard let head = inFlight.first else {
            return .protocolViolation(reason: "response with correlation id \(correlationID) but nothing in flight")
        }
        guard head.correlationID == correlationID else {
            return .protocolViolation(reason: "response with correlation id \(correlationID), expected \(head.correlationID)")
        }
        inFlight.removeFirst()
        return .succeed(head.pending)
    }

    /// The connection closed: everything in flight fails with `reason`, and so will later sends.
    mutating func closed(reason: String) -> [Pending] {
        if case .active = state { state = .closed(reason: reason) }
        let failed = inFlight.map(\.pending)
        inFlight.removeAll()
        return failed
    }

    enum TimeoutAction {
        /// Nothing in flight: no timer needed.
        case idle
        /// Check again at this deadline.
        case checkAgain(at: NIODeadline)
        /// A request passed its deadline: close the connection (responses come in order,
        /// so everything behind it is stuck too).
        case timedOut(correlationID: Int32)
    }

    /// Called from the connection's one timer.
    func checkTimeouts(now: NIODeadline) -> TimeoutAction {
        guard case .active = state, !inFlight.isEmpty else { return .idle }
        var earliest = NIODeadline.distantFuture
        for request in inFlight {
            if request.deadline <= now { return .timedOut(correlationID: request.correlationID) }
            earliest = min(earliest, request.deadline)
        }
        return .checkAgain(at: earliest)
    }
}
