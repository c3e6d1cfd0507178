import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A committed position: what OffsetCommit stores and OffsetFetch returns.
struct CommittedOffset: Sendable, Equatable {
    var offset: Int64
    var leaderEpoch: Int32
    var metadata: String?
    var commitTimestampMs: Int64
}

struct GroupTopicPartition: Hashable, Sendable {
    var topic: String
    var partition: Int32
}

/// Committed group offsets, durable across restarts.
///
/// Why not an internal `__consumer_offsets` topic as Kafka does: Kafka needs a replicated
/// log to fail over coordinators; a single node does not, and a dedicated journal is
/// simpler to make exact. The store is an append-only journal
/// (`<data-dir>/__group_offsets/offsets.journal`) of CRC-32C-framed entries, replayed at
/// start (a torn or corrupt tail is cut off, as the partition logs do), and rewritten as
/// a snapshot of the live entries when it grows to several times their size — the
/// compaction Kafka's cleaner would do, done in one place.
///
/// Durability follows the broker's log default: with `flush.messages=1` every commit is
/// fsync'd before it is acknowledged; otherwise commits are written at once (surviving a
/// crash of the process) and fsync'd by the broker's periodic flush.
///
/// Entry: `u32 length, u32 crc32c(payload), payload`; payload: `u8 kind (1 commit,
/// 2 delete group)`, group (string), then for commits: topic, i32 partition, i64 offset,
/// i32 leader epoch, i64 commit time, nullable metadata string.
final class OffsetStore: Sendable {
    private struct State {
        var offsets: [String: [GroupTopicPartition: CommittedOffset]] = [:]
        var journal: LogFile
        var journalSize: Int
        var entriesWritten: Int
        var dirty = false
    }

    let directory: String
    private let syncEveryCommit: Bool
    private let state: NIOLockedValueBox<State>
    private static let maximumMetadataBytes = 4096

    init(directory: String, syncEveryCommit: Bool) throws(LogIOError) {
        self.directory = directory
        self.syncEveryCommit = syncEveryCommit
        try FileSystem.makeDirectory(directory)
        let path = directory + "/offsets.journal"
        let journal = try LogFile(path: path, create: true)
        var offsets: [String: [GroupTopicPartition: CommittedOffset]] = [:]
        var entries = 0
        let size = try journal.size()
        var buffer = try journal.read(at: 0, length: size)
        var validEnd = 0
        while let payload = Self.readEntry(&buffer) {
            var payload = payload
            if Self.apply(&payload, to: &offsets) { entries += 1 }
            validEnd = size - buffer.readableBytes
        }
        if validEnd < size { try journal.truncate(to: validEnd) }
        self.state = NIOLockedValueBox(State(offsets: offsets, journal: journal, journalSize: validEnd, entriesWritten: entries))
    }

    // MARK: Reading

    func committed(group: String, topic: String, partition: Int32) -> CommittedOffset? {
        state.withLockedValue { $0.offsets[group]?[GroupTopicPartition(topic: topic, partition: partition)] }
    }

    /// Every committed partition of a group (OffsetFetch with null topics).
    func all(group: String) -> [GroupTopicPartition: CommittedOffset] {
        state.withLockedValue { $0.offsets[group] ?? [:] }
    }

    /// Groups that have committed offsets (they exist, Empty, even with no members).
    var groupIDs: [String] { state.withLockedValue { Array($0.offsets.keys) } }

    // MARK: Writing

    /// Validates and stores a batch of commits of one group in one journal write.
    /// Returns per-entry errors (OFFSET_METADATA_TOO_LARGE) in input order.
    func commit(group: String, _ entries: [(GroupTopicPartition, CommittedOffset)]) throws(LogIOError) -> [KafkaErrorCode] {
        var errors: [KafkaErrorCode] = []
        var payloads = ByteBuffer()
        var accepted: [(GroupTopicPartition, CommittedOffset)] = []
        for (key, value) in entries {
            if (value.metadata?.utf8.count ?? 0) > Self.maximumMetadataBytes {
                errors.append(.offsetMetadataTooLarge)
                continue
            }
            errors.append(.none)
            accepted.append((key, value))
            Self.appendEntry(to: &payloads) { payload in
                payload.writeInteger(UInt8(1))
                Self.writeString(group, to: &payload)
                Self.writeString(key.topic, to: &payload)
                payload.writeInteger(key.partition)
                payload.writeInteger(value.offset)
                payload.writeInteger(value.leaderEpoch)
                payload.writeInteger(value.commitTimestampMs)
                Self.writeNullableString(value.metadata, to: &payload)
            }
        }
        guard !accepted.isEmpty else { return errors }
        try locked { (state) throws(LogIOError) in
            try state.journal.write(payloads, at: state.journalSize)
            if syncEveryCommit { try state.journal.sync() } else { state.dirty = true }
            state.journalSize += payloads.readableBytes
            state.entriesWritten += accepted.count
            for (key, value) in accepted { state.offsets[group, default: [:]][key] = value }
            try compactIfNeeded(&state)
        }
        return errors
    }

