import NIOCore

// Reading Kafka's primitive types from a ByteBuffer.
//
// Every function checks the bytes it needs are present and throws
// `KafkaProtocolError` otherwise; none of them traps on hostile input. The `what`
// argument names the field for the error message and costs nothing on success.

extension ByteBuffer {
    @inlinable
    public mutating func readKafkaInteger<T: FixedWidthInteger>(
        _: T.Type = T.self, _ what: StaticString
    ) throws(KafkaProtocolError) -> T {
        guard let value = self.readInteger(endianness: .big, as: T.self) else {
            throw .truncated(what: "\(what)", needed: MemoryLayout<T>.size, available: self.readableBytes)
        }
        return value
    }

    @inlinable
    public mutating func readKafkaBool(_ what: StaticString) throws(KafkaProtocolError) -> Bool {
        try self.readKafkaInteger(UInt8.self, what) != 0
    }

    @inlinable
    public mutating func readKafkaFloat64(_ what: StaticString) throws(KafkaProtocolError) -> Double {
        Double(bitPattern: try self.readKafkaInteger(UInt64.self, what))
    }

    @inlinable
    public mutating func readKafkaUUID(_ what: StaticString) throws(KafkaProtocolError) -> KafkaUUID {
        let high = try self.readKafkaInteger(UInt64.self, what)
        let low = try self.readKafkaInteger(UInt64.self, what)
        return KafkaUUID(high: high, low: low)
    }

    /// An unsigned LEB128 varint of at most 5 bytes (32 bits), as used for compact lengths and tags.
    @inlinable
    public mutating func readUnsignedVarint(_ what: StaticString) throws(KafkaProtocolError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        var index = self.readerIndex
        let end = self.writerIndex
        while index < end {
            let byte = self.getInteger(at: index, as: UInt8.self)!
            index += 1
            if shift == 28 && byte > 0x0f {
                throw .malformedVarint(what: "\(what)")
            }
            result |= UInt32(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                self.moveReaderIndex(to: index)
                return result
            }
            shift += 7
        }
        throw .truncated(what: "\(what)", needed: 1, available: 0)
    }

    /// An unsigned LEB128 varint of at most 10 bytes (64 bits).
    @inlinable
    public mutating func readUnsignedVarlong(_ what: StaticString) throws(KafkaProtocolError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = self.readerIndex
        let end = self.writerIndex
        while index < end {
            let byte = self.getInteger(at: index, as: UInt8.self)!
            index += 1
            if shift == 63 && byte > 0x01 {
                throw .malformedVarint(what: "\(what)")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                self.moveReaderIndex(to: index)
                return result
            }
            shift += 7
        }
        throw .truncated(what: "\(what)", needed: 1, available: 0)
    }

    /// A zig-zag encoded signed 32-bit varint (record fields).
    @inlinable
    public mutating func readVarint(_ what: StaticString) throws(KafkaProtocolError) -> Int32 {
        let raw = try self.readUnsignedVarint(what)
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A zig-zag encoded signed 64-bit varint (record timestamp and offset deltas).
    @inlinable
    public mutating func readVarlong(_ what: StaticString) throws(KafkaProtocolError) -> Int64 {
        let raw = try self.readUnsignedVarlong(what)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a length prefix: int16 (strings), int32 (bytes, arrays) or unsigned varint minus one (compact forms).
    /// Returns nil for the null marker (-1); throws for any other negative length.
    @inlinable
    mutating func readKafkaLength(
        compact: Bool, wide: Bool, _ what: StaticString
    ) throws(KafkaProtocolError) -> Int? {
        let length: Int
        if compact {
            length = Int(try self.readUnsignedVarint(what)) - 1
        } else if wide {
            length = Int(try self.readKafkaInteger(Int32.self, what))
        } else {
            length = Int(try self.readKafkaInteger(Int16.self, what))
        }
        if length == -1 { return nil }
        guard length >= 0 else { throw .invalidLength(what: "\(what)", length: Int64(length)) }
        return length
    }

    @inlinable
    public mutating func readKafkaNullableString(
        compact: Bool, _ what: StaticString
    ) throws(KafkaProtocolError) -> String? {
        guard let length = try self.readKafkaLength(compact: compact, wide: false, what) else { return nil }
        guard length <= self.readableBytes else {
            throw .truncated(what: "\(what)", needed: length, available: self.readableBytes)
        }
        let string = self.withUnsafeReadableBytes { bytes in
            String(validating: UnsafeRawBufferPointer(rebasing: bytes[..<length]), as: UTF8.self)
        }
        guard let string else { throw .invalidUTF8(what: "\(what)") }
        self.moveReaderIndex(forwardBy: length)
        return string
    }

    @inlinable
    public mutating func readKafkaString(compact: Bool, _ what: StaticString) throws(KafkaProtocolError) -> String {
        guard let string = try self.readKafkaNullableString(compact: compact, what) else {
            throw .unexpectedNull(field: "\(what)")
        }
        return string
    }

    /// Bytes are returned as a slice of this buffer: no copy.
    @inlinable
    public mutating func readKafkaNullableBytes(
        compact: Bool, _ what: StaticString
    ) throws(KafkaProtocolError) -> ByteBuffer? {
        guard let length = try self.readKafkaLength(compact: compact, wide: true, what) else { return nil }
        guard let slice = self.readSlice(length: length) else {
            throw .truncated(what: "\(what)", needed: length, available: self.readableBytes)
        }
        return slice
    }

    @inlinable
    public mutating func readKafkaBytes(compact: Bool, _ what: StaticString) throws(KafkaProtocolError) -> ByteBuffer {
        guard let bytes = try self.readKafkaNullableBytes(compact: compact, what) else {
            throw .unexpectedNull(field: "\(what)")
        }
        return bytes
    }

    /// The element count of an array, or nil for a null array. A count larger than the
    /// bytes left cannot be honest (every element takes at least one byte), so it is
    /// rejected before anyone reserves memory for it.
    @inlinable
    public mutating func readKafkaArrayCount(
        compact: Bool, _ what: StaticString
    ) throws(KafkaProtocolError) -> Int? {
        guard let count = try self.readKafkaLength(compact: compact, wide: true, what) else { return nil }
        guard count <= self.readableBytes else {
            throw .truncated(what: "\(what)", needed: count, available: self.readableBytes)
        }
        return count
    }

    @inlinable
    public mutating func readKafkaArrayCountNonNull(
        compact: Bool, _ what: StaticString
    ) throws(KafkaProtocolError) -> Int {
        guard let count = try self.readKafkaArrayCount(compact: compact, what) else {
            throw .unexpectedNull(field: "\(what)")
        }
        return count
    }

    /// Reads one tagged-field header and the field's bytes as a slice.
    @inlinable
    public mutating func readTaggedField(_ what: StaticString) throws(KafkaProtocolError) -> (tag: UInt32, data: ByteBuffer) {
        let tag = try self.readUnsignedVarint(what)
        let size = Int(try self.readUnsignedVarint(what))
        guard let data = self.readSlice(length: size) else {
            throw .truncated(what: "\(what)", needed: size, available: self.readableBytes)
        }
        return (tag, data)
    }
}
