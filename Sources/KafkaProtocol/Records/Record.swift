import NIOCore

/// One record of a batch, with absolute offset and timestamp. `key`, `value` and header
/// values are slices of the batch's buffer: reading a record copies no payload bytes.
public struct Record: Hashable, Sendable {
    public var offset: Int64
    public var timestamp: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(offset: Int64, timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }
}

public struct RecordHeader: Hashable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}

/// A record batch (magic 2) viewed in place: the header and the bytes of the whole batch.
public struct RecordBatch: Sendable {
    public let header: RecordBatchHeader
    /// The whole batch, header included.
    public let bytes: ByteBuffer

    /// Wraps the batch at the start of `bytes`, validating its length and CRC.
    public init(validating bytes: ByteBuffer) throws(KafkaProtocolError) {
        let header = try RecordBatchHeader.validate(in: bytes, at: bytes.readerIndex)
        self.header = header
        self.bytes = bytes.getSlice(at: bytes.readerIndex, length: header.totalSize)!
    }

    /// Wraps a batch already validated (read back from our own log, say).
    public init(header: RecordBatchHeader, bytes: ByteBuffer) {
        self.header = header
        self.bytes = bytes
    }

    /// Calls `body` with every record in order. Throws for compressed batches (which this
    /// reader cannot inflate) and for records that run past the batch.
    @inlinable
    public func forEachRecord(_ body: (Record) throws -> Void) throws {
        var reader = try RecordReader(batch: self)
        while let record = try reader.next() {
            try body(record)
        }
    }

    /// All records, decoded.
    public func records() throws(KafkaProtocolError) -> [Record] {
        var reader = try RecordReader(batch: self)
        var records: [Record] = []
        records.reserveCapacity(Int(header.recordCount))
        while let record = try reader.next() {
            records.append(record)
        }
        return records
    }
}

/// Walks the records of one uncompressed batch.
public struct RecordReader: Sendable {
    @usableFromInline var buffer: ByteBuffer
    @usableFromInline let header: RecordBatchHeader
    @usableFromInline var remaining: Int32

    @inlinable
    public init(batch: RecordBatch) throws(KafkaProtocolError) {
        let compression = batch.header.attributes.compression
        guard compression == .none else {
            throw .unsupportedCompression(codec: compression.rawValue)
        }
        var buffer = batch.bytes
        buffer.moveReaderIndex(forwardBy: RecordBatchHeader.size)
        self.buffer = buffer
        self.header = batch.header
        self.remaining = batch.header.recordCount
    }

    @inlinable
    public mutating func next() throws(KafkaProtocolError) -> Record? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        let length = Int(try buffer.readVarint("record length"))
        guard length >= 0, var body = buffer.readSlice(length: length) else {
            throw .invalidRecordBatch(reason: "record length \(length) runs past the batch")
        }
        _ = try body.readKafkaInteger(Int8.self, "record attributes")
        let timestampDelta = try body.readVarlong("record timestamp delta")
        let offsetDelta = try body.readVarint("record offset delta")
        let key = try body.readRecordBytes("record key")
        let value = try body.readRecordBytes("record value")
        let headerCount = try body.readVarint("record header count")
        var headers: [RecordHeader] = []
        if headerCount > 0 {
            guard Int(headerCount) <= body.readableBytes else {
                throw .invalidRecordBatch(reason: "record header count \(headerCount) runs past the record")
            }
            headers.reserveCapacity(Int(headerCount))
            for _ in 0..<headerCount {
                let keyLength = Int(try body.readVarint("record header key length"))
                guard keyLength >= 0, keyLength <= body.readableBytes,
                      let headerKey = body.readString(length: keyLength) else {
                    throw .invalidRecordBatch(reason: "record header key runs past the record")
                }
                headers.append(RecordHeader(key: headerKey, value: try body.readRecordBytes("record header value")))
            }
        }
        let timestamp = header.attributes.isLogAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta
        return Record(
            offset: header.baseOffset + Int64(offsetDelta),
            timestamp: timestamp,
            key: key,
            value: value,
            headers: headers
        )
    }
}

extension ByteBuffer {
    /// A record's varint-length-prefixed bytes (-1 is null), as a slice.
    @inlinable
    mutating func readRecordBytes(_ what: StaticString) throws(KafkaProtocolError) -> ByteBuffer? {
        let length = Int(try self.readVarint(what))
        if length == -1 { return nil }
        guard length >= 0, let slice = self.readSlice(length: length) else {
            throw .invalidRecordBatch(reason: "\(what) of \(length) bytes runs past the record")
        }
        return slice
    }
}

/// Iterates over the batches in a buffer of concatenated record batches (a Produce
/// request's records, a Fetch response's records, a log segment).
public struct RecordBatchSequence: Sequence, Sendable {
    public let buffer: ByteBuffer
    /// Check CRCs while iterating (off when reading data whose integrity was checked on the way in).
    public let verifyCRC: Bool

    public init(_ buffer: ByteBuffer, verifyCRC: Bool = true) {
        self.buffer = buffer
        self.verifyCRC = verifyCRC
    }

    public func makeIterator() -> Iterator {
        Iterator(buffer: buffer, verifyCRC: verifyCRC)
    }

    /// Yields complete batches. A trailing partial batch (a fetch response cut by
    /// max_bytes) ends the iteration quietly, as the protocol allows; a corrupt batch
    /// sets `error` and ends it.
    public struct Iterator: IteratorProtocol, Sendable {
        var buffer: ByteBuffer
        let verifyCRC: Bool
        public private(set) var error: KafkaProtocolError?

        public mutating func next() -> RecordBatch? {
            guard error == nil, buffer.readableBytes >= RecordBatchHeader.size else { return nil }
            let index = buffer.readerIndex
            do {
                let header = try verifyCRC
                    ? RecordBatchHeader.validate(in: buffer, at: index)
                    : RecordBatchHeader.peek(in: buffer, at: index)
                guard header.totalSize <= buffer.readableBytes else { return nil }
                let bytes = buffer.readSlice(length: header.totalSize)!
                return RecordBatch(header: header, bytes: bytes)
            } catch {
                if case .truncated = error { return nil }
                self.error = error
                return nil
            }
        }
    }
}