    /// Forgets a group's offsets (DeleteGroups, or a topic's deletion for all groups).
    func deleteGroup(_ group: String) throws(LogIOError) {
        var payload = ByteBuffer()
        Self.appendEntry(to: &payload) { payload in
            payload.writeInteger(UInt8(2))
            Self.writeString(group, to: &payload)
        }
        try locked { (state) throws(LogIOError) in
            guard state.offsets.removeValue(forKey: group) != nil else { return }
            try state.journal.write(payload, at: state.journalSize)
            state.journalSize += payload.readableBytes
            state.entriesWritten += 1
            state.dirty = true
        }
    }

    /// fsync if anything was written since the last flush (the broker's periodic flush).
    func flush() throws(LogIOError) {
        try locked { (state) throws(LogIOError) in
            guard state.dirty else { return }
            try state.journal.sync()
            state.dirty = false
        }
    }

    /// `withLockedValue` for a body with typed throws.
    private func locked(_ body: (inout State) throws(LogIOError) -> Void) throws(LogIOError) {
        let result = state.withLockedValue { state in
            Result { () throws(LogIOError) in try body(&state) }
        }
        try result.get()
    }

    func close() {
        try? flush()
        state.withLockedValue { $0.journal.close() }
    }

    /// Rewrites the journal as a snapshot once it holds four times more entries than are live.
    private func compactIfNeeded(_ state: inout State) throws(LogIOError) {
        let live = state.offsets.values.reduce(0) { $0 + $1.count }
        guard state.entriesWritten > 10_000, state.entriesWritten > 4 * live else { return }
        var snapshot = ByteBuffer()
        for (group, partitions) in state.offsets {
            for (key, value) in partitions {
                Self.appendEntry(to: &snapshot) { payload in
                    payload.writeInteger(UInt8(1))
                    Self.writeString(group, to: &payload)
                    Self.writeString(key.topic, to: &payload)
                    payload.writeInteger(key.partition)
                    payload.writeInteger(value.offset)
                    payload.writeInteger(value.leaderEpoch)
                    payload.writeInteger(value.commitTimestampMs)
                    Self.writeNullableString(value.metadata, to: &payload)
                }
            }
        }
        let path = directory + "/offsets.journal"
        let temporary = path + ".compacting"
        let file = try LogFile(path: temporary, create: true)
        try file.truncate(to: 0)
        try file.write(snapshot, at: 0)
        try file.sync()
        try FileSystem.rename(temporary, to: path)
        FileSystem.syncDirectory(of: path)
        state.journal.close()
        state.journal = file
        state.journalSize = snapshot.readableBytes
        state.entriesWritten = live
        state.dirty = false
    }

    // MARK: Encoding

    private static func appendEntry(to buffer: inout ByteBuffer, _ body: (inout ByteBuffer) -> Void) {
        var payload = ByteBuffer()
        body(&payload)
        let crc = payload.withUnsafeReadableBytes { CRC32C.checksum($0) }
        buffer.writeInteger(UInt32(payload.readableBytes))
        buffer.writeInteger(crc)
        buffer.writeImmutableBuffer(payload)
    }

    /// The next intact entry's payload, or nil at the end or at a torn/corrupt entry.
    private static func readEntry(_ buffer: inout ByteBuffer) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              let crc = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self),
              length < 1 << 20,
              let payload = buffer.getSlice(at: buffer.readerIndex + 8, length: Int(length)),
              payload.withUnsafeReadableBytes({ CRC32C.checksum($0) }) == crc
        else { return nil }
        buffer.moveReaderIndex(forwardBy: 8 + Int(length))
        return payload
    }

    /// Applies one journal entry; false when its payload does not parse.
    private static func apply(_ payload: inout ByteBuffer, to offsets: inout [String: [GroupTopicPartition: CommittedOffset]]) -> Bool {
        guard let kind = payload.readInteger(as: UInt8.self), let group = readString(&payload) else { return false }
        switch kind {
        case 1:
            guard let topic = readString(&payload),
                  let partition = payload.readInteger(as: Int32.self),
                  let offset = payload.readInteger(as: Int64.self),
                  let epoch = payload.readInteger(as: Int32.self),
                  let time = payload.readInteger(as: Int64.self),
                  let metadata = readNullableString(&payload)
            else { return false }
            offsets[group, default: [:]][GroupTopicPartition(topic: topic, partition: partition)] =
                CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: metadata, commitTimestampMs: time)
            return true
        case 2:
            offsets[group] = nil
            return true
        default:
            return false
        }
    }

    private static func writeString(_ value: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(Int32(value.utf8.count))
        buffer.writeString(value)
    }

    private static func writeNullableString(_ value: String?, to buffer: inout ByteBuffer) {
        guard let value else { buffer.writeInteger(Int32(-1)); return }
        writeString(value, to: &buffer)
    }

    private static func readString(_ buffer: inout ByteBuffer) -> String? {
        guard let length = buffer.readInteger(as: Int32.self), length >= 0 else { return nil }
        return buffer.readString(length: Int(length))
    }

    /// `.some(nil)` for a stored null, nil when the bytes do not parse.
    private static func readNullableString(_ buffer: inout ByteBuffer) -> String?? {
        guard let length = buffer.readInteger(as: Int32.self) else { return nil }
        if length < 0 { return .some(nil) }
        guard let value = buffer.readString(length: Int(length)) else { return nil }
        return .some(value)
    }
}
