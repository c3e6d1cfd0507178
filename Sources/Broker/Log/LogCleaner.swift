import KafkaProtocol
import NIOCore

/// What one compaction pass did.
public struct CompactionResult: Equatable, Sendable {
    public var segmentsCleaned: Int
    public var recordsBefore: Int
    public var recordsAfter: Int
    public var bytesBefore: Int
    public var bytesAfter: Int
}

/// Log compaction for topics with `cleanup.policy=compact`: every closed segment keeps,
/// for each key, only the record with the key's highest offset among closed segments;
/// tombstones (null values) older than `delete.retention.ms` go too. The active segment
/// is never rewritten, so a key's latest record is always there (in it, or kept by the
/// cleaner).
///
/// This is the one place the broker rewrites stored batches, as Kafka's cleaner does:
/// surviving records keep their offsets, timestamps, keys, values and headers byte for
/// byte; a batch that loses no record is kept exactly as produced; compressed batches,
/// which the broker cannot open, are kept whole.
extension PartitionLog {
    private static let cleanerCheckpoint = "cleaner-offset-checkpoint"

    /// The offset up to which the log has been cleaned.
    var cleanedUpTo: Int64 {
        guard let bytes = try? FileSystem.readFile(directory + "/" + Self.cleanerCheckpoint),
              let offset = Int64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }) else { return 0 }
        return offset
    }

    /// Cleans the closed segments when at least `min.cleanable.dirty.ratio` of them is new
    /// since the last pass (or always, with `force`). Nil when there was nothing to do.
    @discardableResult
    public func compact(now: Int64, force: Bool = false) throws -> CompactionResult? {
        guard !isClosed, config.cleanupPolicy.contains(.compact) else { return nil }
        let closed = closedSegments
        guard !closed.isEmpty else { return nil }
        let cleanedOffset = cleanedUpTo
        let total = closed.reduce(0) { $0 + $1.size }
        let dirty = closed.filter { $0.nextOffset > cleanedOffset }.reduce(0) { $0 + $1.size }
        guard dirty > 0, force || Double(dirty) / Double(max(total, 1)) >= config.minCleanableDirtyRatio else { return nil }

        // 1. The last offset of every key in the closed segments.
        var lastOffsetOfKey: [ByteBuffer: Int64] = [:]
        for segment in closed {
            try forEachUncompressedRecord(in: segment) { record in
                if let key = record.key { lastOffsetOfKey[key] = record.offset }
            }
        }

        // 2. Rewrite each closed segment with what survives.
        var result = CompactionResult(segmentsCleaned: 0, recordsBefore: 0, recordsAfter: 0, bytesBefore: total, bytesAfter: 0)
        let tombstoneHorizon = now - config.deleteRetentionMs
        var replacements: [(old: LogSegment, batches: [(ByteBuffer, RecordBatchHeader)])] = []
        for segment in closed {
            var kept: [(ByteBuffer, RecordBatchHeader)] = []
            var changed = false
            try segment.forEachBatchHeader { position, header in
                let bytes = try segment.batch(at: position, header: header)
                guard header.attributes.compression == .none, !header.attributes.isControl else {
                    kept.append((bytes, header))
                    return
                }
                let records = try RecordBatch(header: header, bytes: bytes).records()
                let survivors = records.filter { record in
                    guard let key = record.key, lastOffsetOfKey[key] == record.offset else { return false }
                    return record.value != nil || record.timestamp >= tombstoneHorizon
                }
                result.recordsBefore += records.count
                result.recordsAfter += survivors.count
                if survivors.count == records.count {
                    kept.append((bytes, header))
                } else {
                    changed = true
                    if !survivors.isEmpty {
                        let rewritten = RecordBatchBuilder.rewrite(header, keeping: survivors)
                        kept.append((rewritten, try RecordBatchHeader.peek(in: rewritten, at: 0)))
                    }
                }
            }
            if changed { replacements.append((segment, kept)) }
        }

        // 3. Swap the cleaned segments in.
        for (old, batches) in replacements {
            try replaceSegment(old, with: batches, now: now)
            result.segmentsCleaned += 1
        }
        result.bytesAfter = closedSegments.reduce(0) { $0 + $1.size }
        try FileSystem.writeAtomically(Array(String(activeSegmentBaseOffset).utf8), to: directory + "/" + Self.cleanerCheckpoint)
        clearCache()
        return result
    }

    private func forEachUncompressedRecord(in segment: LogSegment, _ body: (Record) -> Void) throws {
        try segment.forEachBatchHeader { position, header in
            guard header.attributes.compression == .none, !header.attributes.isControl else { return }
            let batch = RecordBatch(header: header, bytes: try segment.batch(at: position, header: header))
            for record in try batch.records() { body(record) }
        }
    }

    /// Writes `batches` as the new content of `old`: into a scratch directory first, then
    /// renamed over the original files. The old indexes are removed before the log file is
    /// replaced, so a crash in between leaves a segment whose indexes are rebuilt on start.
    private func replaceSegment(_ old: LogSegment, with batches: [(ByteBuffer, RecordBatchHeader)], now: Int64) throws {
        let scratch = directory + "/.cleaning"
        try FileSystem.removeTree(scratch)
        try FileSystem.makeDirectory(scratch)
        let cleaned = try LogSegment(directory: scratch, baseOffset: old.baseOffset, indexIntervalBytes: config.indexIntervalBytes, recover: true)
        for (bytes, header) in batches { try cleaned.append(bytes, header: header, now: now) }
        try cleaned.flush()
        cleaned.close()
        old.close()
        let name = { (suffix: String) in LogSegment.fileName(baseOffset: old.baseOffset, suffix: suffix) }
        try FileSystem.remove(directory + "/" + name(".index"))
        try FileSystem.remove(directory + "/" + name(".timeindex"))
        try FileSystem.rename(scratch + "/" + name(".log"), to: directory + "/" + name(".log"))
        try FileSystem.rename(scratch + "/" + name(".index"), to: directory + "/" + name(".index"))
        try FileSystem.rename(scratch + "/" + name(".timeindex"), to: directory + "/" + name(".timeindex"))
        try FileSystem.removeTree(scratch)
        FileSystem.syncDirectory(of: directory + "/" + name(".log"))
        try replaceSegmentObject(old, with: LogSegment(directory: directory, baseOffset: old.baseOffset,
                                                       indexIntervalBytes: config.indexIntervalBytes, recover: false))
    }
}
