import KafkaProtocol
import NIOCore

/// Why a Produce to one partition was refused. Each maps to one Kafka error code.
public enum AppendError: Error, Equatable, Sendable {
    /// A batch was torn or its CRC wrong (CORRUPT_MESSAGE).
    case corruptMessage(String)
    /// A batch exceeds `max.message.bytes` (MESSAGE_TOO_LARGE).
    case messageTooLarge(size: Int, limit: Int)
    /// A batch is well formed but not acceptable: no records, inconsistent counts,
    /// an old message format (INVALID_RECORD).
    case invalidRecord(String)
    /// The disk refused the write (KAFKA_STORAGE_ERROR).
    case storage(String)
    /// An idempotent producer skipped or reordered a sequence number (OUT_OF_ORDER_SEQUENCE_NUMBER).
    case outOfOrderSequence(String)
    /// An idempotent producer's epoch is older than the partition has seen (INVALID_PRODUCER_EPOCH).
    case invalidProducerEpoch(String)
    /// The partition knows nothing of this producer and the batch does not start a sequence (UNKNOWN_PRODUCER_ID).
    case unknownProducerID(String)
}

public enum ReadError: Error, Equatable, Sendable {
    /// The offset is before the log start or after the log end (OFFSET_OUT_OF_RANGE).
    case offsetOutOfRange(logStartOffset: Int64, logEndOffset: Int64)
    case storage(String)
}

/// Where an append landed.
public struct AppendResult: Equatable, Sendable {
    public var baseOffset: Int64
    public var lastOffset: Int64
    /// The broker's timestamp when the topic uses LogAppendTime, else -1.
    public var logAppendTime: Int64
    public var logStartOffset: Int64
    /// Bytes appended.
    public var bytes: Int
}

/// One partition's log: an ordered list of segments, the newest being the only one
/// written. Protocol-free apart from the record batch header it reads; usable without
/// any network (see Tests/BrokerTests/Log).
///
/// Not thread-safe: `Partition` wraps it in a lock.
public final class PartitionLog {
    public let directory: String
    public private(set) var config: LogConfig
    private var segments: [LogSegment] = []
    private var cache: TailCache
    /// The first offset a consumer may read; advanced by retention and DeleteRecords.
    public private(set) var logStartOffset: Int64 = 0
    /// Offsets up to here are known to be on disk.
    public private(set) var flushedOffset: Int64 = 0
    /// How many times `flush()` forced appended bytes to disk since the log was opened
    /// (a segment roll's fsync of the old segment is not counted). Tests observe the
    /// durability policy through it.
    private(set) var flushCount = 0
    /// Idempotent producers' sequence state.
    private(set) var producers = ProducerStateTable()

    /// Set by `close()` and `delete()`: from then on appends fail with a storage error and
    /// flushes, retention and compaction do nothing. A request that picked up the
    /// partition just before DeleteTopics removed it gets an error, not a crash.
    public private(set) var isClosed = false
    /// The log end when `delete()` removed the segments.
    private var endOffsetWhenDeleted: Int64 = 0

    /// The offset the next record will get: the high watermark of a single-replica partition.
    public var logEndOffset: Int64 { segments.last?.nextOffset ?? endOffsetWhenDeleted }
    public var sizeInBytes: Int { segments.reduce(0) { $0 + $1.size } }
    public var segmentCount: Int { segments.count }
    public var segmentBaseOffsets: [Int64] { segments.map(\.baseOffset) }

    private static let logStartCheckpoint = "log-start-offset"
    private static let producerSnapshot = "producer-state.snapshot"

