import ArgumentParser
import Foundation
import GRDB
import KafkaClient
import NIOCore
import Synchronization

/// `tickstream perf`: measurements that have no service of their own, in the spirit of
/// Kafka's `kafka-producer-perf-test`. Release builds only make sense here.
struct PerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Measure the Swift producer, or plain SQLite inserts beside the sink's ingest rate.",
        subcommands: [ProducePerfCommand.self, InsertPerfCommand.self])
}

/// `tickstream perf produce`: the Swift producer alone, with no market model or JSON in
/// the way — N keyed records of a fixed size, queued as fast as `send` accepts them.
struct ProducePerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce N keyed records of a fixed size with the Swift producer and report records/s and MB/s.",
        discussion: """
            Each record has an 8-byte key (SYM00000…, --keys distinct keys, so murmur2 spreads
            them over the partitions) and a value filling the rest of --record-size. Records
            are queued with the callback form of send (no wait per record); the clock stops
            when the last acknowledgement arrives.
              tickstream perf produce --count 1000000 --record-size 120
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "Kafka bootstrap servers (host:port, comma-separated).") var bootstrap = "127.0.0.1:9092"
    @Option(help: "Topic (created with --partitions when absent).") var topic = "perf-produce"
    @Option(help: "Partitions of a topic created here.") var partitions: Int32 = 8
    @Option(help: "Records to send.") var count = 1_000_000
    @Option(help: "Key plus value bytes per record (at least 9).") var recordSize = 120
    @Option(help: "Distinct keys.") var keys = 500
    @Option(help: "acks: all, 1 or 0.") var acks = "all"
    @Flag(help: "Turn idempotence off (it is on by default, as in the Java client).") var noIdempotence = false
    @Option(help: "Linger before a batch is sent, in milliseconds.") var lingerMs = 5
    @Option(help: "Batch size in bytes.") var batchSize = 16 * 1024

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard recordSize >= 9 else { throw ValidationError("--record-size must be at least 9 (an 8-byte key and one value byte)") }
        guard (1...100_000).contains(keys) else { throw ValidationError("--keys must be 1…100000") }
        guard ["all", "-1", "1", "0"].contains(acks) else { throw ValidationError("--acks must be all, 1 or 0") }
    }

    func run() async throws {
        common.bootstrapLogging()
        var configuration = ProducerConfiguration(
            acks: acks == "0" ? .none : acks == "1" ? .leader : .all, idempotent: !noIdempotence)
        configuration.linger = .milliseconds(Int64(lingerMs))
        configuration.batchSize = batchSize
        let client = try KafkaClusterClient(bootstrap: bootstrap)
        let producer = KafkaProducer(client: client, configuration: configuration)
        let tally = ProduceTally()
        let elapsed: Duration
        do {
            try await KafkaAdmin(client: client).createTopics([NewTopic(name: topic, partitions: partitions)], ignoreExisting: true)
            let keyBuffers = (0..<keys).map { ByteBuffer(string: "SYM" + String(format: "%05d", $0)) }
            let value = ByteBuffer(repeating: UInt8(ascii: "x"), count: recordSize - 8)
            let start = ContinuousClock.now
            for index in 0..<count {
                try await producer.send(topic: topic, key: keyBuffers[index % keys], value: value) { result in
                    tally.record(result)
                }
            }
            await producer.flush()
            elapsed = ContinuousClock.now - start
        } catch {
            await producer.close()
            await client.close()
            throw error
        }
        await producer.close()
        await client.close()

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let acked = tally.acked.load(ordering: .relaxed)
        let failed = tally.failed.load(ordering: .relaxed)
        let bytes = Double(acked) * Double(recordSize)
        print(String(format: "produce  %d records of %d bytes to %@ (acks=%@, idempotent=%@): %.0f records/s, %.1f MB/s, %.2f s; acked %d, failed %d",
                     count, recordSize, topic, acks, noIdempotence ? "no" : "yes",
                     Double(acked) / seconds, bytes / seconds / 1e6, seconds, acked, failed))
        if failed > 0 { throw ExitCode.failure }
    }
}

/// Counts acknowledgements from the producer's callbacks, which run on its event loops.
private final class ProduceTally: Sendable {
    let acked = Atomic<Int>(0)
    let failed = Atomic<Int>(0)

    func record(_ result: Result<RecordMetadata, any Error>) {
        switch result {
        case .success: acked.add(1, ordering: .relaxed)
        case .failure: failed.add(1, ordering: .relaxed)
        }
    }
}

/// `tickstream perf insert`: plain batched GRDB inserts of a history database's quote
/// rows into a fresh database with the same table and indexes — the ceiling the sink's
/// exactly-once ingest (rows + candles + offsets + owner check per transaction) compares with.
struct InsertPerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert",
        abstract: "Insert a history database's quotes into a fresh file with plain batched GRDB inserts; report rows/s.",
        discussion: """
            Reads every row of --from's quotes table into memory first, then times only the
            inserts: one prepared statement, --batch rows per transaction, WAL with
            synchronous=NORMAL as the sink uses, the same CREATE TABLE and CREATE INDEX
            statements as --from, no candles, no offsets.
              tickstream perf insert --from ./data/history.sqlite --to /tmp/plain.sqlite
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "A history database written by `tickstream sink`.") var from: String
    @Option(help: "The database to create (must not exist).") var to: String
    @Option(help: "Rows per transaction.") var batch = 5_000

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) exists; give a new file") }
    }

    func run() async throws {
        common.bootstrapLogging()
        var readOnly = Configuration()
        readOnly.readonly = true
        let source = try DatabaseQueue(path: from, configuration: readOnly)
        let (schema, rows) = try await source.read { db in
            let schema = try String.fetchAll(db, sql: """
                SELECT sql FROM sqlite_master WHERE tbl_name = 'quotes' AND sql IS NOT NULL ORDER BY type DESC
                """)
            let rows = try Row.fetchAll(db, sql: """
                SELECT symbol, seq, ts, bid, ask, last, volume, topic, partition, offset FROM quotes ORDER BY rowid
                """).map { row in
                    StatementArguments([
                        row[0] as String, row[1] as Int64, row[2] as Int64, row[3] as Double, row[4] as Double,
                        row[5] as Double, row[6] as Int64, row[7] as String, row[8] as Int64, row[9] as Int64,
                    ])
                }
            return (schema, rows)
        }
        try source.close()

        var writable = Configuration()
        writable.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let destination = try DatabasePool(path: to, configuration: writable)
        try await destination.write { db in
            for statement in schema { try db.execute(sql: statement) }
        }
        let start = ContinuousClock.now
        var index = 0
        while index < rows.count {
            let slice = rows[index..<min(index + batch, rows.count)]
            try await destination.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO quotes(symbol, seq, ts, bid, ask, last, volume, topic, partition, offset)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for arguments in slice { try insert.execute(arguments: arguments) }
            }
            index += batch
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let stored = try await destination.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM quotes") ?? 0 }
        try destination.close()
        print(String(format: "insert   %d rows, %d per transaction, plain GRDB: %.0f rows/s, %.2f s; %d rows in %@",
                     rows.count, batch, Double(rows.count) / seconds, seconds, stored, to))
        if stored != rows.count { throw ExitCode.failure }
    }
}
