import KafkaProtocol
import NIOCore

/// One segment of a partition's log: `<baseOffset>.log` holding record batches exactly
/// as produced (with broker-assigned offsets), beside `<baseOffset>.index` (offset →
/// position) and `<baseOffset>.timeindex` (timestamp → offset). File names are the
/// base offset zero-padded to 20 digits, as Kafka names them.
///
/// Not thread-safe: the owning `PartitionLog` serialises access.
final class LogSegment {
    let baseOffset: Int64
    let directory: String
    private let log: LogFile
    private let offsetIndexFile: LogFile
    private let timeIndexFile: LogFile
    private let indexIntervalBytes: Int

    private(set) var offsetIndex = OffsetIndex()
    private(set) var timeIndex = TimeIndex()
    /// Bytes in the log file.
    private(set) var size = 0
    /// The offset after the last batch (the base offset while empty).
    private(set) var nextOffset: Int64
    /// The largest record timestamp in the segment, -1 while empty.
    private(set) var maxTimestamp: Int64 = -1
    /// When the first batch was appended (milliseconds since the epoch), for `segment.ms`.
    private(set) var firstAppendTime: Int64?
    private var bytesSinceIndexEntry = 0
    private var offsetIndexSize = 0
    private var timeIndexSize = 0

    static func fileName(baseOffset: Int64, suffix: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    var logPath: String { directory + "/" + Self.fileName(baseOffset: baseOffset, suffix: ".log") }
    var isEmpty: Bool { size == 0 }

    /// Opens (or creates) the segment. `recover` scans every batch, checks lengths and
    /// CRCs, cuts the file at the first bad or incomplete batch and rebuilds the indexes;
    /// otherwise the index files are trusted and only the bytes after the last index
    /// entry are read to find the end.
    init(directory: String, baseOffset: Int64, indexIntervalBytes: Int, recover: Bool) throws {
        self.directory = directory
        self.baseOffset = baseOffset
        self.nextOffset = baseOffset
        self.indexIntervalBytes = indexIntervalBytes
        self.log = try LogFile(path: directory + "/" + Self.fileName(baseOffset: baseOffset, suffix: ".log"), create: true)
        self.offsetIndexFile = try LogFile(path: directory + "/" + Self.fileName(baseOffset: baseOffset, suffix: ".index"), create: true)
        self.timeIndexFile = try LogFile(path: directory + "/" + Self.fileName(baseOffset: baseOffset, suffix: ".timeindex"), create: true)
        self.size = try log.size()
        if recover {
            try self.recover()
        } else {
            try self.loadIndexes()
        }
    }

    // MARK: - Appending

    /// Appends one batch whose offsets are already assigned. `now` is wall-clock milliseconds.
    func append(_ batch: ByteBuffer, header: RecordBatchHeader, now: Int64) throws {
        if size == 0 || bytesSinceIndexEntry >= indexIntervalBytes {
            try addIndexEntries(relativeOffset: UInt32(header.baseOffset - baseOffset), position: size,
                                timestamp: max(maxTimestamp, header.maxTimestamp))
            bytesSinceIndexEntry = 0
        }
        try log.write(batch, at: size)
        size += batch.readableBytes
        bytesSinceIndexEntry += batch.readableBytes
        nextOffset = header.nextOffset
        maxTimestamp = max(maxTimestamp, header.maxTimestamp)
        if firstAppendTime == nil { firstAppendTime = now }
    }

    private func addIndexEntries(relativeOffset: UInt32, position: Int, timestamp: Int64) throws {
        let offsetEntry = OffsetIndex.Entry(relativeOffset: relativeOffset, position: UInt32(position))
        offsetIndex.append(offsetEntry)
        try OffsetIndex.encode(offsetEntry).withUnsafeBytes { try offsetIndexFile.write($0, at: offsetIndexSize) }
        offsetIndexSize += OffsetIndex.entrySize
        let timeEntry = TimeIndex.Entry(timestamp: timestamp, relativeOffset: relativeOffset)
        if timeIndex.entries.last.map({ timeEntry.timestamp >= $0.timestamp }) ?? true {
            timeIndex.append(timeEntry)
            try TimeIndex.encode(timeEntry).withUnsafeBytes { try timeIndexFile.write($0, at: timeIndexSize) }
            timeIndexSize += TimeIndex.entrySize
        }
    }

    // MARK: - Reading

    /// The header of the batch at `position`, or nil past the end or at a torn batch.
    func header(at position: Int) throws -> RecordBatchHeader? {
        guard position + RecordBatchHeader.size <= size else { return nil }
        let bytes = try log.read(at: position, length: RecordBatchHeader.size)
        guard let header = try? RecordBatchHeader.peek(in: bytes, at: bytes.readerIndex),
              position + header.totalSize <= size else { return nil }
        return header
    }

    /// The position of the first batch whose last offset is at least `offset`, or nil when
    /// every batch in the segment ends before it.
    func position(ofBatchContaining offset: Int64) throws -> (position: Int, header: RecordBatchHeader)? {
        let relative = UInt32(clamping: max(0, offset - baseOffset))
        var position = offsetIndex.position(for: relative)
        while let header = try header(at: position) {
            if header.lastOffset >= offset { return (position, header) }
            position += header.totalSize
        }
        return nil
    }

    enum ReadOutcome {
        /// No batch in this segment ends at or after the offset.
        case noBatch
        /// The first batch is larger than allowed and `minOneBatch` was false.
        case firstBatchTooLarge
        case batches(ByteBuffer)
    }

    /// Whole batches starting with the one that holds `offset`, at most `maxBytes` of them
    /// unless `minOneBatch` lets a single larger first batch through (KIP-74).
    func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool) throws -> ReadOutcome {
        guard let (start, first) = try position(ofBatchContaining: offset) else { return .noBatch }
        var length = min(maxBytes, size - start)
        if first.totalSize > length {
            guard minOneBatch else { return .firstBatchTooLarge }
            length = first.totalSize
        }
        let bytes = try log.read(at: start, length: length)
        guard let batches = Self.wholeBatches(bytes) else { return .noBatch }
        return .batches(batches)
    }

