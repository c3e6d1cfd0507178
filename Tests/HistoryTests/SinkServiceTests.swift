import Foundation
import History
import KafkaClient
import Logging
import Market
import NIOCore
import Synchronization
import XCTest

/// `HistorySink` in-process against a test broker: bad records, recreated groups.
final class SinkServiceTests: XCTestCase {
    private func quoteBytes(_ symbol: String, seq: UInt64) throws -> ByteBuffer {
        let quote = Quote(symbol: symbol, seq: seq, bid: 10, ask: 10.02, last: 10.01, volume: 5,
                          timestamp: 1_732_460_000_000_000_000 + Int64(seq) * 1_000_000)
        return ByteBuffer(bytes: try quote.jsonBytes())
    }

    private func makeSink(_ broker: SinkTestBroker, db: String, sessionTimeout: Duration = .seconds(1),
                          logger: Logger = Logger(label: "tickstream.sink")) -> HistorySink {
        var configuration = HistorySinkConfiguration(bootstrap: broker.bootstrap, databasePath: db)
        configuration.progress = .none
        configuration.batchInterval = .milliseconds(50)
        configuration.sessionTimeout = sessionTimeout
        configuration.heartbeatInterval = .milliseconds(200)
        return HistorySink(configuration: configuration, logger: logger)
    }

    func testRecordsThatAreNotQuotesAreCountedAndTheirOffsetsStored() async throws {
        let broker = try await SinkTestBroker.start(partitions: 1)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let producer = try KafkaProducer(bootstrap: broker.bootstrap)
        for seq in 1...3 { _ = try await producer.send(topic: "prices", key: ByteBuffer(string: "A"), value: try quoteBytes("A", seq: UInt64(seq))) }
        _ = try await producer.send(topic: "prices", key: ByteBuffer(string: "A"), value: ByteBuffer(string: "not a quote"))
        _ = try await producer.send(topic: "prices", key: ByteBuffer(string: "A"), value: nil)
        _ = try await producer.send(topic: "prices", key: ByteBuffer(string: "A"), value: try quoteBytes("A", seq: 4))
        _ = try await producer.send(topic: "prices", key: ByteBuffer(string: "A"), value: ByteBuffer(string: "{\"sym\":1}"))
        await producer.close()

        let db = directory.path("history.sqlite")
        let sink = makeSink(broker, db: db)
        let running = Task { try await sink.run() }
        try await waitUntil(timeout: .seconds(20), "the sink read all 7 records") { sink.statistics.undecodable == 3 && sink.statistics.stored == 4 }
        running.cancel()
        try await running.value

        let store = try HistoryStore.openExisting(path: db)
        XCTAssertEqual(try store.count(), 4)
        XCTAssertEqual(try store.seqRange(symbol: "A"), SeqRange(min: 1, max: 4, count: 4))
        XCTAssertEqual(try store.nextOffset(TopicPartition(topic: "prices", partition: 0)), 7, "past the trailing bad record too")
        try await broker.stop()
    }

    func testSinkTakesOverPartitionsStoredUnderHigherGenerationsOfAnEarlierGroup() async throws {
        let broker = try await SinkTestBroker.start(partitions: 2)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        // A history written by a sink of a group that reached generation 7 on an earlier broker.
        let old = try HistoryStore(path: db)
        let partitions = [TopicPartition(topic: "prices", partition: 0), TopicPartition(topic: "prices", partition: 1)]
        _ = try await old.claim(partitions: partitions, owner: "old-member", generation: 7)

        let producer = try KafkaProducer(bootstrap: broker.bootstrap)
        for seq in 1...10 {
            _ = try await producer.send(topic: "prices", partition: Int32(seq % 2), key: ByteBuffer(string: "S\(seq % 2)"),
                                        value: try quoteBytes("S\(seq % 2)", seq: UInt64((seq + 1) / 2)))
        }
        await producer.close()

        let sink = makeSink(broker, db: db)
        let running = Task { try await sink.run() }
        try await waitUntil(timeout: .seconds(20), "the sink took over and stored 10 quotes") { sink.statistics.stored == 10 }
        running.cancel()
        try await running.value
        let owners = try HistoryStore.openExisting(path: db).partitionOwners()
        XCTAssertEqual(owners.count, 2)
        XCTAssertFalse(owners.values.contains { $0.owner == "old-member" })
        XCTAssertEqual(try HistoryStore.openExisting(path: db).count(), 10)
        try await broker.stop()
    }

    /// The other side of the takeover above: a sink whose claim was fenced, and which then
    /// loses its coordinator, must not claim over the stored owners on the strength of its
    /// local generation (failed heartbeats leave it unchanged). It takes over only once the
    /// coordinator confirms the generation, which a stopped broker never does.
    func testFencedSinkCutOffFromTheCoordinatorDoesNotTakeOver() async throws {
        let broker = try await SinkTestBroker.start(partitions: 2)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let db = directory.path("history.sqlite")
        let partitions = [TopicPartition(topic: "prices", partition: 0), TopicPartition(topic: "prices", partition: 1)]
        _ = try await HistoryStore(path: db).claim(partitions: partitions, owner: "live-member", generation: 7)

        let log = CapturedLog()
        // A long session timeout, so the takeover wait (session + 3 heartbeats) outlasts
        // the broker's shutdown by far.
        let sink = makeSink(broker, db: db, sessionTimeout: .seconds(4), logger: log.logger(label: "tickstream.sink"))
        let running = Task { try await sink.run() }
        try await waitUntil(timeout: .seconds(20), "the sink's claim is fenced") { log.contains("could not claim partitions") }
        try await broker.broker.shutdown()
        try await waitUntil(timeout: .seconds(30), "the sink tries to confirm its generation") {
            log.contains("cannot confirm the generation") || log.contains("generation went back")
        }
        XCTAssertTrue(log.contains("cannot confirm the generation with the coordinator"), log.text)
        XCTAssertFalse(log.contains("generation went back"), log.text)
        let owners = try HistoryStore.openExisting(path: db).partitionOwners()
        XCTAssertEqual(owners.mapValues { "\($0.owner)@\($0.generation)" },
                       [partitions[0]: "live-member@7", partitions[1]: "live-member@7"], "the stored owners stay")

        running.cancel()
        _ = try? await running.value
        XCTAssertFalse(log.contains("generation went back"), log.text)
        XCTAssertEqual(try HistoryStore.openExisting(path: db).partitionOwners().mapValues { "\($0.owner)@\($0.generation)" },
                       [partitions[0]: "live-member@7", partitions[1]: "live-member@7"])
        XCTAssertEqual(sink.statistics.stored, 0)
        XCTAssertEqual(sink.statistics.assignments, 0)
        broker.directory.remove()
    }
}

/// Log messages kept in memory (with their metadata), for tests that wait for a log line.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    func logger(label: String) -> Logger {
        var logger = Logger(label: label) { _ in Handler(log: self) }
        logger.logLevel = .debug
        return logger
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func contains(_ fragment: String) -> Bool { lines.withLock { $0.contains { $0.contains(fragment) } } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.append("\(event.level) \(event.message) \(fields)")
        }
    }
}
