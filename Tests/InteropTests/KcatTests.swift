import Foundation
import Testing

/// kcat 1.7.1 from Debian, linked against librdkafka 2.0.2 — older than what
/// confluent-kafka bundles, and a client that failed against at least one other
/// Kafka-compatible broker at the ApiVersions step.
@Suite("kcat (librdkafka 2.0.2)", .serialized)
struct KcatTests {
    @Test func listsTheBrokerAndTopics() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        _ = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "listed", "-P"], input: Data("x\n".utf8))
        let output = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-L"])
        #expect(output.status == 0)
        #expect(output.text.contains("1 brokers:"))
        #expect(output.text.contains("broker 0 at \(broker.bootstrap) (controller)"))
        #expect(output.text.contains("topic \"listed\" with 8 partitions:"))
        try await broker.stop()
    }

    @Test func produces100kKeyedMessagesAndReadsThemBackInOrderByteForByte() async throws {
        let broker = try await TestBroker.start()
        let count = 100_000
        var input = ""
        input.reserveCapacity(count * 60)
        for index in 0..<count { input += "key-\(index % 997):payload-\(index)-\(String(repeating: "x", count: index % 40))\n" }
        let file = NSTemporaryDirectory() + "/kcat-input-\(UUID().uuidString).txt"
        try input.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }

        let produce = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "bulk", "-P", "-K:", "-l", file])
        #expect(produce.status == 0, "\(produce.stderr)")
        let consume = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "bulk", "-C", "-o", "beginning", "-e", "-q",
                                                      "-f", "%p\t%o\t%k\t%s\n"])
        #expect(consume.status == 0, "\(consume.stderr)")
        let lines = consume.lines
        #expect(lines.count == count)

        // Every message exactly once, byte for byte; per partition, offsets from 0 without
        // gaps and messages in the order they were produced.
        var expected: [String: String] = [:]
        for line in input.split(separator: "\n") {
            let colon = line.firstIndex(of: ":")!
            expected[String(line[line.index(after: colon)...])] = String(line[..<colon])
        }
        var lastIndexByPartition: [Int: Int] = [:]
        var nextOffsetByPartition: [Int: Int] = [:]
        var seen = Set<String>()
        var keyPartition: [String: Int] = [:]
        for line in lines {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            let partition = Int(fields[0])!
            let offset = Int(fields[1])!
            let key = String(fields[2])
            let value = String(fields[3])
            #expect(expected[value] == key, "value \(value) came back with key \(key)")
            #expect(seen.insert(value).inserted, "duplicate \(value)")
            #expect(offset == nextOffsetByPartition[partition, default: 0], "gap in partition \(partition)")
            nextOffsetByPartition[partition] = offset + 1
            let index = Int(value.split(separator: "-")[1])!
            #expect(index > lastIndexByPartition[partition, default: -1], "partition \(partition) out of order")
            lastIndexByPartition[partition] = index
            // One key, one partition.
            #expect(keyPartition[key, default: partition] == partition)
            keyPartition[key] = partition
        }
        #expect(seen.count == count)
        try await broker.stop()
    }

    @Test func startsAtTheOffsetOfATimestamp() async throws {
        let broker = try await TestBroker.start()
        for round in 0..<3 {
            let lines = (0..<50).map { "r\(round)-\($0)" }.joined(separator: "\n") + "\n"
            let produce = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "times", "-p", "0", "-P"], input: Data(lines.utf8))
            #expect(produce.status == 0)
            try await Task.sleep(for: .milliseconds(30))
        }
        let all = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "times", "-p", "0", "-C", "-o", "beginning", "-e", "-q",
                                                  "-f", "%o %T %s\n"])
        let records = all.lines.map { line -> (offset: Int, timestamp: Int, value: String) in
            let parts = line.split(separator: " ")
            return (Int(parts[0])!, Int(parts[1])!, String(parts[2]))
        }
        #expect(records.count == 150)
        // Ask for the timestamp of the first record of the second round: kcat must start
        // exactly at the first record with that timestamp or later.
        let target = records.first { $0.value == "r1-0" }!.timestamp
        let expectedStart = records.first { $0.timestamp >= target }!
        let fromTime = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "times", "-p", "0", "-C", "-o", "s@\(target)",
                                                       "-e", "-q", "-f", "%o %s\n"])
        let first = fromTime.lines.first.map(String.init)
        #expect(first == "\(expectedStart.offset) \(expectedStart.value)")
        #expect(fromTime.lines.count == 150 - expectedStart.offset)
        try await broker.stop()
    }

    /// SASL/PLAIN with librdkafka's own client settings: the right password produces and
    /// consumes; a wrong one, or no SASL at all, gets nothing in and nothing out.
    @Test func saslPlainProducesAndConsumesOnlyWithTheRightPassword() async throws {
        let broker = try await TestBroker.start { $0.saslPlainUsers = ["alice": "secret", "bob": "hunter2"] }
        defer { Task { try? await broker.stop() } }
        func sasl(_ user: String, _ password: String) -> [String] {
            ["-b", broker.bootstrap, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
             "-X", "sasl.username=\(user)", "-X", "sasl.password=\(password)"]
        }
        let consumeArguments = ["-t", "guarded", "-p", "0", "-C", "-o", "beginning", "-e", "-q", "-f", "%o %k %s\n"]

        let produce = try await runProcess(kcatPath, sasl("alice", "secret") + ["-t", "guarded", "-p", "0", "-P", "-K:"],
                                           input: Data("k1:one\nk2:two\nk3:three\n".utf8))
        #expect(produce.status == 0, "\(produce.stderr)")
        let consume = try await runProcess(kcatPath, sasl("bob", "hunter2") + consumeArguments)
        #expect(consume.status == 0, "\(consume.stderr)")
        #expect(consume.lines.map(String.init) == ["0 k1 one", "1 k2 two", "2 k3 three"])

        let wrongPassword = try await runProcess(kcatPath, sasl("alice", "wrong") + ["-t", "guarded", "-p", "0", "-P"],
                                                 input: Data("intruder\n".utf8))
        #expect(wrongPassword.status == 1)
        #expect(wrongPassword.stderr.contains("SASL authentication error: Authentication failed: invalid username or password"),
                "\(wrongPassword.stderr)")
        let wrongConsume = try await runProcess(kcatPath, sasl("bob", "secret") + consumeArguments + ["-m", "3"])
        #expect(wrongConsume.status == 1)
        #expect(wrongConsume.text.isEmpty)
        // Without SASL the broker closes the connection at librdkafka's first Metadata request.
        let plaintext = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-L", "-m", "3"])
        #expect(plaintext.status == 1)
        #expect(plaintext.stderr.contains("Failed to acquire metadata"), "\(plaintext.stderr)")

        let after = try await runProcess(kcatPath, sasl("alice", "secret") + consumeArguments)
        #expect(after.lines.map(String.init) == ["0 k1 one", "1 k2 two", "2 k3 three"], "the refused producer appended nothing")
        try await broker.stop()
    }
}
