import Foundation
import NIOConcurrencyHelpers

/// A consumer-group member run by `kafka_clients.py group-member` (confluent-kafka,
/// kafka-python or aiokafka) in the background. Its JSON event lines are collected as
/// they arrive; `stop()` asks it to leave the group cleanly, `kill()` makes it vanish.
final class GroupMemberProcess: @unchecked Sendable {
    // @unchecked: the process and pipes are set once; the event buffer is behind a lock.
    let name: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let buffer = NIOLockedValueBox<(pending: Data, lines: [Data])>((Data(), []))
    private let standardError = NIOLockedValueBox(Data())

    init(client: String, name: String, bootstrap: String, topic: String, group: String,
         sessionMs: Int = 6000, instance: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: pythonPath) else {
            throw ToolMissing(description: "python venv with Kafka clients at \(pythonPath) (run scripts/test)")
        }
        self.name = name
        process.executableURL = URL(fileURLWithPath: pythonPath)
        var arguments = [repositoryRoot + "/scripts/interop/kafka_clients.py", "group-member", "--client", client,
                         "--bootstrap", bootstrap, "--topic", topic, "--group", group, "--member", name,
                         "--session-ms", String(sessionMs)]
        if let instance { arguments += ["--instance", instance] }
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        let buffer = self.buffer
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            buffer.withLockedValue { state in
                state.pending.append(data)
                while let newline = state.pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = state.pending[state.pending.startIndex..<newline]
                    state.pending = Data(state.pending[(newline + 1)...])
                    state.lines.append(Data(line))
                }
            }
        }
        let standardError = self.standardError
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            standardError.withLockedValue { $0.append(data) }
        }
        try process.run()
    }

    var events: [[String: Any]] {
        buffer.withLockedValue { $0.lines }.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// Every (partition, offset) this member reported consuming, in order.
    var records: [PartitionOffset] {
        events.filter { $0["event"] as? String == "records" }.flatMap { event in
            (event["records"] as? [[Int]] ?? []).map { PartitionOffset(partition: $0[0], offset: $0[1]) }
        }
    }

    /// The partitions of the member's latest assignment (empty after a revoke).
    var assignment: Set<Int> {
        var current: Set<Int> = []
        for event in events {
            switch event["event"] as? String {
            case "assigned": current = Set(event["partitions"] as? [Int] ?? [])
            case "revoked": current.subtract(event["partitions"] as? [Int] ?? [])
            default: break
            }
        }
        return current
    }

    var isRunning: Bool { process.isRunning }

    /// What to print when a test gives up on this member: state, last events, stderr tail.
    var diagnostics: String {
        let lines = buffer.withLockedValue { $0.lines }.suffix(5).map { String(decoding: $0, as: UTF8.self) }
        let stderr = String(decoding: standardError.withLockedValue { $0 }.suffix(2000), as: UTF8.self)
        return "member \(name) running=\(process.isRunning) assignment=\(assignment.sorted()) records=\(records.count)\n"
            + "  last events: \(lines.map { String($0.prefix(200)) })\n  stderr: \(stderr)"
    }

    /// Leaves the group (LeaveGroup) and exits; killed if it does not within the timeout.
    func stop(timeout: TimeInterval = 30) async {
        try? input.fileHandleForWriting.write(contentsOf: Data("stop\n".utf8))
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill() }
    }

    /// SIGKILL: no LeaveGroup, no commit; the coordinator only notices by the session timeout.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct PartitionOffset: Hashable, Comparable, CustomStringConvertible {
    var partition: Int
    var offset: Int

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.partition, lhs.offset) < (rhs.partition, rhs.offset) }
    var description: String { "\(partition):\(offset)" }
}

/// Waits until `condition` holds, polling; fails with `what` after the timeout.
func eventually(_ what: String, timeout: TimeInterval = 60, members: [GroupMemberProcess] = [],
                _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline {
            throw TimedOut(description: "timed out waiting for \(what)\n" + members.map(\.diagnostics).joined(separator: "\n"))
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// `eventually` for a condition that must await (an actor's state).
func eventuallyAsync(_ what: String, timeout: TimeInterval = 60, members: [GroupMemberProcess] = [],
                     _ condition: () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !(await condition()) {
        if Date() > deadline {
            throw TimedOut(description: "timed out waiting for \(what)\n" + members.map(\.diagnostics).joined(separator: "\n"))
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}
