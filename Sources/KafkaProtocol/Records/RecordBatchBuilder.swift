import NIOCore

/// Builds one uncompressed record batch (magic 2), as a producer sends it.
///
/// Records are appended as they come; `finish()` fills in the header and the CRC.
/// Offsets are relative (the broker assigns the base offset), timestamps are deltas
/// from the first record's.
public struct RecordBatchBuilder: Sendable {
    private var buffer: ByteBuffer
    private let start: Int
    private var baseTimestamp: Int64 = 0
    private var maxTimestamp: Int64 = -1
    public private(set) var recordCount: Int32 = 0

    public var producerID: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var isTransactional: Bool
    public var partitionLeaderEpoch: Int32

    public init(
        allocator: ByteBufferAllocator = ByteBufferAllocator(),
        capacity: Int = 1024,
        producerID: Int64 = -1,
        producerEpoch: Int16 = -1,
        baseSequence: Int32 = -1,
        isTransactional: Bool = false,
        partitionLeaderEpoch: Int32 = -1
    ) {
        self.buffer = allocator.buffer(capacity: max(capacity, RecordBatchHeader.size))
        self.start = self.buffer.writerIndex
        self.buffer.writeRepeatingByte(0, count: RecordBatchHeader.size)
        self.producerID = producerID
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.isTransactional = isTransactional
        self.partitionLeaderEpoch = partitionLeaderEpoch
    }

    /// Bytes the batch would take if finished now.
    public var sizeInBytes: Int { buffer.writerIndex - start }
    public var isEmpty: Bool { recordCount == 0 }

    /// The bytes one more record would add (close enough to decide when a batch is full).
    public static func estimatedSize(keyLength: Int?, valueLength: Int?, headers: [RecordHeader] = []) -> Int {
        var size = 1 + 10 + 5 + 5 + (keyLength ?? 0) + 5 + (valueLength ?? 0) + 5
        for header in headers { size += 10 + header.key.utf8.count + (header.value?.readableBytes ?? 0) }
        return size
    }

    public mutating func append(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        if recordCount == 0 { baseTimestamp = timestamp }
        maxTimestamp = max(maxTimestamp, timestamp)
        let timestampDelta = timestamp - baseTimestamp
        let offsetDelta = Int64(recordCount)

        var bodySize = 1 + ByteBuffer.varlongSize(timestampDelta) + ByteBuffer.varlongSize(offsetDelta)
        bodySize += Self.bytesSize(key) + Self.bytesSize(value)
        bodySize += ByteBuffer.varlongSize(Int64(headers.count))
        for header in headers {
            let keyLength = header.key.utf8.count
            bodySize += ByteBuffer.varlongSize(Int64(keyLength)) + keyLength + Self.bytesSize(header.value)
        }

        buffer.writeVarint(Int32(bodySize))
        buffer.writeInteger(Int8(0))
        buffer.writeVarlong(timestampDelta)
        buffer.writeVarint(Int32(offsetDelta))
        Self.writeBytes(key, into: &buffer)
        Self.writeBytes(value, into: &buffer)
        buffer.writeVarint(Int32(headers.count))
        for header in headers {
            buffer.writeVarint(Int32(header.key.utf8.count))
            buffer.writeString(header.key)
            Self.writeBytes(header.value, into: &buffer)
        }
        recordCount += 1
    }

    /// Convenience for byte arrays and strings.
    public mutating func append(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []) {
        append(timestamp: timestamp, key: key.map { ByteBuffer(bytes: $0) }, value: value.map { ByteBuffer(bytes: $0) }, headers: headers)
    }

