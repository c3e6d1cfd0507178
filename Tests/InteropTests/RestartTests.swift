import Foundation
import Testing

@Suite("Broker restarts", .serialized)
struct RestartTests {
    @Test func everythingProducedBeforeARestartIsServedAfterIt() async throws {
        let first = try await TestBroker.start()
        let lines = (0..<5000).map { "k\($0 % 50):value-\($0)" }.joined(separator: "\n") + "\n"
        let produce = try await runProcess(kcatPath, ["-b", first.bootstrap, "-t", "durable", "-P", "-K:"], input: Data(lines.utf8))
        #expect(produce.status == 0)
        try await first.stop(removeData: false)

        let second = try await TestBroker.start(dataDirectory: first.dataDirectory)
        let consume = try await runProcess(kcatPath, ["-b", second.bootstrap, "-t", "durable", "-C", "-o", "beginning", "-e", "-q",
                                                      "-f", "%s\n"])
        #expect(Set(consume.lines.map(String.init)) == Set((0..<5000).map { "value-\($0)" }))
        #expect(consume.lines.count == 5000)
        // New records continue the offsets.
        _ = try await runProcess(kcatPath, ["-b", second.bootstrap, "-t", "durable", "-p", "0", "-P"], input: Data("after\n".utf8))
        let tail = try await runProcess(kcatPath, ["-b", second.bootstrap, "-t", "durable", "-p", "0", "-C", "-o", "-1", "-e", "-q",
                                                   "-f", "%o %s\n"])
        #expect(tail.lines.last.map { $0.hasSuffix(" after") } == true)
        try await second.stop()
    }

    @Test func aTornTailBatchIsDroppedAndTheRestServed() async throws {
        let first = try await TestBroker.start()
        // 1,000 records, then one last batch of 3 records, all in partition 0.
        let body = (0..<1000).map { "record-\($0)" }.joined(separator: "\n") + "\n"
        #expect(try await runProcess(kcatPath, ["-b", first.bootstrap, "-t", "torn", "-p", "0", "-P"], input: Data(body.utf8)).status == 0)
        let segment = first.dataDirectory + "/torn-0/00000000000000000000.log"
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: segment)[.size] as! Int
        #expect(try await runProcess(kcatPath, ["-b", first.bootstrap, "-t", "torn", "-p", "0", "-P"],
                                     input: Data("last-1\nlast-2\nlast-3\n".utf8)).status == 0)
        try await first.stop(removeData: false)

        // Cut the file in the middle of that last batch, as a crash during the write would.
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: segment)[.size] as! Int
        #expect(sizeAfter > sizeBefore)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: segment))
        try handle.truncate(atOffset: UInt64(sizeBefore + (sizeAfter - sizeBefore) / 2))
        try handle.close()

        let second = try await TestBroker.start(dataDirectory: first.dataDirectory)
        let consume = try await runProcess(kcatPath, ["-b", second.bootstrap, "-t", "torn", "-p", "0", "-C", "-o", "beginning", "-e",
                                                      "-q", "-f", "%o %s\n"])
        let lines = consume.lines.map(String.init)
        #expect(lines.count == 1000)
        #expect(lines.first == "0 record-0")
        #expect(lines.last == "999 record-999")
        #expect(try FileManager.default.attributesOfItem(atPath: segment)[.size] as! Int == sizeBefore)
        // The partition accepts writes again at offset 1000.
        #expect(try await runProcess(kcatPath, ["-b", second.bootstrap, "-t", "torn", "-p", "0", "-P"], input: Data("again\n".utf8)).status == 0)
        let again = try await runProcess(kcatPath, ["-b", second.bootstrap, "-t", "torn", "-p", "0", "-C", "-o", "1000", "-e", "-q",
                                                    "-f", "%o %s\n"])
        #expect(again.lines.map(String.init) == ["1000 again"])
        try await second.stop()
    }
}
