/// Why a quote could not be written as JSON.
public enum QuoteEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A price is NaN, infinite, or too large to write in fixed notation (`field` is `bid`, `ask` or `last`).
    case unrepresentablePrice(field: String, value: Double)
    /// The destination buffer is too small; `needed` is an upper bound that fits.
    case bufferTooSmall(needed: Int, available: Int)

    public var description: String {
        switch self {
        case .unrepresentablePrice(let field, let value): return "quote \(field) \(value) cannot be written as a JSON number"
        case .bufferTooSmall(let needed, let available): return "quote needs up to \(needed) bytes, buffer has \(available)"
        }
    }
}

/// Why bytes could not be read as a quote. Offsets count bytes from the start of the input.
public enum QuoteDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended inside the object.
    case unexpectedEnd(offset: Int)
    /// A byte that cannot appear here; `expected` says what could.
    case unexpectedByte(UInt8, offset: Int, expected: String)
    /// A required field is absent.
    case missingField(String)
    /// A field appears twice.
    case duplicateField(String, offset: Int)
    /// A field holds the wrong kind of value or a malformed number.
    case invalidValue(field: String, offset: Int)
    /// A number does not fit the field's type.
    case numberOutOfRange(field: String, offset: Int)
    /// A string has a bad escape, a raw control character or invalid UTF-8.
    case invalidString(offset: Int)
    /// Something other than whitespace follows the object.
    case trailingBytes(offset: Int)
    /// An unknown field's value nests deeper than the decoder follows.
    case nestingTooDeep(offset: Int)

    public var description: String {
        switch self {
        case .unexpectedEnd(let offset): return "quote JSON ends early at byte \(offset)"
        case .unexpectedByte(let byte, let offset, let expected): return "unexpected byte 0x\(String(byte, radix: 16)) at \(offset), expected \(expected)"
        case .missingField(let field): return "quote JSON lacks \"\(field)\""
        case .duplicateField(let field, let offset): return "duplicate field \"\(field)\" at \(offset)"
        case .invalidValue(let field, let offset): return "invalid value for \"\(field)\" at \(offset)"
        case .numberOutOfRange(let field, let offset): return "number out of range for \"\(field)\" at \(offset)"
        case .invalidString(let offset): return "invalid string at \(offset)"
        case .trailingBytes(let offset): return "unexpected bytes after the quote at \(offset)"
        case .nestingTooDeep(let offset): return "value nests too deeply at \(offset)"
        }
    }
}
