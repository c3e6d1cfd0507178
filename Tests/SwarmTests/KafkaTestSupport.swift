import Broker
import Foundation
import KafkaClient
import Logging
import Market
import NIOCore
@testable import Swarm
import Synchronization
import XCTest

/// A broker on an ephemeral loopback port with its own temporary data directory.
struct SwarmTestBroker {
    let broker: KafkaBroker
    let dataDirectory: String
    var bootstrap: String { "127.0.0.1:\(broker.port)" }

    static func start() async throws -> SwarmTestBroker {
        let directory = NSTemporaryDirectory() + "/tickstream-swarm-\(UUID().uuidString)"
        var configuration = BrokerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory)
        configuration.groupInitialRebalanceDelayMs = 0
        var logger = Logger(label: "swarm-tests.broker")
        logger.logLevel = .warning
        let broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
        return SwarmTestBroker(broker: broker, dataDirectory: directory)
    }

    func stop() async throws {
        try await broker.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// Publishes quotes from `MarketModel` keyed by ticker, as the pricer does, and
/// remembers how many it sent per symbol (each symbol's `seq` runs 1...count).
final class QuotePublisher {
    let producer: KafkaProducer
    let client: KafkaClusterClient
    let topic: String
    private var model: MarketModel
    private(set) var sent: [String: UInt64] = [:]

    init(bootstrap: String, topic: String, symbols: [SymbolInfo], seed: UInt64 = 7) throws {
        client = try KafkaClusterClient(bootstrap: bootstrap)
        producer = KafkaProducer(client: client)
        self.topic = topic
        model = try MarketModel(symbols: symbols, configuration: MarketModelConfiguration(seed: seed))
    }

    /// Sends `count` quotes stamped with the wall clock now.
    func publish(_ count: Int) async throws {
        for _ in 0..<count {
            let now = WallClock.nowNanos()
            guard let quote = model.next(timestamp: now) else { continue }
            precondition(quote.seq == sent[quote.symbol, default: 0] + 1, "the model's seq is gap-free from 1")
            sent[quote.symbol] = quote.seq
            try await producer.send(topic: topic, key: ByteBuffer(string: quote.symbol), value: ByteBuffer(bytes: try quote.jsonBytes()),
                                    timestamp: now / 1_000_000) { _ in }
        }
    }

    func flush() async { await producer.flush() }

    func close() async {
        await producer.close()
        await client.close()
    }

    /// Quotes a client watching `watchlist` must receive.
    func expectedDeliveries(watchlist: [String]) -> UInt64 {
        watchlist.reduce(0) { $0 + sent[$1, default: 0] }
    }
}

/// Polls `condition` every 20 ms for at most `seconds`; true once it holds.
func eventually(seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// `TICKSTREAM_BIN`, else `.build/debug/tickstream` under the package root.
func tickstreamBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["TICKSTREAM_BIN"], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = root.appendingPathComponent(".build/debug/tickstream").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw XCTSkip("no tickstream binary at \(path): run `swift build --product tickstream` or set TICKSTREAM_BIN")
    }
    return path
}

/// A child process whose output is collected as it arrives.
final class ChildProcess: Sendable {
    private let process: Process
    private let output = TextBuffer()
    private let errors = TextBuffer()

    init(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        for (pipe, buffer) in [(out, output), (err, errors)] {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if !data.isEmpty { buffer.append(String(decoding: data, as: UTF8.self)) }
            }
        }
        try process.run()
        self.process = process
    }

    var isRunning: Bool { process.isRunning }
    var stdout: String { output.text }
    var stderr: String { errors.text }
    /// The exit status once it has exited; -1 while running.
    var status: Int32 { process.isRunning ? -1 : process.terminationStatus }

    func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// Text appended from one thread and read from another.
final class TextBuffer: Sendable {
    private let storage = Mutex("")

    func append(_ text: String) { storage.withLock { $0 += text } }

    var text: String { storage.withLock { $0 } }
}
