/// Quote → JSON, exactly the DESIGN.md wire form with its fixed field order:
/// `{"sym":"AAPL","seq":1234,"bid":189.12,"ask":189.14,"last":189.13,"vol":300,"ts":1732460000123456789}`
///
/// No Foundation and no intermediate strings. Prices are rounded to the finest
/// tick (0.0001) and written in fixed notation with trailing zeros dropped
/// (`189.1`, `0.0042`, `12.0`): never an exponent, never `189.12000000000001`.
/// A tick-rounded price (``TickSize``) reads back as the identical `Double`.
extension Quote {
    /// Bytes of the fixed parts: `{"sym":"","seq":,"bid":,"ask":,"last":,"vol":,"ts":}`.
    static let fixedJSONLength = 52
    /// The longest decimal forms: 20 digits for UInt64, sign + 19 for Int64, sign + 14 + '.' + 4 for a price.
    static let maximumNumbersLength = 20 + 3 * 20 + 20 + 20

    /// An upper bound on the bytes ``encodeJSON(into:)-(inout [UInt8])`` appends for this quote.
    public var maximumJSONLength: Int {
        Self.fixedJSONLength + Self.maximumNumbersLength + 6 * symbol.utf8.count
    }

    /// Appends the quote's JSON to `buffer` (reuse one buffer and `removeAll(keepingCapacity: true)`
    /// between quotes to avoid allocation). On error nothing is appended.
    public func encodeJSON(into buffer: inout [UInt8]) throws(QuoteEncodingError) {
        try validatePrices()
        buffer.reserveCapacity(buffer.count + maximumJSONLength)
        writeJSON(to: &buffer)
    }

    /// Writes the quote's JSON at the start of `buffer` and returns the number of bytes written.
    /// Throws ``QuoteEncodingError/bufferTooSmall(needed:available:)`` if it does not fit.
    public func encodeJSON(into buffer: UnsafeMutableRawBufferPointer) throws(QuoteEncodingError) -> Int {
        try validatePrices()
        var sink = RawBufferSink(buffer: buffer)
        writeJSON(to: &sink)
        if sink.overflowed {
            throw .bufferTooSmall(needed: maximumJSONLength, available: buffer.count)
        }
        return sink.position
    }

    /// The quote's JSON as a new array.
    public func jsonBytes() throws(QuoteEncodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encodeJSON(into: &bytes)
        return bytes
    }

    /// Largest magnitude written in fixed notation; beyond it a price is refused.
    static let maximumPriceMagnitude = 1e14

    private func validatePrices() throws(QuoteEncodingError) {
        func check(_ value: Double, _ field: String) throws(QuoteEncodingError) {
            guard value.isFinite, value.magnitude < Self.maximumPriceMagnitude else {
                throw .unrepresentablePrice(field: field, value: value)
            }
        }
        try check(bid, "bid")
        try check(ask, "ask")
        try check(last, "last")
    }

    private func writeJSON<Sink: ByteSink>(to sink: inout Sink) {
        sink.write("{\"sym\":")
        Self.writeJSONString(symbol, to: &sink)
        sink.write(",\"seq\":")
        sink.writeDecimal(seq)
        sink.write(",\"bid\":")
        Self.writePrice(bid, to: &sink)
        sink.write(",\"ask\":")
        Self.writePrice(ask, to: &sink)
        sink.write(",\"last\":")
        Self.writePrice(last, to: &sink)
        sink.write(",\"vol\":")
        sink.writeDecimal(volume)
        sink.write(",\"ts\":")
        sink.writeDecimal(timestamp)
        sink.write(UInt8(ascii: "}"))
    }

    /// Fixed notation with up to four decimals, trailing zeros dropped, at least one decimal.
    static func writePrice<Sink: ByteSink>(_ value: Double, to sink: inout Sink) {
        let units = UInt64((value.magnitude * Double(TickSize.unitsPerDollar)).rounded())
        if value < 0 && units != 0 { sink.write(UInt8(ascii: "-")) }
        let perDollar = UInt64(TickSize.unitsPerDollar)
        sink.writeDecimal(units / perDollar)
        sink.write(UInt8(ascii: "."))
        var fraction = units % perDollar
        guard fraction != 0 else {
            sink.write(UInt8(ascii: "0"))
            return
        }
        var digits = 4
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor: UInt64 = 1
        for _ in 1..<digits { divisor *= 10 }
        while divisor > 0 {
            sink.write(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, other UTF-8 as is.
    static func writeJSONString<Sink: ByteSink>(_ text: String, to sink: inout Sink) {
        let hex: StaticString = "0123456789abcdef"
        sink.write(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): sink.write("\\\"")
            case UInt8(ascii: "\\"): sink.write("\\\\")
            case 0x0A: sink.write("\\n")
            case 0x0D: sink.write("\\r")
            case 0x09: sink.write("\\t")
            case 0x08: sink.write("\\b")
            case 0x0C: sink.write("\\f")
            case 0..<0x20:
                sink.write("\\u00")
                hex.withUTF8Buffer { digits in
                    sink.write(digits[Int(byte >> 4)])
                    sink.write(digits[Int(byte & 0x0F)])
                }
            default:
                sink.write(byte)
            }
        }
        sink.write(UInt8(ascii: "\""))
    }
}
