/// JSON → Quote without Foundation. Accepts the fields in any order with any JSON
/// whitespace, skips unknown fields (other producers may add some), and rejects
/// everything malformed with a ``QuoteDecodingError`` naming the byte offset.
extension Quote {
    /// Parses one quote object from `bytes` (an `Array`, `ArraySlice`, NIO
    /// `ByteBufferView`, `Data`, ...). Contiguous collections are read in place.
    public init(jsonBytes bytes: some Collection<UInt8>) throws(QuoteDecodingError) {
        let result = bytes.withContiguousStorageIfAvailable { buffer -> Result<Quote, QuoteDecodingError> in
            Self.decodeResult(UnsafeRawBufferPointer(buffer))
        }
        switch result ?? Array(bytes).withUnsafeBytes({ Self.decodeResult($0) }) {
        case .success(let quote): self = quote
        case .failure(let error): throw error
        }
    }

    /// Parses one quote object from raw memory.
    public init(jsonBuffer buffer: UnsafeRawBufferPointer) throws(QuoteDecodingError) {
        var reader = QuoteJSONReader(bytes: buffer)
        self = try reader.readQuote()
    }

    private static func decodeResult(_ buffer: UnsafeRawBufferPointer) -> Result<Quote, QuoteDecodingError> {
        do throws(QuoteDecodingError) {
            return .success(try Quote(jsonBuffer: buffer))
        } catch {
            return .failure(error)
        }
    }
}

