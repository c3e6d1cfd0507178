import Broker
import Foundation
import Logging
import Testing

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The interpreter of the virtual environment `scripts/test` creates, with the Kafka clients.
var pythonPath: String {
    ProcessInfo.processInfo.environment["TICKSTREAM_PYTHON"] ?? repositoryRoot + "/.venv/bin/python"
}

/// The `tickstream` executable the tests drive (built by `swift build`/`swift test`).
var tickstreamPath: String {
    ProcessInfo.processInfo.environment["TICKSTREAM_BIN"] ?? repositoryRoot + "/.build/debug/tickstream"
}

var kcatPath: String {
    ProcessInfo.processInfo.environment["TICKSTREAM_KCAT"] ?? "/usr/bin/kcat"
}

struct ToolMissing: Error, CustomStringConvertible {
    var description: String
}

/// What a finished process left behind.
struct ProcessOutput {
    var status: Int32
    var stdout: Data
    var stderr: String

    var text: String { String(decoding: stdout, as: UTF8.self) }
    var lines: [Substring] { text.split(separator: "\n") }

    /// The last stdout line parsed as a JSON object.
    func json() throws -> [String: Any] {
        guard let line = lines.last, let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw ToolMissing(description: "no JSON in output; stderr: \(stderr.suffix(2000))")
        }
        return object
    }
}

/// Runs a program to completion, feeding `input` to its stdin, reading its output
/// concurrently so that a chatty child never blocks on a full pipe.
func runProcess(_ executable: String, _ arguments: [String], input: Data? = nil, timeout: TimeInterval = 180) async throws -> ProcessOutput {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
        throw ToolMissing(description: "\(executable) is missing: run scripts/test, which installs the interop clients")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    let stdin = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = stdin
    try process.run()
    let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    async let out = Task.detached { stdout.fileHandleForReading.readDataToEndOfFile() }.value
    async let err = Task.detached { stderr.fileHandleForReading.readDataToEndOfFile() }.value
    if let input {
        stdin.fileHandleForWriting.write(input)
    }
    try? stdin.fileHandleForWriting.close()
    let (outData, errData) = await (out, err)
    await Task.detached { process.waitUntilExit() }.value
    killer.cancel()
    return ProcessOutput(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs scripts/interop/kafka_clients.py with the venv's Python.
func runPythonClient(_ command: String, bootstrap: String, _ extra: [String] = [], timeout: TimeInterval = 240) async throws -> [String: Any] {
    let output = try await runProcess(pythonPath, [repositoryRoot + "/scripts/interop/kafka_clients.py", command,
                                                   "--bootstrap", bootstrap] + extra, timeout: timeout)
    guard output.status == 0 else {
        throw ToolMissing(description: "\(command) exited \(output.status): \(output.stderr.suffix(3000))")
    }
    return try output.json()
}

/// A broker on an ephemeral loopback port with its own data directory.
struct TestBroker {
    let broker: KafkaBroker
    let dataDirectory: String
    var bootstrap: String { "127.0.0.1:\(broker.port)" }

    static func start(dataDirectory: String? = nil, configure: (inout BrokerConfiguration) -> Void = { _ in }) async throws -> TestBroker {
        let directory = dataDirectory ?? NSTemporaryDirectory() + "/tickstream-interop-\(UUID().uuidString)"
        var configuration = BrokerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory)
        configuration.groupInitialRebalanceDelayMs = 0
        configure(&configuration)
        var logger = Logger(label: "interop.broker")
        logger.logLevel = .warning
        let broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
        return TestBroker(broker: broker, dataDirectory: directory)
    }

    func stop(removeData: Bool = true) async throws {
        try await broker.shutdown()
        if removeData { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }
}

extension Dictionary where Key == String, Value == Any {
    func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
    func bool(_ key: String) -> Bool? { (self[key] as? NSNumber)?.boolValue }
}
