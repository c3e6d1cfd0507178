import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// `TICKSTREAM_BIN`, else `.build/debug/tickstream` under the package root; skips the test when neither exists.
func tickstreamExecutable() throws -> String {
    if let path = ProcessInfo.processInfo.environment["TICKSTREAM_BIN"], !path.isEmpty { return path }
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { root.deleteLastPathComponent() }
    let path = root.appendingPathComponent(".build/debug/tickstream").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw XCTSkip("no tickstream binary at \(path): run `swift build --product tickstream` or set TICKSTREAM_BIN")
    }
    return path
}

/// `tickstream broker` as a child process on ephemeral loopback ports, its log collected as it arrives.
final class BrokerChildProcess: Sendable {
    private let process: Process
    private let log = NIOLockedValueBox("")

    init(executable: String, dataDirectory: String, extraArguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["broker", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory] + extraArguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let log = self.log
        for pipe in [out, err] {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if !data.isEmpty { log.withLockedValue { $0 += String(decoding: data, as: UTF8.self) } }
            }
        }
        try process.run()
        self.process = process
    }

    var output: String { log.withLockedValue { $0 } }
    var isRunning: Bool { process.isRunning }
    var processID: Int32 { process.processIdentifier }

    /// The port after `marker` in the log (e.g. "address=127.0.0.1:"), waiting up to 30 s for it.
    func port(after marker: String) async throws -> Int {
        for _ in 0..<1500 {
            let text = output
            if let range = text.range(of: marker), let port = Int(text[range.upperBound...].prefix { $0.isNumber }) {
                return port
            }
            guard isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessTestError("no \"\(marker)\" in the broker's log: \(output.suffix(2000))")
    }

    /// Sends SIGTERM and waits up to `seconds` for the exit; the exit status, or nil if it is still running.
    func terminate(within seconds: Int) async throws -> (status: Int32, reason: Process.TerminationReason)? {
        process.terminate()
        for _ in 0..<(seconds * 50) where process.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard !process.isRunning else { return nil }
        return (process.terminationStatus, process.terminationReason)
    }

    /// SIGKILL, for cleaning up after a failed test.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct ProcessTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// GET `path` over plain HTTP/1.1 on 127.0.0.1; the status line and the body.
func httpGet(port: Int, path: String) async throws -> (status: String, body: String) {
    let received = NIOLockedValueBox(ByteBuffer())
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteCollector(received: received))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    defer { channel.close(promise: nil) }
    try await channel.writeAndFlush(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    for _ in 0..<1500 {
        let text = received.withLockedValue { String(buffer: $0) }
        if let split = text.range(of: "\r\n\r\n") {
            let head = text[..<split.lowerBound]
            let lengthLine = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            let length = lengthLine.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            let body = Array(text[split.upperBound...].utf8)
            if body.count >= length {
                return (String(head.split(separator: "\r\n").first ?? ""), String(decoding: body.prefix(length), as: UTF8.self))
            }
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw ProcessTestError("no complete HTTP response from 127.0.0.1:\(port)\(path)")
}

private final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let received: NIOLockedValueBox<ByteBuffer>

    init(received: NIOLockedValueBox<ByteBuffer>) { self.received = received }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        _ = received.withLockedValue { $0.writeBuffer(&bytes) }
    }
}

/// The value of the sample `name` (with its `{labels}` if any) in Prometheus text.
func prometheusSample(_ text: String, _ name: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.dropFirst(name.count + 1).split(separator: " ")[0])
    }
    return nil
}
