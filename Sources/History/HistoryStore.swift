import Foundation
import GRDB
import KafkaClient
import Market

/// The SQLite price history: schema, the exactly-once write path for the sink, and queries.
///
/// One `DatabasePool` in WAL mode: one writer and concurrent readers in this process.
/// Several processes (or several stores) may open the same file; their writes are
/// serialised by SQLite's lock, waited for with a busy timeout, and every write is an
/// IMMEDIATE transaction so that two writers never deadlock upgrading a read lock.
///
/// Exactly-once: a sink first `claim`s its partitions with its group generation and
/// resumes from the returned offsets; each `write` checks, in the same transaction as
/// the rows, that it still owns every partition of the batch (fencing a stale member),
/// skips records below the stored next offset (re-deliveries), and stores the new next
/// offset. The rows and the offsets therefore commit or vanish together.
public final class HistoryStore: Sendable {
    let pool: DatabasePool
    /// The database file.
    public let path: String

    /// Opens (creating if needed) the history database at `path` and brings its schema up to date.
    /// - Parameter busyTimeoutSeconds: how long a write waits for another process's write.
    public init(path: String, busyTimeoutSeconds: Double = 10) throws {
        self.path = path
        // GRDB's migrator reads which migrations are applied before it takes SQLite's write
        // lock, so two processes opening a new file at once could both run a migration (the
        // second fails, e.g. dropping an index the first already dropped). An exclusive
        // `flock` on a sidecar file serialises migration across processes; the second opener
        // then finds everything applied.
        let migrationLock = try MigrationLock(databasePath: path)
        defer { migrationLock.release() }
        pool = try DatabasePool(path: path, configuration: Self.configuration(readOnly: false, busyTimeoutSeconds: busyTimeoutSeconds))
        try HistorySchema.migrator.migrate(pool)
    }

    private init(path: String, pool: DatabasePool) {
        self.path = path
        self.pool = pool
    }

