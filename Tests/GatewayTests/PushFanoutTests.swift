#if canImport(Glibc)
import Glibc
#endif
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import Foundation
import Market
import NIOCore
import XCTest

/// The WebSocket push path end to end over real loopback sockets: shards, shared
/// frame buffers, coalesced writes, conflation of a stalled client, batched frames.
final class PushFanoutTests: XCTestCase {
    func testManyClientsEachGetExactlyTheirSymbolsInOrderAsTheEncodedFrameBytes() async throws {
        let server = GatewayServer(configuration: GatewayConfiguration(host: "127.0.0.1", port: 0))
        let hub = server.hub
        let app = try await server.makeApplication()
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let watchlists: [[String]] = (0..<24).map { index in
                index % 3 == 0 ? ["*"] : index % 3 == 1 ? ["AAPL", "MSFT"] : ["TSLA"]
            }
            var sockets: [RawWebSocket] = []
            for list in watchlists {
                sockets.append(try RawWebSocket(port: port, path: "/ws?symbols=" + list.joined(separator: ",")))
            }
            try await waitForClients(hub, count: watchlists.count)
            let symbols = ["AAPL", "MSFT", "TSLA", "GOOG"]
            var published: [FeedQuote] = []
            for offset in 0..<400 {
                let symbol = symbols[offset % symbols.count]
                published.append(FeedQuote(symbol: symbol, partition: Int32(offset % 2), offset: Int64(offset),
                                           value: quoteBytes(symbol, seq: offset)))
            }
            // Several batches, as the feed hands them over.
            for start in stride(from: 0, to: published.count, by: 50) {
                await hub.publish(Array(published[start..<start + 50]))
            }
            for (socket, list) in zip(sockets, watchlists) {
                let expected = published.filter { list == ["*"] || list.contains($0.symbol) }
                let frames = try socket.readFrames(count: expected.count)
                XCTAssertEqual(frames.map(\.payload), expected.map(\.update.bytes))
                // Byte for byte what the hub encoded once: header and payload.
                XCTAssertEqual(frames.map(\.wire), expected.map { Array($0.update.wire.readableBytesView) })
            }
            for socket in sockets { socket.close() }
        }
    }

    func testAStalledClientIsConflatedWhileAFastOneGetsEveryQuote() async throws {
        var configuration = GatewayConfiguration(host: "127.0.0.1", port: 0)
        configuration.queueBound = 16
        let server = GatewayServer(configuration: configuration)
        let hub = server.hub
        let app = try await server.makeApplication()
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let stalled = try RawWebSocket(port: port, path: "/ws?symbols=*", receiveBuffer: 4096)
            let fast = try RawWebSocket(port: port, path: "/ws?symbols=*")
            try await waitForClients(hub, count: 2)
            let symbols = (0..<10).map { "S\($0)" }
            let padding = String(repeating: "9", count: 400)
            var published: [FeedQuote] = []
            for offset in 0..<20_000 {
                let symbol = symbols[offset % symbols.count]
                let value = Array(quoteJSON(symbol, seq: offset, last: "1." + padding).utf8)
                published.append(FeedQuote(symbol: symbol, partition: 0, offset: Int64(offset), value: value))
            }
            // Read on a thread of its own: a blocking read must not hold a cooperative-pool thread.
            let count = published.count
            let reader = Task {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[RawWebSocket.Frame], any Error>) in
                    Thread { continuation.resume(with: Result { try fast.readFrames(count: count) }) }.start()
                }
            }
            for start in stride(from: 0, to: published.count, by: 100) {
                await hub.publish(Array(published[start..<start + 100]))
            }
            let received = try await reader.value
            XCTAssertEqual(received.map(\.payload), published.map(\.update.bytes))
            let conflated = await hub.currentCounters().conflated
            XCTAssertGreaterThan(conflated, 0, "the stalled client's quotes were conflated")

            // Reading at last, the stalled client gets a stats frame announcing the skips
            // and, in the end, the latest quote of every symbol.
            var latestSeen: [String: String] = [:]
            var sawStats = false
            while latestSeen.count < symbols.count || latestSeen.values.contains(where: { Int($0)! < published.count - symbols.count }) {
                let frame = try stalled.readFrames(count: 1)[0]
                let text = String(decoding: frame.payload, as: UTF8.self)
                if text.hasPrefix(#"{"type":"stats""#) { sawStats = true; continue }
                guard let sym = field(text, "sym"), let seq = field(text, "seq") else { continue }
                latestSeen[sym] = seq
            }
            XCTAssertTrue(sawStats)
            XCTAssertEqual(Set(latestSeen.values.map { Int($0)! }), Set((published.count - symbols.count)..<published.count))
            stalled.close()
            fast.close()
        }
    }

    func testBatchedAndSingleFramesCarryTheSameFrames() async throws {
        let server = GatewayServer(configuration: GatewayConfiguration(host: "127.0.0.1", port: 0))
        let hub = server.hub
        await hub.publish("AAPL", partition: 0, offset: 1)
        let app = try await server.makeApplication()
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let single = try RawWebSocket(port: port, path: "/ws?symbols=AAPL,MSFT")
            let batched = try RawWebSocket(port: port, path: "/ws?symbols=AAPL,MSFT&batch=1")
            try await waitForClients(hub, count: 2)
            var quotes: [FeedQuote] = []
            for offset in 2..<302 {
                let symbol = offset % 2 == 0 ? "AAPL" : "MSFT"
                quotes.append(FeedQuote(symbol: symbol, partition: 0, offset: Int64(offset), value: quoteBytes(symbol, seq: offset)))
            }
            await hub.publish(quotes)
            let expected = [ServerFrame.snapshot(quote: quoteBytes("AAPL", seq: 1), partition: 0, offset: 1).bytes]
                + quotes.map(\.update.bytes)
            XCTAssertEqual(try single.readFrames(count: expected.count).map(\.payload), expected)
            var unpacked: [[UInt8]] = []
            var messages = 0
            while unpacked.count < expected.count {
                let message = try batched.readFrames(count: 1)[0].payload
                messages += 1
                message.withUnsafeBytes { bytes in
                    XCTAssertTrue(GatewayWireFormat.forEachFrame(in: bytes) { unpacked.append(Array($0)) })
                }
            }
            XCTAssertEqual(unpacked, expected)
            XCTAssertLessThan(messages, expected.count, "several frames per batch message")
            single.close()
            batched.close()
        }
    }

    func testHandshakeAcceptValueIsRFC6455s() {
        XCTAssertEqual(PushUpgrader.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testBatchSplitterHandlesNestingStringsAndTruncation() {
        let text = #"{"type":"batch","frames":[{"type":"stats","ts":1,"subscribed":2,"conflated":3},{"type":"update","quote":{"sym":"A}","seq":1},"token":"0:1"}]}"#
        var frames: [String] = []
        let complete = Array(text.utf8).withUnsafeBytes { bytes in
            GatewayWireFormat.forEachFrame(in: bytes) { frames.append(String(decoding: $0, as: UTF8.self)) }
        }
        XCTAssertTrue(complete)
        XCTAssertEqual(frames, [#"{"type":"stats","ts":1,"subscribed":2,"conflated":3}"#,
                                #"{"type":"update","quote":{"sym":"A}","seq":1},"token":"0:1"}"#])
        let cut = Array(text.utf8.dropLast(20)).withUnsafeBytes { bytes in GatewayWireFormat.forEachFrame(in: bytes) { _ in } }
        XCTAssertFalse(cut)
    }
}

private func waitForClients(_ hub: QuoteHub, count: Int) async throws {
    for _ in 0..<500 {
        if await hub.currentCounters().clients == count { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    XCTFail("\(count) clients never connected")
}

private func field(_ text: String, _ name: String) -> String? {
    guard let range = text.range(of: "\"\(name)\":") else { return nil }
    var value = text[range.upperBound...]
    if value.hasPrefix("\"") { value = value.dropFirst() }
    return String(value.prefix { $0 != "," && $0 != "\"" && $0 != "}" })
}

/// A blocking WebSocket client on a POSIX socket, for reading the exact bytes a
/// server sends (or, by not reading, stalling on purpose). Reads time out after 10 s.
final class RawWebSocket: @unchecked Sendable {
    struct Frame {
        /// The whole frame as received, header included.
        var wire: [UInt8]
        var payload: [UInt8]
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, path: String, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError.failed("socket") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawSocketError.failed("connect") }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try send(Array(request.utf8))
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let end = find(terminator) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + terminator.count)
                guard head.hasPrefix("HTTP/1.1 101"), head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") else {
                    throw RawSocketError.failed("upgrade refused: \(head)")
                }
                return
            }
            try fill()
        }
    }

    /// Reads `count` data frames (answering nothing; pings are not expected here).
    func readFrames(count: Int) throws -> [Frame] {
        var frames: [Frame] = []
        while frames.count < count {
            if let frame = takeFrame() {
                if frame.wire[0] & 0x0F == 0x1 { frames.append(frame) }
                continue
            }
            try fill()
        }
        return frames
    }

    func close() {
        // A masked close frame (code 1000), then the socket.
        _ = try? send([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8])
        Glibc.close(fd)
    }

    private func takeFrame() -> Frame? {
        guard buffer.count >= 2 else { return nil }
        var length = Int(buffer[1] & 0x7F)
        var header = 2
        if length == 126 {
            guard buffer.count >= 4 else { return nil }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            header = 4
        } else if length == 127 {
            guard buffer.count >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(buffer[$1]) }
            header = 10
        }
        guard buffer.count >= header + length else { return nil }
        let wire = Array(buffer[0..<header + length])
        buffer.removeFirst(header + length)
        return Frame(wire: wire, payload: Array(wire[header...]))
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let read = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard read > 0 else { throw RawSocketError.failed(read == 0 ? "closed by the server" : "read timed out") }
        buffer.append(contentsOf: chunk[0..<read])
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard result > 0 else { throw RawSocketError.failed("send") }
            sent += result
        }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for start in 0...(buffer.count - needle.count) where Array(buffer[start..<start + needle.count]) == needle {
            return start
        }
        return nil
    }
}

enum RawSocketError: Error {
    case failed(String)
}