    /// Completes the header and CRC and returns the batch bytes.
    public func finish() -> ByteBuffer {
        var batch = buffer
        let length = Int32(batch.writerIndex - start - RecordBatchHeader.lengthPrefixSize)
        typealias O = RecordBatchHeader.Offset
        var attributes = RecordBatchAttributes(rawValue: 0)
        attributes.isTransactional = isTransactional
        batch.setInteger(Int64(0), at: start + O.baseOffset)
        batch.setInteger(length, at: start + O.batchLength)
        batch.setInteger(partitionLeaderEpoch, at: start + O.partitionLeaderEpoch)
        batch.setInteger(Int8(2), at: start + O.magic)
        batch.setInteger(attributes.rawValue, at: start + O.attributes)
        batch.setInteger(max(0, recordCount - 1), at: start + O.lastOffsetDelta)
        batch.setInteger(baseTimestamp, at: start + O.baseTimestamp)
        batch.setInteger(recordCount == 0 ? -1 : maxTimestamp, at: start + O.maxTimestamp)
        batch.setInteger(producerID, at: start + O.producerID)
        batch.setInteger(producerEpoch, at: start + O.producerEpoch)
        batch.setInteger(baseSequence, at: start + O.baseSequence)
        batch.setInteger(recordCount, at: start + O.recordCount)
        RecordBatchHeader.rewriteCRC(in: &batch, at: start)
        return batch
    }

    private static func bytesSize(_ bytes: ByteBuffer?) -> Int {
        guard let bytes else { return 1 }
        return ByteBuffer.varlongSize(Int64(bytes.readableBytes)) + bytes.readableBytes
    }

    fileprivate static func writeBytes(_ bytes: ByteBuffer?, into buffer: inout ByteBuffer) {
        guard let bytes else {
            buffer.writeVarint(-1)
            return
        }
        buffer.writeVarint(Int32(bytes.readableBytes))
        buffer.writeImmutableBuffer(bytes)
    }
}

extension RecordBatchBuilder {
    /// Rewrites a batch keeping only `records` (a subset of its own, in order), as log
    /// compaction does: the base offset, last offset delta, timestamps, producer fields and
    /// attributes of the original stay, so offsets keep their meaning; each record keeps
    /// its own offset and timestamp and its key, value and headers byte for byte.
    public static func rewrite(_ header: RecordBatchHeader, keeping records: [Record]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(header.totalSize)
        buffer.writeRepeatingByte(0, count: RecordBatchHeader.size)
        for record in records {
            let timestampDelta = record.timestamp - header.baseTimestamp
            let offsetDelta = record.offset - header.baseOffset
            var body = ByteBuffer()
            body.writeInteger(Int8(0))
            body.writeVarlong(timestampDelta)
            body.writeVarlong(offsetDelta)
            writeBytes(record.key, into: &body)
            writeBytes(record.value, into: &body)
            body.writeVarint(Int32(record.headers.count))
            for recordHeader in record.headers {
                body.writeVarint(Int32(recordHeader.key.utf8.count))
                body.writeString(recordHeader.key)
                writeBytes(recordHeader.value, into: &body)
            }
            buffer.writeVarint(Int32(body.readableBytes))
            buffer.writeBuffer(&body)
        }
        typealias O = RecordBatchHeader.Offset
        buffer.setInteger(header.baseOffset, at: O.baseOffset)
        buffer.setInteger(Int32(buffer.readableBytes - RecordBatchHeader.lengthPrefixSize), at: O.batchLength)
        buffer.setInteger(header.partitionLeaderEpoch, at: O.partitionLeaderEpoch)
        buffer.setInteger(Int8(2), at: O.magic)
        buffer.setInteger(header.attributes.rawValue, at: O.attributes)
        buffer.setInteger(header.lastOffsetDelta, at: O.lastOffsetDelta)
        buffer.setInteger(header.baseTimestamp, at: O.baseTimestamp)
        buffer.setInteger(header.maxTimestamp, at: O.maxTimestamp)
        buffer.setInteger(header.producerID, at: O.producerID)
        buffer.setInteger(header.producerEpoch, at: O.producerEpoch)
        buffer.setInteger(header.baseSequence, at: O.baseSequence)
        buffer.setInteger(Int32(records.count), at: O.recordCount)
        RecordBatchHeader.rewriteCRC(in: &buffer, at: 0)
        return buffer
    }
}