    /// Cuts `bytes` after its last complete batch.
    static func wholeBatches(_ bytes: ByteBuffer) -> ByteBuffer? {
        var end = bytes.readerIndex
        while bytes.writerIndex - end >= RecordBatchHeader.lengthPrefixSize,
              let length = bytes.getInteger(at: end + RecordBatchHeader.Offset.batchLength, as: Int32.self),
              length > 0, bytes.writerIndex - end >= RecordBatchHeader.lengthPrefixSize + Int(length) {
            end += RecordBatchHeader.lengthPrefixSize + Int(length)
        }
        guard end > bytes.readerIndex else { return nil }
        return bytes.getSlice(at: bytes.readerIndex, length: end - bytes.readerIndex)
    }

    /// Reads the batch at `position` in full.
    func batch(at position: Int, header: RecordBatchHeader) throws -> ByteBuffer {
        try log.read(at: position, length: header.totalSize)
    }

    /// The offset and position of the first batch whose max timestamp is at least `timestamp`.
    func firstBatch(atOrAfter timestamp: Int64) throws -> (position: Int, header: RecordBatchHeader)? {
        guard maxTimestamp >= timestamp else { return nil }
        var position = 0
        if let relative = timeIndex.startOffset(for: timestamp) {
            position = offsetIndex.position(for: relative)
        }
        while let header = try header(at: position) {
            if header.maxTimestamp >= timestamp { return (position, header) }
            position += header.totalSize
        }
        return nil
    }

    /// Every batch header in order (for recovery, compaction and producer-state rebuilds).
    func forEachBatchHeader(from position: Int = 0, _ body: (Int, RecordBatchHeader) throws -> Void) throws {
        var position = position
        while let header = try header(at: position) {
            try body(position, header)
            position += header.totalSize
        }
    }

    // MARK: - Durability and lifecycle

    func flush() throws {
        try log.sync()
        try offsetIndexFile.sync()
        try timeIndexFile.sync()
    }

    /// Duplicated descriptors of the segment's three files, to fsync without the lock.
    func syncDescriptors() throws(LogIOError) -> [SyncDescriptor] {
        var descriptors: [SyncDescriptor] = []
        do {
            for file in [log, offsetIndexFile, timeIndexFile] { descriptors.append(try file.duplicateForSync()) }
        } catch {
            for descriptor in descriptors { descriptor.close() }
            throw error
        }
        return descriptors
    }