/// A cursor over the input; every method advances `position` past what it read.
struct QuoteJSONReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    private enum Field: Int, CaseIterable {
        case sym, seq, bid, ask, last, vol, ts
        var name: String { ["sym", "seq", "bid", "ask", "last", "vol", "ts"][rawValue] }
        var bit: UInt8 { 1 << UInt8(rawValue) }
    }

    static let maximumDepth = 32

    mutating func readQuote() throws(QuoteDecodingError) -> Quote {
        var symbol = "", seq: UInt64 = 0, bid = 0.0, ask = 0.0, last = 0.0, volume: Int64 = 0, timestamp: Int64 = 0
        var seen: UInt8 = 0
        skipWhitespace()
        try expect(UInt8(ascii: "{"), "'{'")
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                let keyOffset = position
                let field = try readKey()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                if let field {
                    if seen & field.bit != 0 { throw .duplicateField(field.name, offset: keyOffset) }
                    seen |= field.bit
                    switch field {
                    case .sym:
                        guard try peek() == UInt8(ascii: "\"") else { throw .invalidValue(field: "sym", offset: position) }
                        symbol = try readString()
                    case .seq: seq = try readUnsigned(field: "seq")
                    case .bid: bid = try readDouble(field: "bid")
                    case .ask: ask = try readDouble(field: "ask")
                    case .last: last = try readDouble(field: "last")
                    case .vol: volume = try readSigned(field: "vol")
                    case .ts: timestamp = try readSigned(field: "ts")
                    }
                } else {
                    try skipValue(depth: 0)
                }
                skipWhitespace()
                let separator = try peek()
                position += 1
                if separator == UInt8(ascii: "}") { break }
                guard separator == UInt8(ascii: ",") else {
                    throw .unexpectedByte(separator, offset: position - 1, expected: "',' or '}'")
                }
            }
        }
        skipWhitespace()
        if position < bytes.count { throw .trailingBytes(offset: position) }
        for field in Field.allCases where seen & field.bit == 0 {
            throw .missingField(field.name)
        }
        return Quote(symbol: symbol, seq: seq, bid: bid, ask: ask, last: last, volume: volume, timestamp: timestamp)
    }

    // MARK: - Lexical helpers

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    func peek() throws(QuoteDecodingError) -> UInt8 {
        guard position < bytes.count else { throw .unexpectedEnd(offset: position) }
        return bytes[position]
    }

    mutating func expect(_ byte: UInt8, _ description: String) throws(QuoteDecodingError) {
        let found = try peek()
        guard found == byte else { throw .unexpectedByte(found, offset: position, expected: description) }
        position += 1
    }

    /// Reads an object key; nil for a key that is not a quote field.
    private mutating func readKey() throws(QuoteDecodingError) -> Field? {
        let found = try peek()
        guard found == UInt8(ascii: "\"") else { throw .unexpectedByte(found, offset: position, expected: "a field name") }
        let start = position + 1
        let (end, escaped) = try scanString()
        let name: String
        if escaped {
            position = start - 1
            name = try readString()
        } else {
            // Known keys are short ASCII: compare raw bytes, no String needed.
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            for field in Field.allCases where Self.equals(raw, field) { return field }
            return nil
        }
        return Field.allCases.first { $0.name == name }
    }

    private static func equals(_ raw: UnsafeRawBufferPointer, _ field: Field) -> Bool {
        let name: StaticString
        switch field {
        case .sym: name = "sym"
        case .seq: name = "seq"
        case .bid: name = "bid"
        case .ask: name = "ask"
        case .last: name = "last"
        case .vol: name = "vol"
        case .ts: name = "ts"
        }
        return name.withUTF8Buffer { expected in raw.elementsEqual(expected) }
    }

    /// Moves past a string whose opening quote is at `position`; returns the offset
    /// of its closing quote and whether it holds escapes. Checks escapes' shape only.
    private mutating func scanString() throws(QuoteDecodingError) -> (end: Int, escaped: Bool) {
        let openOffset = position
        position += 1
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return (position - 1, escaped)
            }
            if byte < 0x20 { throw .invalidString(offset: position) }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard position + 1 < bytes.count else { throw .unexpectedEnd(offset: bytes.count) }
                position += bytes[position + 1] == UInt8(ascii: "u") ? 6 : 2
                continue
            }
            position += 1
        }
        _ = openOffset
        throw .unexpectedEnd(offset: bytes.count)
    }

    /// Reads a string value at `position`, decoding escapes and validating UTF-8.
    mutating func readString() throws(QuoteDecodingError) -> String {
        let openOffset = position
        let start = position + 1
        let (end, escaped) = try scanString()
        let content = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        guard escaped else {
            guard let text = String(validating: content, as: UTF8.self) else { throw .invalidString(offset: openOffset) }
            return text
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(content.count)
        var index = 0
        while index < content.count {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\") else {
                decoded.append(byte)
                index += 1
                continue
            }
            guard index + 1 < content.count else { throw .invalidString(offset: start + index) }
            let kind = content[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "\""): decoded.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): decoded.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): decoded.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                guard let high = Self.hex4(content, at: index) else { throw .invalidString(offset: start + index) }
                index += 4
                var scalarValue = high
                if (0xD800..<0xDC00).contains(high) {
                    guard index + 6 <= content.count, content[index] == UInt8(ascii: "\\"), content[index + 1] == UInt8(ascii: "u"),
                          let low = Self.hex4(content, at: index + 2), (0xDC00..<0xE000).contains(low)
                    else { throw .invalidString(offset: start + index) }
                    index += 6
                    scalarValue = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(scalarValue) else { throw .invalidString(offset: start + index) }
                decoded.append(contentsOf: UTF8.encode(scalar)!)
            default:
                throw .invalidString(offset: start + index - 2)
            }
        }
        guard let text = String(validating: decoded, as: UTF8.self) else { throw .invalidString(offset: openOffset) }
        return text
    }

    private static func hex4(_ content: UnsafeRawBufferPointer, at index: Int) -> UInt32? {
        guard index + 4 <= content.count else { return nil }
        var value: UInt32 = 0
        for byte in content[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Skips any JSON value (for unknown fields), checking its syntax.
    mutating func skipValue(depth: Int) throws(QuoteDecodingError) {
        guard depth < Self.maximumDepth else { throw .nestingTooDeep(offset: position) }
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "\""):
            _ = try readString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = byte == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            position += 1
            skipWhitespace()
            if try peek() == close {
                position += 1
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    let found = try peek()
                    guard found == UInt8(ascii: "\"") else { throw .unexpectedByte(found, offset: position, expected: "a field name") }
                    _ = try readString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "':'")
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                let separator = try peek()
                position += 1
                if separator == close { return }
                guard separator == UInt8(ascii: ",") else {
                    throw .unexpectedByte(separator, offset: position - 1, expected: "',' or a closing bracket")
                }
            }
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        default:
            _ = try scanNumber(field: "unknown field")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(QuoteDecodingError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw .unexpectedEnd(offset: bytes.count) }
        let matches = literal.withUTF8Buffer { expected in
            UnsafeRawBufferPointer(rebasing: bytes[position..<position + count]).elementsEqual(expected)
        }
        guard matches else { throw .unexpectedByte(bytes[position], offset: position, expected: "\(literal)") }
        position += count
    }
}
