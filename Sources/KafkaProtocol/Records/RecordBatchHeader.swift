import NIOCore

/// The fixed 61-byte header of a record batch, magic 2 (KIP-98):
///
/// ```
/// baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
/// attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
/// producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records...
/// ```
///
/// `batchLength` counts the bytes after itself; the CRC-32C covers `attributes` to the end.
public struct RecordBatchHeader: Hashable, Sendable {
    /// Bytes in the header, records start after.
    public static let size = 61
    /// Bytes before `batchLength` ends: a batch occupies `lengthPrefixSize + batchLength` bytes.
    public static let lengthPrefixSize = 12
    /// Byte offsets of fields within a batch.
    public enum Offset {
        public static let baseOffset = 0
        public static let batchLength = 8
        public static let partitionLeaderEpoch = 12
        public static let magic = 16
        public static let crc = 17
        public static let attributes = 21
        public static let lastOffsetDelta = 23
        public static let baseTimestamp = 27
        public static let maxTimestamp = 35
        public static let producerID = 43
        public static let producerEpoch = 51
        public static let baseSequence = 53
        public static let recordCount = 57
    }

    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: RecordBatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerID: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    /// Total bytes the batch occupies, header included.
    public var totalSize: Int { Self.lengthPrefixSize + Int(batchLength) }
    /// The offset of the last record in the batch.
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    /// The offset after the batch.
    public var nextOffset: Int64 { lastOffset + 1 }
    /// The sequence number of the last record (for idempotent producers).
    public var lastSequence: Int32 {
        baseSequence < 0 ? -1 : Int32(truncatingIfNeeded: (Int64(baseSequence) + Int64(lastOffsetDelta)) % (Int64(Int32.max) + 1))
    }
    public var hasProducerID: Bool { producerID >= 0 }

    /// Reads the header at `index` without moving any reader index. Checks only that the
    /// bytes exist and the magic is 2; `validate` also checks length and CRC.
    public static func peek(in buffer: ByteBuffer, at index: Int) throws(KafkaProtocolError) -> RecordBatchHeader {
        guard index >= buffer.readerIndex, buffer.writerIndex - index >= Self.size else {
            throw .truncated(what: "record batch header", needed: Self.size, available: max(0, buffer.writerIndex - index))
        }
        let magic = buffer.getInteger(at: index + Offset.magic, as: Int8.self)!
        guard magic == 2 else {
            throw .invalidRecordBatch(reason: "magic \(magic) (only record batch v2 is supported)")
        }
        return RecordBatchHeader(
            baseOffset: buffer.getInteger(at: index + Offset.baseOffset)!,
            batchLength: buffer.getInteger(at: index + Offset.batchLength)!,
            partitionLeaderEpoch: buffer.getInteger(at: index + Offset.partitionLeaderEpoch)!,
            magic: magic,
            crc: buffer.getInteger(at: index + Offset.crc)!,
            attributes: RecordBatchAttributes(rawValue: buffer.getInteger(at: index + Offset.attributes)!),
            lastOffsetDelta: buffer.getInteger(at: index + Offset.lastOffsetDelta)!,
            baseTimestamp: buffer.getInteger(at: index + Offset.baseTimestamp)!,
            maxTimestamp: buffer.getInteger(at: index + Offset.maxTimestamp)!,
            producerID: buffer.getInteger(at: index + Offset.producerID)!,
            producerEpoch: buffer.getInteger(at: index + Offset.producerEpoch)!,
            baseSequence: buffer.getInteger(at: index + Offset.baseSequence)!,
            recordCount: buffer.getInteger(at: index + Offset.recordCount)!
        )
    }

    /// Checks the batch starting at `index`: the header is complete, the magic is 2, the
    /// announced length fits the buffer and is large enough for a header, and the CRC-32C
    /// matches. Records are not decoded, and nothing is copied.
    public static func validate(in buffer: ByteBuffer, at index: Int) throws(KafkaProtocolError) -> RecordBatchHeader {
        let header = try peek(in: buffer, at: index)
        guard Int(header.batchLength) >= Self.size - Self.lengthPrefixSize else {
            throw .invalidRecordBatch(reason: "batch length \(header.batchLength) is shorter than a batch header")
        }
        guard buffer.writerIndex - index >= header.totalSize else {
            throw .truncated(what: "record batch", needed: header.totalSize, available: buffer.writerIndex - index)
        }
        guard header.lastOffsetDelta >= 0, header.recordCount >= 0 else {
            throw .invalidRecordBatch(reason: "negative record count or offset delta")
        }
        let computed = buffer.withUnsafeReadableBytes { bytes in
            let start = index - buffer.readerIndex + Offset.attributes
            let end = index - buffer.readerIndex + header.totalSize
            return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
        guard computed == header.crc else {
            throw .crcMismatch(stored: header.crc, computed: computed)
        }
        return header
    }

    /// Recomputes and stores the CRC of the batch at `index` after a header field inside
    /// the checksummed span changed (log-append time).
    public static func rewriteCRC(in buffer: inout ByteBuffer, at index: Int) {
        let length = Int(buffer.getInteger(at: index + Offset.batchLength, as: Int32.self) ?? 0)
        let crc = buffer.withUnsafeReadableBytes { bytes in
            let start = index - buffer.readerIndex + Offset.attributes
            let end = index - buffer.readerIndex + Self.lengthPrefixSize + length
            return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
        buffer.setInteger(crc, at: index + Offset.crc)
    }
}

/// The batch attributes bit field.
public struct RecordBatchAttributes: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Bits 0–2: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
    public var compression: CompressionCodec {
        get { CompressionCodec(rawValue: Int8(rawValue & 0x7)) ?? .unknown }
        set { rawValue = (rawValue & ~0x7) | Int16(newValue.rawValue & 0x7) }
    }
    /// Bit 3: timestamps are the broker's log-append time rather than the producer's create time.
    public var isLogAppendTime: Bool {
        get { rawValue & 0x8 != 0 }
        set { rawValue = newValue ? rawValue | 0x8 : rawValue & ~0x8 }
    }
    /// Bit 4: part of a transaction.
    public var isTransactional: Bool {
        get { rawValue & 0x10 != 0 }
        set { rawValue = newValue ? rawValue | 0x10 : rawValue & ~0x10 }
    }
    /// Bit 5: a control batch (transaction markers).
    public var isControl: Bool {
        get { rawValue & 0x20 != 0 }
        set { rawValue = newValue ? rawValue | 0x20 : rawValue & ~0x20 }
    }
}

public enum CompressionCodec: Int8, Sendable, Hashable {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4
    case unknown = 7
}