    /// Opens an existing history database for queries only.
    /// - Throws: `HistoryError.databaseNotFound` when there is no file at `path`,
    ///   `HistoryError.notAHistoryDatabase` when it was not made by `HistoryStore`.
    public static func openExisting(path: String, busyTimeoutSeconds: Double = 10) throws -> HistoryStore {
        guard fileExists(path) else { throw HistoryError.databaseNotFound(path: path) }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration(readOnly: true, busyTimeoutSeconds: busyTimeoutSeconds))
            let complete = try pool.read { db in try HistorySchema.migrator.hasCompletedMigrations(db) }
            guard complete else { throw HistoryError.notAHistoryDatabase(path: path) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw HistoryError.notAHistoryDatabase(path: path)
        }
        return HistoryStore(path: path, pool: pool)
    }

    private static func configuration(readOnly: Bool, busyTimeoutSeconds: Double) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.label = "history"
        if !readOnly {
            // WAL with synchronous=NORMAL stays consistent on power loss (a lost tail of
            // commits loses rows and their offsets together, and they are consumed again).
            // Each batch rewrites many index pages (quotes of hundreds of symbols), so a
            // bigger page cache and rarer checkpoints (40 MB of WAL) about double ingest.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000")
            }
        }
        return configuration
    }

    private static func fileExists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    // MARK: - Ownership

    /// Records `owner` at `generation` as the owner of each partition and returns each
    /// partition's stored next offset (nil when nothing was ever written for it), all in
    /// one transaction.
    /// - Throws: `HistoryError.fenced` when a partition is owned at a higher generation;
    ///   then no partition is claimed.
    /// - Parameter replacing: stored owner generations this claim may replace although they
    ///   are higher than `generation` (a compare-and-set). Only for a member whose
    ///   generation the coordinator still confirms: the group was recreated (a broker
    ///   restart resets generations), and the owners stored at those generations belong to
    ///   its previous life. A row that changed since the caller read it (another member
    ///   claimed it meanwhile) fences this claim like any other.
    public func claim(partitions: [TopicPartition], owner: String, generation: Int32,
                      replacing: [TopicPartition: Int32] = [:]) throws -> [TopicPartition: Int64?] {
        try pool.writeWithoutTransaction { db in
            try Self.claim(db, partitions: partitions, owner: owner, generation: generation, replacing: replacing)
        }
    }

    /// `claim(partitions:owner:generation:replacing:)` without blocking the calling task's thread.
    public func claim(partitions: [TopicPartition], owner: String, generation: Int32,
                      replacing: [TopicPartition: Int32] = [:]) async throws -> [TopicPartition: Int64?] {
        try await pool.writeWithoutTransaction { db in
            try Self.claim(db, partitions: partitions, owner: owner, generation: generation, replacing: replacing)
        }
    }

    /// The stored owner generation of each partition that has one.
    public func ownerGenerations(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int32] {
        try await pool.read { db in
            var generations: [TopicPartition: Int32] = [:]
            let read = try db.cachedStatement(sql: "SELECT generation FROM partition_owners WHERE topic = ? AND partition = ?")
            for tp in partitions {
                if let stored = try Int32.fetchOne(read, arguments: [tp.topic, tp.partition]) { generations[tp] = stored }
            }
            return generations
        }
    }

    private static func claim(_ db: Database, partitions: [TopicPartition], owner: String, generation: Int32,
                              replacing: [TopicPartition: Int32]) throws -> [TopicPartition: Int64?] {
        var offsets: [TopicPartition: Int64?] = [:]
        try db.inTransaction(.immediate) {
            let readOwner = try db.cachedStatement(sql: "SELECT generation FROM partition_owners WHERE topic = ? AND partition = ?")
            let upsertOwner = try db.cachedStatement(sql: """
                INSERT INTO partition_owners(topic, partition, owner, generation) VALUES (?, ?, ?, ?)
                ON CONFLICT(topic, partition) DO UPDATE SET owner = excluded.owner, generation = excluded.generation
                """)
            let readOffset = try db.cachedStatement(sql: "SELECT next_offset FROM sink_offsets WHERE topic = ? AND partition = ?")
            for tp in partitions {
                if let stored = try Int32.fetchOne(readOwner, arguments: [tp.topic, tp.partition]), stored > generation,
                   stored != replacing[tp] {
                    throw HistoryError.fenced(topic: tp.topic, partition: tp.partition)
                }
                try upsertOwner.execute(arguments: [tp.topic, tp.partition, owner, generation])
                offsets[tp] = .some(try Int64.fetchOne(readOffset, arguments: [tp.topic, tp.partition]))
            }
            return .commit
        }
        return offsets
    }

    // MARK: - Writing

    /// What one `write` did.
    public struct WriteSummary: Sendable, Hashable {
        /// Quotes inserted.
        public var written: Int
        /// Records skipped because their offset was below the partition's stored next offset.
        public var skipped: Int
        /// The next offset stored for each partition of the batch.
        public var nextOffsets: [TopicPartition: Int64]
    }

    /// Writes one batch in ONE transaction: checks that `owner` at `generation` still owns
    /// every partition in the batch, inserts the quotes whose offset is at or past the
    /// partition's stored next offset, folds them into the 1s and 1m candles, and stores
    /// next offset = last written offset + 1 per partition.
    /// - Throws: `HistoryError.fenced` (nothing written) when a partition is owned by
    ///   someone else; `HistoryError.duplicateQuote` (nothing written) when a record's
    ///   log position is already stored.
    /// - Parameter advancing: per partition, a next offset to store at least (past records
    ///   that carried no quote, so that a bad record never stalls its partition); its
    ///   partitions are ownership-checked like those of `records`.
    @discardableResult
    public func write(quotes records: [SinkRecord], advancing: [TopicPartition: Int64] = [:],
                      owner: String, generation: Int32) throws -> WriteSummary {
        try pool.writeWithoutTransaction { db in
            try QuoteBatchWriter.write(db, records: records, advancing: advancing, owner: owner, generation: generation)
        }
    }

    /// `write(quotes:advancing:owner:generation:)` without blocking the calling task's thread.
    @discardableResult
    public func write(quotes records: [SinkRecord], advancing: [TopicPartition: Int64] = [:],
                      owner: String, generation: Int32) async throws -> WriteSummary {
        try await pool.writeWithoutTransaction { db in
            try QuoteBatchWriter.write(db, records: records, advancing: advancing, owner: owner, generation: generation)
        }
    }

    /// The stored next offset of a partition, or nil when nothing was written for it.
    public func nextOffset(_ partition: TopicPartition) throws -> Int64? {
        try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT next_offset FROM sink_offsets WHERE topic = ? AND partition = ?",
                               arguments: [partition.topic, partition.partition])
        }
    }

    /// Who owns a partition in the history: the sink's member id and group generation.
    public struct PartitionOwner: Sendable, Hashable {
        public var owner: String
        public var generation: Int32
    }

    /// The current owner of every partition ever claimed.
    public func partitionOwners() throws -> [TopicPartition: PartitionOwner] {
        try pool.read { db in
            var owners: [TopicPartition: PartitionOwner] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT topic, partition, owner, generation FROM partition_owners") {
                owners[TopicPartition(topic: row[0], partition: row[1])] = PartitionOwner(owner: row[2], generation: row[3])
            }
            return owners
        }
    }
}

/// An exclusive advisory lock on `<database>-migrate.lock`, held while the schema migrates.
///
/// A sidecar file rather than the database itself: opening and closing another descriptor
/// of the database file would drop SQLite's own POSIX locks held by this process.
private struct MigrationLock {
    private let descriptor: Int32

    init(databasePath: String) throws {
        let lockPath = databasePath + "-migrate.lock"
        descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw HistoryError.migrationLock(path: lockPath, reason: String(cString: strerror(errno)))
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw HistoryError.migrationLock(path: lockPath, reason: reason)
            }
        }
    }

    func release() {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
