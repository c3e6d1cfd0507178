import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A TCP port nothing listens on right now (for a proxy the broker advertises).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, length) }
    }
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite("Idempotent producer and compaction with real clients", .serialized)
struct IdempotenceAndCompactionTests {
    @Test func idempotentConfluentProducerStoresEachMessageOnceAcrossDroppedConnections() async throws {
        let proxyPort = freeLoopbackPort()
        let broker = try await TestBroker.start { $0.advertisedPort = proxyPort }
        let result = try await runPythonClient("confluent-idempotent-chaos", bootstrap: "127.0.0.1:\(proxyPort)", [
            "--topic", "chaos", "--count", "100000", "--proxy-port", String(proxyPort), "--upstream", broker.bootstrap,
            "--drop-every", "1.0", "--rate", "20000",
        ], timeout: 600)
        #expect(result.int("delivered") == 100_000)
        #expect(result.int("error_count") == 0)
        #expect(result.int("stored") == 100_000)     // nothing stored twice
        #expect(result.int("consumed") == 100_000)
        #expect(result.int("distinct") == 100_000)
        #expect(result.bool("in_order") == true)
        #expect((result.int("connections_dropped") ?? 0) > 0)
        try await broker.stop()
    }

    @Test func compactedTopicKeepsTheLastValueOfEachKeyReadableByKcat() async throws {
        let broker = try await TestBroker.start { $0.retentionCheckIntervalMs = 200 }
        // A compacted topic with small segments so that most data sits in closed segments.
        let create = try await runPythonClient("confluent-create-topic", bootstrap: broker.bootstrap, [
            "--topic", "latest", "--partitions", "1", "--config", "cleanup.policy=compact", "--config", "segment.bytes=65536",
            "--config", "min.cleanable.dirty.ratio=0.01",
        ])
        #expect(create["error"] is NSNull)
        var lines = ""
        for update in 0..<100 {
            for key in 0..<1000 { lines += "sym\(key):\(key)-\(update)\n" }
        }
        let produce = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "latest", "-P", "-K:"], input: Data(lines.utf8))
        #expect(produce.status == 0)

        // Wait (bounded) for the cleaner to run over the closed segments.
        var records: [(key: String, value: String)] = []
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(200))
            let read = try await runProcess(kcatPath, ["-b", broker.bootstrap, "-t", "latest", "-C", "-o", "beginning", "-e", "-q",
                                                       "-f", "%k %s\n"])
            records = read.lines.map { line in
                let parts = line.split(separator: " ")
                return (String(parts[0]), String(parts[1]))
            }
            if records.count < 100_000 / 2 { break }
        }
        #expect(records.count < 50_000, "compaction did not run")
        var last: [String: String] = [:]
        for record in records { last[record.key] = record.value }
        #expect(last.count == 1000)
        for key in 0..<1000 { #expect(last["sym\(key)"] == "\(key)-99") }
        try await broker.stop()
    }
}
