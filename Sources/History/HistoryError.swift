/// Everything that can go wrong in the History module, with the context needed to act on it.
public enum HistoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The partition is owned by someone else (another owner, or a newer generation of the
    /// consumer group): the batch was rolled back and nothing of it was written.
    case fenced(topic: String, partition: Int32)
    /// A record's log position (topic, partition, offset) is already stored although it
    /// passed the offset check: the offsets table and the rows disagree. A bug (or a hand
    /// edit of the database), never retried away.
    case duplicateQuote(symbol: String, seq: UInt64, topic: String, partition: Int32, offset: Int64)
    /// A value that does not fit the schema (seq above Int64.max).
    case valueOutOfRange(field: String, value: String)
    /// `--db` points at a file that does not exist.
    case databaseNotFound(path: String)
    /// The file exists but has not been initialised by the history sink.
    case notAHistoryDatabase(path: String)
    /// The migration lock beside the database could not be opened or taken.
    case migrationLock(path: String, reason: String)

    public var description: String {
        switch self {
        case .fenced(let topic, let partition):
            return "partition \(topic)-\(partition) is owned by another sink (fenced); the batch was rolled back"
        case .duplicateQuote(let symbol, let seq, let topic, let partition, let offset):
            return "the record at \(topic)-\(partition) offset \(offset) (quote \(symbol) seq \(seq)) is already stored, yet past the stored next offset"
        case .valueOutOfRange(let field, let value):
            return "\(field) \(value) does not fit in the history database"
        case .databaseNotFound(let path):
            return "no history database at \(path) (run `tickstream sink` to create one, or pass --db PATH)"
        case .notAHistoryDatabase(let path):
            return "\(path) is not a tickstream history database"
        case .migrationLock(let path, let reason):
            return "cannot take the schema migration lock \(path): \(reason)"
        }
    }
}
