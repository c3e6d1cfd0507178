import NIOCore

// Writing Kafka's primitive types into a ByteBuffer. Lengths that do not fit their
// prefix (a string over 32,767 bytes in the int16 form) are a programming error on
// the sending side and throw rather than silently truncating.

extension ByteBuffer {
    @inlinable
    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var value = value
        while value >= 0x80 {
            self.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        self.writeInteger(UInt8(value))
    }

    @inlinable
    public mutating func writeUnsignedVarlong(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            self.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        self.writeInteger(UInt8(value))
    }

    /// Zig-zag encoded signed 32-bit varint.
    @inlinable
    public mutating func writeVarint(_ value: Int32) {
        self.writeUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    /// Zig-zag encoded signed 64-bit varint.
    @inlinable
    public mutating func writeVarlong(_ value: Int64) {
        self.writeUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// The number of bytes `writeUnsignedVarint` uses for `value`.
    @inlinable
    public static func unsignedVarintSize(_ value: UInt64) -> Int {
        var size = 1
        var value = value >> 7
        while value != 0 {
            size += 1
            value >>= 7
        }
        return size
    }

    @inlinable
    public static func varlongSize(_ value: Int64) -> Int {
        unsignedVarintSize(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inlinable
    public mutating func writeKafkaBool(_ value: Bool) {
        self.writeInteger(UInt8(value ? 1 : 0))
    }

    @inlinable
    public mutating func writeKafkaFloat64(_ value: Double) {
        self.writeInteger(value.bitPattern)
    }

    @inlinable
    public mutating func writeKafkaUUID(_ value: KafkaUUID) {
        self.writeInteger(value.high)
        self.writeInteger(value.low)
    }

    /// Writes a length prefix in the int16, int32 or compact (unsigned varint of length+1) form; nil writes null.
    @inlinable
    mutating func writeKafkaLength(_ length: Int?, compact: Bool, wide: Bool, _ what: StaticString) throws(KafkaProtocolError) {
        guard let length else {
            if compact {
                self.writeUnsignedVarint(0)
            } else if wide {
                self.writeInteger(Int32(-1))
            } else {
                self.writeInteger(Int16(-1))
            }
            return
        }
        if compact {
            guard length < Int(UInt32.max) else { throw .invalidLength(what: "\(what)", length: Int64(length)) }
            self.writeUnsignedVarint(UInt32(length + 1))
        } else if wide {
            guard length <= Int(Int32.max) else { throw .invalidLength(what: "\(what)", length: Int64(length)) }
            self.writeInteger(Int32(length))
        } else {
            guard length <= Int(Int16.max) else { throw .invalidLength(what: "\(what)", length: Int64(length)) }
            self.writeInteger(Int16(length))
        }
    }

    @inlinable
    public mutating func writeKafkaNullableString(_ value: String?, compact: Bool, _ what: StaticString) throws(KafkaProtocolError) {
        guard let value else {
            try self.writeKafkaLength(nil, compact: compact, wide: false, what)
            return
        }
        try self.writeKafkaLength(value.utf8.count, compact: compact, wide: false, what)
        self.writeString(value)
    }

    @inlinable
    public mutating func writeKafkaString(_ value: String, compact: Bool, _ what: StaticString) throws(KafkaProtocolError) {
        try self.writeKafkaNullableString(value, compact: compact, what)
    }

    @inlinable
    public mutating func writeKafkaNullableBytes(_ value: ByteBuffer?, compact: Bool, _ what: StaticString) throws(KafkaProtocolError) {
        guard let value else {
            try self.writeKafkaLength(nil, compact: compact, wide: true, what)
            return
        }
        try self.writeKafkaLength(value.readableBytes, compact: compact, wide: true, what)
        self.writeImmutableBuffer(value)
    }

    @inlinable
    public mutating func writeKafkaBytes(_ value: ByteBuffer, compact: Bool, _ what: StaticString) throws(KafkaProtocolError) {
        try self.writeKafkaNullableBytes(value, compact: compact, what)
    }

    /// An array's element count (nil writes a null array).
    @inlinable
    public mutating func writeKafkaArrayCount(_ count: Int?, compact: Bool, _ what: StaticString) throws(KafkaProtocolError) {
        try self.writeKafkaLength(count, compact: compact, wide: true, what)
    }
}