    /// Opens the partition in `directory`, creating it when absent. Only the newest
    /// segment is scanned and cut at its first torn or corrupt batch; older segments were
    /// flushed when they were rolled and their indexes are trusted.
    public init(directory: String, config: LogConfig, cacheBytes: Int = 4 << 20) throws {
        self.directory = directory
        self.config = config
        self.cache = TailCache(limitBytes: cacheBytes)
        try FileSystem.makeDirectory(directory)
        let bases = try FileSystem.listDirectory(directory)
            .filter { $0.hasSuffix(".log") }
            .compactMap { Int64($0.dropLast(4)) }
            .sorted()
        for (index, base) in bases.enumerated() {
            let isTail = index == bases.count - 1
            segments.append(try LogSegment(directory: directory, baseOffset: base,
                                           indexIntervalBytes: config.indexIntervalBytes, recover: isTail))
        }
        if segments.isEmpty {
            segments.append(try LogSegment(directory: directory, baseOffset: 0,
                                           indexIntervalBytes: config.indexIntervalBytes, recover: true))
        }
        logStartOffset = segments.first!.baseOffset
        if let text = try? FileSystem.readFile(directory + "/" + Self.logStartCheckpoint),
           let saved = Int64(String(decoding: text, as: UTF8.self).filter { !$0.isWhitespace }) {
            logStartOffset = min(max(logStartOffset, saved), logEndOffset)
        }
        flushedOffset = logEndOffset
        try rebuildProducerState()
    }

    /// Loads the producer snapshot and replays the batch headers written after it; without
    /// a usable snapshot, replays every batch header of the log.
    private func rebuildProducerState() throws {
        var from: Int64 = logStartOffset
        producers = ProducerStateTable()
        if let bytes = try? FileSystem.readFile(directory + "/" + Self.producerSnapshot),
           let (table, offset) = ProducerStateTable.restore(ByteBuffer(bytes: bytes)), offset <= logEndOffset {
            producers = table
            from = offset
        }
        for segment in segments where segment.nextOffset > from {
            try segment.forEachBatchHeader { _, header in
                if header.baseOffset >= from { producers.record(header) }
            }
        }
    }

    private func writeProducerSnapshot() throws {
        let snapshot = producers.snapshot(offset: logEndOffset)
        try FileSystem.writeAtomically(Array(snapshot.readableBytesView), to: directory + "/" + Self.producerSnapshot)
    }

    public func updateConfig(_ config: LogConfig) {
        self.config = config
    }

    // MARK: - Append

    /// Validates the record batches of one Produce partition and appends them with
    /// offsets assigned from the log end. Either every batch is appended or none is.
    /// `now` is wall-clock milliseconds (LogAppendTime and `segment.ms`).
    public func append(_ records: ByteBuffer, now: Int64) throws(AppendError) -> AppendResult {
        guard !isClosed else { throw .storage("\(directory) is closed (topic deleted or broker stopping)") }
        let headers = try Self.validate(records, maxMessageBytes: config.maxMessageBytes,
                                        requireKeys: config.cleanupPolicy.contains(.compact))
        // Idempotent producers: check every batch against the state the earlier ones leave.
        var producerState = producers
        for header in headers {
            switch try producerState.check(header) {
            case .append:
                var predicted = header
                predicted.baseOffset = 0
                producerState.record(predicted)
            case .duplicate(let stored):
                guard headers.count == 1 else {
                    throw .outOfOrderSequence("a retried batch arrived together with new ones")
                }
                return AppendResult(baseOffset: stored.baseOffset, lastOffset: stored.lastOffset, logAppendTime: -1,
                                    logStartOffset: logStartOffset, bytes: 0)
            }
        }
        var data = records  // the one copy: offsets are written into our own bytes, not the request's
        var nextOffset = logEndOffset
        let baseOffset = nextOffset
        var position = data.readerIndex
        var appended: [(ByteBuffer, RecordBatchHeader)] = []
        appended.reserveCapacity(headers.count)
        for var header in headers {
            typealias O = RecordBatchHeader.Offset
            header.baseOffset = nextOffset
            header.partitionLeaderEpoch = 0
            data.setInteger(header.baseOffset, at: position + O.baseOffset)
            data.setInteger(header.partitionLeaderEpoch, at: position + O.partitionLeaderEpoch)
            if config.logAppendTime {
                header.attributes.isLogAppendTime = true
                header.maxTimestamp = now
                data.setInteger(header.attributes.rawValue, at: position + O.attributes)
                data.setInteger(now, at: position + O.maxTimestamp)
                RecordBatchHeader.rewriteCRC(in: &data, at: position)
            }
            appended.append((data.getSlice(at: position, length: header.totalSize)!, header))
            position += header.totalSize
            nextOffset = header.nextOffset
        }
        do {
            for (batch, header) in appended {
                try rollIfNeeded(incoming: batch.readableBytes, now: now)
                try segments.last!.append(batch, header: header, now: now)
                cache.append(batch, baseOffset: header.baseOffset, nextOffset: header.nextOffset)
                producers.record(header)
            }
        } catch {
            throw .storage("\(error)")
        }
        return AppendResult(baseOffset: baseOffset, lastOffset: nextOffset - 1,
                            logAppendTime: config.logAppendTime ? now : -1,
                            logStartOffset: logStartOffset, bytes: records.readableBytes)
    }