    func close() {
        log.close()
        offsetIndexFile.close()
        timeIndexFile.close()
    }

    func delete() throws {
        close()
        for suffix in [".log", ".index", ".timeindex"] {
            try FileSystem.remove(directory + "/" + Self.fileName(baseOffset: baseOffset, suffix: suffix))
        }
    }

    // MARK: - Recovery

    /// Validates every batch from the start; cuts the log at the first batch that is
    /// torn, has a bad CRC, or does not continue the offsets, and rebuilds both indexes.
    /// Returns the number of bytes cut.
    @discardableResult
    func recover() throws -> Int {
        offsetIndex.removeAll()
        timeIndex.removeAll()
        offsetIndexSize = 0
        timeIndexSize = 0
        try offsetIndexFile.truncate(to: 0)
        try timeIndexFile.truncate(to: 0)
        let fileSize = size
        size = 0
        nextOffset = baseOffset
        maxTimestamp = -1
        bytesSinceIndexEntry = 0
        var position = 0
        let chunkSize = 1 << 20
        scanning: while fileSize - position >= RecordBatchHeader.size {
            var chunk = try log.read(at: position, length: min(chunkSize, fileSize - position))
            while chunk.readableBytes >= RecordBatchHeader.size {
                let length = Int(chunk.getInteger(at: chunk.readerIndex + RecordBatchHeader.Offset.batchLength, as: Int32.self)!)
                guard length >= RecordBatchHeader.size - RecordBatchHeader.lengthPrefixSize else { break scanning }
                let total = RecordBatchHeader.lengthPrefixSize + length
                guard position + total <= fileSize else { break scanning }  // torn tail
                if total > chunk.readableBytes {
                    // Read on from this batch: a chunk that starts here holds it whole,
                    // or (for a batch larger than a chunk) a read of exactly its size.
                    chunk = try log.read(at: position, length: max(total, min(chunkSize, fileSize - position)))
                    continue
                }
                guard let header = try? RecordBatchHeader.validate(in: chunk, at: chunk.readerIndex),
                      header.baseOffset >= nextOffset else { break scanning }
                if size == 0 || bytesSinceIndexEntry >= indexIntervalBytes {
                    try addIndexEntries(relativeOffset: UInt32(header.baseOffset - baseOffset), position: size,
                                        timestamp: max(maxTimestamp, header.maxTimestamp))
                    bytesSinceIndexEntry = 0
                }
                chunk.moveReaderIndex(forwardBy: total)
                size += total
                position += total
                bytesSinceIndexEntry += total
                nextOffset = header.nextOffset
                maxTimestamp = max(maxTimestamp, header.maxTimestamp)
            }
        }
        let cut = fileSize - size
        if cut > 0 {
            try log.truncate(to: size)
            try log.sync()
        }
        return cut
    }

    /// Loads the index files of a closed segment and finds its end by scanning the batches
    /// after the last index entry. A missing or damaged index is rebuilt by a full scan.
    private func loadIndexes() throws {
        let offsetBytes = try offsetIndexFile.read(at: 0, length: try offsetIndexFile.size())
        let timeBytes = try timeIndexFile.read(at: 0, length: try timeIndexFile.size())
        offsetIndex = OffsetIndex.decode(offsetBytes, logSize: size)
        timeIndex = TimeIndex.decode(timeBytes)
        let expectedOffsetBytes = offsetIndex.entries.count * OffsetIndex.entrySize
        if size > 0 && (offsetIndex.entries.isEmpty || expectedOffsetBytes != offsetBytes.readableBytes
                         || timeIndex.entries.count * TimeIndex.entrySize != timeBytes.readableBytes) {
            try recover()
            return
        }
        offsetIndexSize = expectedOffsetBytes
        timeIndexSize = timeIndex.entries.count * TimeIndex.entrySize
        maxTimestamp = timeIndex.entries.last?.timestamp ?? -1
        var position = offsetIndex.lastPosition
        var last: RecordBatchHeader?
        while let header = try header(at: position) {
            last = header
            maxTimestamp = max(maxTimestamp, header.maxTimestamp)
            bytesSinceIndexEntry += header.totalSize
            position += header.totalSize
        }
        if let last { nextOffset = last.nextOffset }
        if position != size {
            // The file holds bytes the scan could not account for: do not trust it.
            try recover()
        }
    }
}
