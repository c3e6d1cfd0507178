import Broker
import Foundation
import KafkaClient
import Logging
import Market
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The package root, found from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The built `tickstream` executable: `$TICKSTREAM_BIN`, else the one beside this test
/// bundle (same build), else `<package root>/.build/debug/tickstream`.
func tickstreamBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["TICKSTREAM_BIN"] {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("TICKSTREAM_BIN=\(path) is not an executable")
        }
        return path
    }
    var candidates: [String] = []
    if let executable = Bundle.main.executablePath {
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" { for _ in 0..<3 { directory.deleteLastPathComponent() } }
        candidates.append(directory.appendingPathComponent("tickstream").path)
    }
    candidates.append(packageRoot + "/.build/debug/tickstream")
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
    struct BinaryMissing: Error, CustomStringConvertible {
        var description: String
    }
    throw BinaryMissing(description: """
        the tickstream executable is missing (looked at \(candidates.joined(separator: ", "))): \
        build it first with `swift build --build-tests` (or point TICKSTREAM_BIN at it)
        """)
}

/// A broker on an ephemeral loopback port that accepts 1 s group session timeouts.
struct SinkTestBroker {
    let broker: KafkaBroker
    let directory: TemporaryDirectory
    var bootstrap: String { "127.0.0.1:\(broker.port)" }

    static func start(topic: String = "prices", partitions: Int32 = 8) async throws -> SinkTestBroker {
        let directory = try TemporaryDirectory()
        var configuration = BrokerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory.path("broker"))
        configuration.groupInitialRebalanceDelayMs = 0
        configuration.groupMinSessionTimeoutMs = 1000
        var logger = Logger(label: "history-tests.broker")
        logger.logLevel = .warning
        let broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
        let testBroker = SinkTestBroker(broker: broker, directory: directory)
        let client = try KafkaClusterClient(bootstrap: testBroker.bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: topic, partitions: partitions)])
        await client.close()
        return testBroker
    }

    func stop() async throws {
        try await broker.shutdown()
        directory.remove()
    }
}

/// A child `tickstream` process with its output in files (so it never blocks on a pipe).
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let name: String
    let outputPath: String
    let stdoutPath: String

    init(_ executable: String, _ arguments: [String], name: String, directory: TemporaryDirectory) throws {
        self.name = name
        outputPath = directory.path("\(name).log")
        stdoutPath = directory.path("\(name).stdout")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Standard error (logs).
    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    /// Standard output, as bytes.
    var stdout: Data { FileManager.default.contents(atPath: stdoutPath) ?? Data() }
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits for the exit; returns the status (SIGKILL'd: 9 with reason uncaughtSignal).
    @discardableResult
    func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                signal(SIGKILL)
                throw ChildTimedOut(description: "\(name) did not exit in time; output:\n\(output.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}

/// Every record of a topic, read from the beginning to the current end with the Swift consumer.
func readTopic(_ bootstrap: String, topic: String) async throws -> [ConsumerRecord] {
    let client = try KafkaClusterClient(bootstrap: bootstrap)
    let count = try await client.metadata(for: [topic]).partitionCount(of: topic) ?? 0
    let partitions = (0..<Int32(count)).map { TopicPartition(topic, $0) }
    let ends = try await client.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaClusterClient.latestTimestamp) }))
    let consumer = KafkaConsumer(client: client)
    await consumer.assign(partitions)
    for partition in partitions { try await consumer.seek(partition, to: .beginning) }
    var records: [ConsumerRecord] = []
    let total = ends.values.reduce(0, +)
    while records.count < total {
        records += try await consumer.poll()
    }
    await consumer.close()
    await client.close()
    return records
}

/// Per symbol, the seqs found in a topic's quotes.
func seqsBySymbol(_ records: [ConsumerRecord]) throws -> [String: [UInt64]] {
    var seqs: [String: [UInt64]] = [:]
    for record in records {
        let quote = try Quote(jsonBytes: XCTUnwrap(record.value).readableBytesView)
        seqs[quote.symbol, default: []].append(quote.seq)
    }
    return seqs
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes.
func waitUntil(timeout: Duration, _ what: String, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            XCTFail("timed out waiting until \(what)")
            return
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

struct ChildTimedOut: Error, CustomStringConvertible {
    var description: String
}

extension ChildProcess {
    /// Runs a tickstream command to completion.
    static func run(_ arguments: [String], name: String, directory: TemporaryDirectory, timeout: Duration = .seconds(60)) async throws -> ChildProcess {
        let child = try ChildProcess(try tickstreamBinary(), arguments, name: name, directory: directory)
        try await child.wait(timeout: timeout)
        return child
    }
}
