/// Number parsing for the quote decoder: strict JSON number syntax, exact
/// integers with overflow checks, and correctly rounded doubles (Clinger's fast
/// path for the common short decimals, the stdlib's parser otherwise).
extension QuoteJSONReader {
    /// A number's shape as scanned, before conversion.
    struct ScannedNumber {
        var start: Int
        var end: Int
        var negative = false
        /// All significant digits (integer and fraction) as one integer, if it fits.
        var mantissa: UInt64 = 0
        var mantissaOverflowed = false
        /// Value = mantissa × 10^decimalExponent.
        var decimalExponent = 0
        var isInteger = true
    }

    /// Exact powers of ten that a Double holds without rounding.
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    private func isDigit(_ index: Int) -> Bool {
        index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
    }

    /// Scans `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at `position`.
    mutating func scanNumber(field: String) throws(QuoteDecodingError) -> ScannedNumber {
        var number = ScannedNumber(start: position, end: position)
        if position < bytes.count && bytes[position] == UInt8(ascii: "-") {
            number.negative = true
            position += 1
        }
        guard position < bytes.count else { throw .unexpectedEnd(offset: position) }
        guard isDigit(position) else { throw .invalidValue(field: field, offset: number.start) }

        func accumulate(_ digit: UInt8, into number: inout ScannedNumber) {
            let value = UInt64(digit - UInt8(ascii: "0"))
            let (times10, overflow1) = number.mantissa.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(value)
            if overflow1 || overflow2 { number.mantissaOverflowed = true } else { number.mantissa = sum }
        }

        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while isDigit(position) {
                accumulate(bytes[position], into: &number)
                position += 1
            }
        }
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            number.isInteger = false
            position += 1
            guard position < bytes.count else { throw .unexpectedEnd(offset: position) }
            guard isDigit(position) else { throw .invalidValue(field: field, offset: number.start) }
            while isDigit(position) {
                accumulate(bytes[position], into: &number)
                number.decimalExponent -= 1
                position += 1
            }
        }
        if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
            number.isInteger = false
            position += 1
            var exponentNegative = false
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < bytes.count else { throw .unexpectedEnd(offset: position) }
            guard isDigit(position) else { throw .invalidValue(field: field, offset: number.start) }
            var exponent = 0
            while isDigit(position) {
                exponent = min(exponent * 10 + Int(bytes[position] - UInt8(ascii: "0")), 100_000)
                position += 1
            }
            number.decimalExponent += exponentNegative ? -exponent : exponent
        }
        number.end = position
        return number
    }

    mutating func readUnsigned(field: String) throws(QuoteDecodingError) -> UInt64 {
        let number = try scanNumber(field: field)
        guard number.isInteger else { throw .invalidValue(field: field, offset: number.start) }
        guard !number.mantissaOverflowed, !number.negative || number.mantissa == 0 else {
            throw .numberOutOfRange(field: field, offset: number.start)
        }
        return number.mantissa
    }

    mutating func readSigned(field: String) throws(QuoteDecodingError) -> Int64 {
        let number = try scanNumber(field: field)
        guard number.isInteger else { throw .invalidValue(field: field, offset: number.start) }
        guard !number.mantissaOverflowed else { throw .numberOutOfRange(field: field, offset: number.start) }
        if number.negative {
            guard number.mantissa <= Int64.min.magnitude else { throw .numberOutOfRange(field: field, offset: number.start) }
            return number.mantissa == Int64.min.magnitude ? .min : -Int64(number.mantissa)
        }
        guard number.mantissa <= UInt64(Int64.max) else { throw .numberOutOfRange(field: field, offset: number.start) }
        return Int64(number.mantissa)
    }

    mutating func readDouble(field: String) throws(QuoteDecodingError) -> Double {
        let number = try scanNumber(field: field)
        let exponent = number.decimalExponent
        if !number.mantissaOverflowed, number.mantissa <= 1 << 53, exponent.magnitude <= 22 {
            // Both operands are exact, so one IEEE operation gives the correctly rounded result.
            let mantissa = Double(number.mantissa)
            let scale = Self.exactPowersOfTen[Int(exponent.magnitude)]
            let value = exponent < 0 ? mantissa / scale : mantissa * scale
            return number.negative ? -value : value
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[number.start..<number.end]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw .numberOutOfRange(field: field, offset: number.start)
        }
        return value
    }
}
