/// Where the quote encoder writes bytes: a growable `[UInt8]` or a fixed raw buffer.
/// Internal so the encoder can be specialised for each without existentials.
protocol ByteSink {
    mutating func write(_ byte: UInt8)
}

extension Array: ByteSink where Element == UInt8 {
    @inline(__always)
    mutating func write(_ byte: UInt8) {
        append(byte)
    }
}

/// Writes into caller-owned memory; remembers whether it ran out of room.
struct RawBufferSink: ByteSink {
    let buffer: UnsafeMutableRawBufferPointer
    var position = 0
    var overflowed = false

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        guard position < buffer.count else {
            overflowed = true
            return
        }
        buffer[position] = byte
        position += 1
    }
}

extension ByteSink {
    @inline(__always)
    mutating func write(_ text: StaticString) {
        text.withUTF8Buffer { bytes in
            for byte in bytes { write(byte) }
        }
    }

    /// Writes an unsigned integer in decimal.
    mutating func writeDecimal(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        var rest = value
        while true {
            write(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            if divisor == 1 { break }
            divisor /= 10
        }
    }

    /// Writes a signed integer in decimal.
    mutating func writeDecimal(_ value: Int64) {
        if value < 0 {
            write(UInt8(ascii: "-"))
            writeDecimal(value.magnitude)
        } else {
            writeDecimal(UInt64(value))
        }
    }
}
