import Market

/// One server→client frame of the gateway's WebSocket protocol
/// (docs/gateway-protocol.md), as the swarm's WebSocket transport reads it.
///
/// Parsed straight from the frame's bytes without Foundation: quote frames have a
/// fixed layout (`{"type":"update","quote":<raw quote>,"token":"p:o"}`), and the
/// raw quote inside is decoded by Market's fast decoder, in place.
public enum GatewayFrame: Sendable, Equatable {
    /// An `update` (live or replayed) or a `snapshot`: the quote, its position in the
    /// log and the size of the raw quote JSON.
    case quote(kind: QuoteKind, quote: Quote, partition: Int32, offset: Int64, quoteBytes: Int)
    /// What was missed on `partitions` cannot be replayed; fresh snapshots follow.
    case gap(reason: String, partitions: [Int32])
    /// A heartbeat (or a conflation notice): quotes conflated on this connection so far.
    case stats(conflated: Int)
    /// An error frame's code (`badRequest`, `forbidden`, …).
    case error(code: String)
    /// A frame type this reader does not know; ignored.
    case other(type: String)

    /// The two kinds of quote frames.
    public enum QuoteKind: Sendable, Equatable {
        case update
        case snapshot
    }

    /// Parses one frame's JSON text.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(GatewayFrameError) -> GatewayFrame {
        var cursor = FrameCursor(bytes: bytes)
        try cursor.expect(typePrefix)
        let type = try cursor.readStringBody()
        switch type {
        case "update", "snapshot":
            try cursor.expect(quoteInfix)
            let quoteRange = try cursor.skipFlatObject()
            let quote: Quote
            do {
                quote = try Quote(jsonBuffer: UnsafeRawBufferPointer(rebasing: bytes[quoteRange]))
            } catch {
                throw .badQuote("\(error)")
            }
            if type == "snapshot" && cursor.peek == UInt8(ascii: "}") {
                // A snapshot without a position (the gateway loaded it from prices.latest).
                return .quote(kind: .snapshot, quote: quote, partition: -1, offset: -1, quoteBytes: quoteRange.count)
            }
            try cursor.expect(tokenInfix)
            let partition = try cursor.readInteger()
            try cursor.expect(Array(":".utf8))
            let offset = try cursor.readInteger()
            guard let partition = Int32(exactly: partition) else { throw .malformed(at: cursor.position, expected: "a partition") }
            return .quote(kind: type == "update" ? .update : .snapshot, quote: quote, partition: partition, offset: offset,
                          quoteBytes: quoteRange.count)
        case "gap":
            var reason = ""
            if cursor.seek(Array(#""reason":""#.utf8)) { reason = try cursor.readStringBody() }
            guard cursor.seek(Array(#""partitions":["#.utf8)) else { throw .malformed(at: cursor.position, expected: "partitions") }
            var partitions: [Int32] = []
            while cursor.peek != UInt8(ascii: "]") {
                let value = try cursor.readInteger()
                guard let partition = Int32(exactly: value) else { throw .malformed(at: cursor.position, expected: "a partition") }
                partitions.append(partition)
                if cursor.peek == UInt8(ascii: ",") { cursor.position += 1 }
            }
            return .gap(reason: reason, partitions: partitions)
        case "stats":
            guard cursor.seek(Array(#""conflated":"#.utf8)) else { throw .malformed(at: cursor.position, expected: "conflated") }
            return .stats(conflated: Int(clamping: try cursor.readInteger()))
        case "error":
            guard cursor.seek(Array(#""code":""#.utf8)) else { return .error(code: "") }
            return .error(code: try cursor.readStringBody())
        default:
            return .other(type: type)
        }
    }

    private static let typePrefix = GatewayWireFormat.typePrefix
    private static let quoteInfix = GatewayWireFormat.quoteInfix
    private static let tokenInfix = GatewayWireFormat.tokenInfix
}

/// Why a gateway frame could not be read.
public enum GatewayFrameError: Error, Equatable, CustomStringConvertible {
    case malformed(at: Int, expected: String)
    case badQuote(String)

    public var description: String {
        switch self {
        case .malformed(let position, let expected): return "gateway frame: expected \(expected) at byte \(position)"
        case .badQuote(let reason): return "gateway frame: the quote inside is not a quote: \(reason)"
        }
    }
}

/// A forward-only reader over one frame's bytes.
private struct FrameCursor {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func expect(_ literal: [UInt8]) throws(GatewayFrameError) {
        guard bytes.count - position >= literal.count else {
            throw .malformed(at: position, expected: String(decoding: literal, as: UTF8.self))
        }
        for (index, byte) in literal.enumerated() where bytes[position + index] != byte {
            throw .malformed(at: position, expected: String(decoding: literal, as: UTF8.self))
        }
        position += literal.count
    }

    /// Moves past the next occurrence of `literal`; false (not moved) if there is none.
    mutating func seek(_ literal: [UInt8]) -> Bool {
        guard !literal.isEmpty, bytes.count >= literal.count else { return false }
        var start = position
        while start + literal.count <= bytes.count {
            var match = true
            for (index, byte) in literal.enumerated() where bytes[start + index] != byte {
                match = false
                break
            }
            if match {
                position = start + literal.count
                return true
            }
            start += 1
        }
        return false
    }

    /// Reads up to the closing quote of a string whose opening quote was consumed
    /// (the gateway's names and codes have no escapes).
    mutating func readStringBody() throws(GatewayFrameError) -> String {
        let start = position
        while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
            if bytes[position] == UInt8(ascii: "\\") { position += 1 }
            position += 1
        }
        guard position < bytes.count else { throw .malformed(at: start, expected: "a closing '\"'") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        position += 1
        return text
    }

    /// A decimal integer, optionally negative.
    mutating func readInteger() throws(GatewayFrameError) -> Int64 {
        let start = position
        var negative = false
        if peek == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        var digits = 0
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw .malformed(at: start, expected: "an integer in range") }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw .malformed(at: start, expected: "an integer") }
        return negative ? -value : value
    }

    /// Skips one JSON object without nested objects or arrays (a raw quote), honouring
    /// strings; returns its byte range, braces included.
    mutating func skipFlatObject() throws(GatewayFrameError) -> Range<Int> {
        let start = position
        guard peek == UInt8(ascii: "{") else { throw .malformed(at: position, expected: "'{'") }
        position += 1
        var inString = false
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if inString {
                if byte == UInt8(ascii: "\\") {
                    position += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "}") {
                return start..<position
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                throw .malformed(at: position - 1, expected: "a flat quote object")
            }
        }
        throw .malformed(at: start, expected: "a complete quote object")
    }
}
