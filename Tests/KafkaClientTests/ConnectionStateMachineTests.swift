@testable import KafkaClient
import NIOCore
import XCTest

final class ConnectionStateMachineTests: XCTestCase {
    let t0 = NIODeadline.uptimeNanoseconds(1_000)

    func testPipelinedResponsesMatchInOrder() {
        var machine = ConnectionStateMachine<String>()
        guard case .write(0, nil) = machine.send("a", expectsResponse: true, deadline: t0 + .seconds(1)),
              case .write(1, nil) = machine.send("b", expectsResponse: true, deadline: t0 + .seconds(1)),
              case .write(2, "c") = machine.send("c", expectsResponse: false, deadline: t0 + .seconds(1)),
              case .write(3, nil) = machine.send("d", expectsResponse: true, deadline: t0 + .seconds(1)) else {
            return XCTFail("expected writes with ids 0...3")
        }
        guard case .succeed("a") = machine.received(correlationID: 0),
              case .succeed("b") = machine.received(correlationID: 1) else { return XCTFail() }
        guard case .protocolViolation = machine.received(correlationID: 7) else { return XCTFail() }
        XCTAssertEqual(machine.inFlight.map(\.pending), ["d"])
    }

    func testCloseFailsEverythingInFlightAndLaterSends() {
        var machine = ConnectionStateMachine<String>()
        _ = machine.send("a", expectsResponse: true, deadline: t0)
        _ = machine.send("b", expectsResponse: true, deadline: t0)
        XCTAssertEqual(machine.closed(reason: "peer closed"), ["a", "b"])
        guard case let .fail("c", reason) = machine.send("c", expectsResponse: true, deadline: t0) else { return XCTFail() }
        XCTAssertEqual(reason, "peer closed")
        XCTAssertTrue(machine.isClosed)
    }

    func testTimeoutsCheckTheEarliestDeadline() {
        var machine = ConnectionStateMachine<String>()
        guard case .idle = machine.checkTimeouts(now: t0) else { return XCTFail() }
        _ = machine.send("fetch", expectsResponse: true, deadline: t0 + .seconds(31))
        _ = machine.send("metadata", expectsResponse: true, deadline: t0 + .seconds(30))
        guard case let .checkAgain(at) = machine.checkTimeouts(now: t0) else { return XCTFail() }
        XCTAssertEqual(at, t0 + .seconds(30))
        guard case .timedOut(correlationID: 1) = machine.checkTimeouts(now: t0 + .seconds(30)) else { return XCTFail() }
    }
}