    /// Checks every batch of a Produce payload without decoding records.
    static func validate(_ records: ByteBuffer, maxMessageBytes: Int, requireKeys: Bool = false) throws(AppendError) -> [RecordBatchHeader] {
        var headers: [RecordBatchHeader] = []
        var index = records.readerIndex
        guard records.readableBytes > 0 else { throw .invalidRecord("empty record set") }
        while index < records.writerIndex {
            let header: RecordBatchHeader
            do {
                header = try RecordBatchHeader.validate(in: records, at: index)
            } catch {
                switch error {
                case .invalidRecordBatch(let reason) where reason.hasPrefix("magic"):
                    throw .invalidRecord(reason)
                default:
                    throw .corruptMessage(error.description)
                }
            }
            guard header.totalSize <= maxMessageBytes else {
                throw .messageTooLarge(size: header.totalSize, limit: maxMessageBytes)
            }
            guard header.recordCount > 0, header.lastOffsetDelta == header.recordCount - 1 else {
                throw .invalidRecord("batch has \(header.recordCount) records and last offset delta \(header.lastOffsetDelta)")
            }
            if requireKeys && header.attributes.compression == .none {
                // Compaction keeps the last record per key: a record without one has no place (as in Kafka).
                let batch = RecordBatch(header: header, bytes: records.getSlice(at: index, length: header.totalSize)!)
                do {
                    var reader = try RecordReader(batch: batch)
                    while let record = try reader.next() {
                        guard record.key != nil else { throw AppendError.invalidRecord("compacted topic requires a key on every record") }
                    }
                } catch let error as AppendError {
                    throw error
                } catch {
                    throw .corruptMessage("\(error)")
                }
            }
            headers.append(header)
            index += header.totalSize
        }
        return headers
    }

    private func rollIfNeeded(incoming: Int, now: Int64) throws {
        let active = segments.last!
        guard !active.isEmpty else { return }
        let full = active.size + incoming > config.segmentBytes
        let old = active.firstAppendTime.map { now - $0 >= config.segmentMs } ?? false
        if full || old { try roll() }
    }

    /// Starts a new segment at the log end; the old one is flushed so that recovery
    /// never has to look at it again.
    public func roll() throws {
        guard !isClosed, let active = segments.last else { return }
        try active.flush()
        segments.append(try LogSegment(directory: directory, baseOffset: active.nextOffset,
                                       indexIntervalBytes: config.indexIntervalBytes, recover: true))
        try writeProducerSnapshot()
    }

    // MARK: - Read

