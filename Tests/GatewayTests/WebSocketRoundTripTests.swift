import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import XCTest

/// Real WebSocket round trips against the gateway on an ephemeral 127.0.0.1 port.
final class WebSocketRoundTripTests: XCTestCase {
    func makeServer(secret: String? = nil) -> GatewayServer {
        GatewayServer(configuration: GatewayConfiguration(host: "127.0.0.1", port: 0, tokenSecret: secret))
    }

    func testSubscribeGetsSnapshotThenLiveUpdate() async throws {
        let server = makeServer()
        let hub = server.hub
        await hub.publish("AAPL", partition: 0, offset: 1)
        let app = try await server.makeApplication()
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let received = FrameLog()
            let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "test")) {
                inbound, outbound, _ in
                try await outbound.write(.text(#"{"op":"subscribe","symbols":["AAPL","MSFT"]}"#))
                var iterator = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                guard case .text(let first) = try await iterator.next() else { return }
                received.append(first)
                await hub.publish("MSFT", partition: 1, offset: 2)
                guard case .text(let second) = try await iterator.next() else { return }
                received.append(second)
                try await outbound.write(.text(#"{"op":"unsubscribe","symbols":["MSFT"]}"#))
                try await outbound.write(.text("nonsense"))
                guard case .text(let third) = try await iterator.next() else { return }
                received.append(third)
                try await outbound.close(.normalClosure, reason: nil)
            }
            XCTAssertEqual(close?.closeCode, .normalClosure)
            XCTAssertEqual(received.frames, [
                snapshotText("AAPL", seq: 1, partition: 0, offset: 1),
                updateText("MSFT", seq: 2, partition: 1, offset: 2),
                #"{"type":"error","code":"badRequest","message":"request is not a JSON object"}"#,
            ])
        }
        let clients = await hub.currentCounters().clients
        XCTAssertEqual(clients, 0)
    }

    func testUnauthorisedUpgradeIsRefusedWith401() async throws {
        let server = makeServer(secret: "ws-secret-of-at-least-thirty-two-bytes")
        let app = try await server.makeApplication()
        try await app.test(.router) { client in
            try await client.execute(uri: "/ws?token=bad", method: .get) { response in
                XCTAssertEqual(response.status, .unauthorized)
            }
            try await client.execute(uri: "/ws", method: .get) { response in
                XCTAssertEqual(response.status, .unauthorized)
            }
        }
    }

    func testValidTokenLimitsSymbols() async throws {
        let server = makeServer(secret: "ws-secret-of-at-least-thirty-two-bytes")
        let hub = server.hub
        await hub.publish("AAPL", partition: 0, offset: 1)
        await hub.publish("MSFT", partition: 0, offset: 2)
        let token = try await GatewayAuth.mintToken(secret: "ws-secret-of-at-least-thirty-two-bytes", symbols: ["MSFT"], expiresAt: Date().addingTimeInterval(600))
        let app = try await server.makeApplication()
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let received = FrameLog()
            _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws?token=\(token)&symbols=AAPL,MSFT",
                                                  logger: Logger(label: "test")) { inbound, outbound, _ in
                var iterator = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                for _ in 0..<2 {
                    guard case .text(let text) = try await iterator.next() else { return }
                    received.append(text)
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            XCTAssertEqual(received.frames, [
                #"{"type":"error","code":"forbidden","message":"not authorised for these symbols","symbols":["AAPL"]}"#,
                snapshotText("MSFT", seq: 2, partition: 0, offset: 2),
            ])
        }
    }
}

/// Frames a WebSocket handler saw, readable after it returns.
final class FrameLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ frame: String) { lock.lock(); storage.append(frame); lock.unlock() }
    var frames: [String] { lock.lock(); defer { lock.unlock() }; return storage }
}