    /// Whole batches starting with the one that holds `offset` (a consumer may ask for an
    /// offset in the middle of a batch; it gets the whole batch and skips the records
    /// before its position). Nil when `offset` is the log end. At most `maxBytes`, except
    /// that `minOneBatch` returns one larger first batch rather than nothing (KIP-74).
    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool) throws(ReadError) -> ByteBuffer? {
        let end = logEndOffset
        guard offset >= logStartOffset, offset <= end else {
            throw .offsetOutOfRange(logStartOffset: logStartOffset, logEndOffset: end)
        }
        if offset == end { return nil }
        switch cache.read(from: offset, maxBytes: maxBytes, minOneBatch: minOneBatch) {
        case .batches(let bytes): return bytes
        case .empty: return nil
        case .miss: break
        }
        do {
            var index = segmentIndex(containing: offset)
            while index < segments.count {
                switch try segments[index].read(from: offset, maxBytes: maxBytes, minOneBatch: minOneBatch) {
                case .batches(let bytes): return bytes
                case .firstBatchTooLarge: return nil
                case .noBatch: index += 1  // past this segment's end (compaction leaves gaps)
                }
            }
            return nil
        } catch {
            throw .storage("\(error)")
        }
    }

    /// The index of the last segment whose base offset is at most `offset`.
    private func segmentIndex(containing offset: Int64) -> Int {
        var low = 0
        var high = segments.count
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
        }
        return max(0, low - 1)
    }

    /// The first offset whose record timestamp is at least `timestamp` and its timestamp
    /// (ListOffsets by time); nil when every record is older.
    public func offset(forTimestamp timestamp: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        for segment in segments where segment.maxTimestamp >= timestamp && segment.nextOffset > logStartOffset {
            guard let (position, header) = try segment.firstBatch(atOrAfter: timestamp) else { continue }
            let bytes = try segment.batch(at: position, header: header)
            let batch = RecordBatch(header: header, bytes: bytes)
            if let records = try? batch.records() {
                for record in records where record.timestamp >= timestamp && record.offset >= logStartOffset {
                    return (record.offset, record.timestamp)
                }
            } else {
                // Compressed: the batch is the finest grain we can see.
                return (max(header.baseOffset, logStartOffset), header.maxTimestamp)
            }
        }
        return nil
    }

    /// The offset and timestamp of the record with the largest timestamp (ListOffsets -3).
    public func offsetOfMaxTimestamp() throws -> (offset: Int64, timestamp: Int64)? {
        guard let segment = segments.filter({ $0.nextOffset > logStartOffset }).max(by: { $0.maxTimestamp < $1.maxTimestamp }),
              segment.maxTimestamp >= 0 else { return nil }
        var found: (Int64, Int64)?
        try segment.forEachBatchHeader { position, header in
            guard found == nil, header.maxTimestamp == segment.maxTimestamp else { return }
            let batch = RecordBatch(header: header, bytes: try segment.batch(at: position, header: header))
            let record = (try? batch.records())?.first { $0.timestamp == header.maxTimestamp }
            found = (record?.offset ?? header.lastOffset, header.maxTimestamp)
        }
        return found
    }

    // MARK: - Retention and deletion

    /// Deletes whole closed segments past `retention.ms` or beyond `retention.bytes`
    /// (when the cleanup policy includes delete) and advances the log start offset.
    /// Returns the number of segments deleted.
    @discardableResult
    public func applyRetention(now: Int64) throws -> Int {
        guard !isClosed, config.cleanupPolicy.contains(.delete) else { return 0 }
        var deleted = 0
        var excess = config.retentionBytes >= 0 ? Int64(sizeInBytes) - config.retentionBytes : 0
        while segments.count > 1 {
            let oldest = segments[0]
            let expired = config.retentionMs >= 0 && oldest.maxTimestamp >= 0 && now - oldest.maxTimestamp > config.retentionMs
            let oversized = config.retentionBytes >= 0 && excess >= Int64(oldest.size)
            guard expired || oversized else { break }
            excess -= Int64(oldest.size)
            try oldest.delete()
            segments.removeFirst()
            deleted += 1
        }
        if deleted > 0 {
            try advanceLogStart(to: segments[0].baseOffset, checkpoint: false)
        }
        return deleted
    }

    /// DeleteRecords: everything before `offset` becomes unreadable; whole segments below
    /// it are removed. Returns the new log start offset.
    public func deleteRecords(before offset: Int64) throws(ReadError) -> Int64 {
        guard !isClosed else { throw .storage("\(directory) is closed (topic deleted or broker stopping)") }
        let end = logEndOffset
        guard offset >= 0, offset <= end else {
            throw .offsetOutOfRange(logStartOffset: logStartOffset, logEndOffset: end)
        }
        do {
            try advanceLogStart(to: offset, checkpoint: true)
            if offset == end && !segments.last!.isEmpty { try roll() }
            while segments.count > 1 && segments[0].nextOffset <= logStartOffset {
                try segments.removeFirst().delete()
            }
        } catch {
            throw .storage("\(error)")
        }
        return logStartOffset
    }

    private func advanceLogStart(to offset: Int64, checkpoint: Bool) throws {
        guard offset > logStartOffset else { return }
        logStartOffset = offset
        cache.removeBatches(endingAtOrBefore: offset)
        if checkpoint {
            try FileSystem.writeAtomically(Array(String(offset).utf8), to: directory + "/" + Self.logStartCheckpoint)
        }
    }

    // MARK: - Segment access for the cleaner

    /// Every segment but the active one.
    var closedSegments: [LogSegment] { Array(segments.dropLast()) }
    var activeSegmentBaseOffset: Int64 { segments.last!.baseOffset }

    /// Puts a cleaned segment in place of `old`. An empty one is removed instead, unless it
    /// is the first: its base offset is the log start, which compaction does not move.
    func replaceSegmentObject(_ old: LogSegment, with new: LogSegment) throws {
        guard let index = segments.firstIndex(where: { $0 === old }) else { return }
        if new.isEmpty && index > 0 {
            try new.delete()
            segments.remove(at: index)
        } else {
            segments[index] = new
        }
    }

    func clearCache() {
        cache.removeAll()
    }

    // MARK: - Durability and lifecycle

    /// Forces appended bytes to disk. Returns the offset now known to be durable.
    @discardableResult
    public func flush() throws -> Int64 {
        let target = logEndOffset
        guard !isClosed, let active = segments.last, target > flushedOffset else { return flushedOffset }
        try active.flush()
        flushedOffset = target
        flushCount += 1
        return target
    }

    /// What a flush outside the partition's lock needs: the offset it makes durable and
    /// duplicated descriptors of the active segment's files (older segments were synced
    /// when they rolled).
    struct PendingFlush: Sendable {
        let target: Int64
        let descriptors: [SyncDescriptor]

        /// The fsyncs; every descriptor is closed, and the first failure thrown.
        func sync() throws(LogIOError) {
            var failure: LogIOError?
            for descriptor in descriptors {
                do { try descriptor.syncAndClose() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
        }
    }

    /// First half of a flush whose fsyncs run without the lock; nil when all is durable.
    func beginFlush() throws -> PendingFlush? {
        let target = logEndOffset
        guard !isClosed, let active = segments.last, target > flushedOffset else { return nil }
        return PendingFlush(target: target, descriptors: try active.syncDescriptors())
    }

    /// Second half: `pending`'s fsyncs succeeded. Returns the offset now durable.
    func endFlush(_ pending: PendingFlush) -> Int64 {
        flushedOffset = max(flushedOffset, pending.target)
        flushCount += 1
        return flushedOffset
    }

    public func close() {
        guard !isClosed else { return }
        _ = try? flush()
        try? writeProducerSnapshot()
        for segment in segments { segment.close() }
        isClosed = true
    }

    /// Closes and removes every file of the partition.
    public func delete() throws {
        endOffsetWhenDeleted = logEndOffset
        isClosed = true
        for segment in segments { segment.close() }
        segments.removeAll()
        cache.removeAll()
        try FileSystem.removeTree(directory)
    }
}
