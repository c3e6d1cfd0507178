/// One server→client frame: the JSON text bytes plus, for quote frames, the log
/// position it carries (so SSE can keep a multi-partition cursor without parsing).
///
/// Frames are built by byte concatenation: the raw quote JSON from the log is
/// embedded as it is, never decoded and encoded again.
public struct ServerFrame: Sendable, Hashable {
    /// The complete JSON text of the frame.
    public var bytes: [UInt8]
    /// Partition of the quote in this frame, or nil for frames without a position.
    public var partition: Int32?
    /// Offset of the quote in this frame (meaningful only when `partition` is set).
    public var offset: Int64

    public init(bytes: [UInt8], partition: Int32? = nil, offset: Int64 = -1) {
        self.bytes = bytes
        self.partition = partition
        self.offset = offset
    }

    /// The frame as a string (tests, logging).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

extension ServerFrame {
    /// `{"type":"update","quote":<raw>,"token":"p:o"}`
    public static func update(quote: [UInt8], partition: Int32, offset: Int64) -> ServerFrame {
        quoteFrame(prefix: updatePrefix, quote: quote, partition: partition, offset: offset)
    }

    /// `{"type":"snapshot","quote":<raw>,"token":"p:o"}`, or `{"type":"snapshot","quote":<raw>}`
    /// when the quote's position is unknown (`offset` < 0: loaded from `prices.latest`).
    public static func snapshot(quote: [UInt8], partition: Int32, offset: Int64) -> ServerFrame {
        guard offset >= 0 else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(snapshotPrefix.count + quote.count + 1)
            bytes.append(contentsOf: snapshotPrefix)
            bytes.append(contentsOf: quote)
            bytes.append(UInt8(ascii: "}"))
            return ServerFrame(bytes: bytes)
        }
        return quoteFrame(prefix: snapshotPrefix, quote: quote, partition: partition, offset: offset)
    }

    /// `{"type":"gap","reason":"outOfRange","partitions":[3,5]}`: what the client had
    /// missed on those partitions can no longer be replayed; a fresh snapshot follows.
    public static func gap(reason: GapReason, partitions: [Int32]) -> ServerFrame {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        bytes.append(contentsOf: #"{"type":"gap","reason":""#.utf8)
        bytes.append(contentsOf: reason.rawValue.utf8)
        bytes.append(contentsOf: #"","partitions":["#.utf8)
        for (index, partition) in partitions.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: String(partition).utf8)
        }
        bytes.append(contentsOf: "]}".utf8)
        return ServerFrame(bytes: bytes)
    }

    /// `{"type":"error","code":"forbidden","message":"...","symbols":["X"]}`
    /// (`symbols` only when the error is about particular symbols).
    public static func error(code: ErrorCode, message: String, symbols: [String] = []) -> ServerFrame {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + message.utf8.count)
        bytes.append(contentsOf: #"{"type":"error","code":""#.utf8)
        bytes.append(contentsOf: code.rawValue.utf8)
        bytes.append(contentsOf: #"","message":"#.utf8)
        JSONText.appendString(message, to: &bytes)
        if !symbols.isEmpty {
            bytes.append(contentsOf: #","symbols":"#.utf8)
            JSONText.appendStringArray(symbols, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
        return ServerFrame(bytes: bytes)
    }

    /// The heartbeat: `{"type":"stats","ts":<unix ms>,"subscribed":N,"conflated":N}`,
    /// where `conflated` counts the quotes this client has had replaced by newer ones.
    public static func stats(unixMillis: Int64, subscribed: Int, conflated: Int) -> ServerFrame {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(80)
        bytes.append(contentsOf: #"{"type":"stats","ts":"#.utf8)
        bytes.append(contentsOf: String(unixMillis).utf8)
        bytes.append(contentsOf: #","subscribed":"#.utf8)
        bytes.append(contentsOf: String(subscribed).utf8)
        bytes.append(contentsOf: #","conflated":"#.utf8)
        bytes.append(contentsOf: String(conflated).utf8)
        bytes.append(UInt8(ascii: "}"))
        return ServerFrame(bytes: bytes)
    }

    private static let updatePrefix = Array(#"{"type":"update","quote":"#.utf8)
    private static let snapshotPrefix = Array(#"{"type":"snapshot","quote":"#.utf8)
    private static let tokenInfix = Array(#","token":""#.utf8)

    private static func quoteFrame(prefix: [UInt8], quote: [UInt8], partition: Int32, offset: Int64) -> ServerFrame {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(prefix.count + quote.count + 36)
        bytes.append(contentsOf: prefix)
        bytes.append(contentsOf: quote)
        bytes.append(contentsOf: tokenInfix)
        bytes.append(contentsOf: String(partition).utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: String(offset).utf8)
        bytes.append(contentsOf: "\"}".utf8)
        return ServerFrame(bytes: bytes, partition: partition, offset: offset)
    }
}

/// Why a `gap` frame was sent.
public enum GapReason: String, Sendable, Hashable {
    /// The log no longer holds the requested offset.
    case outOfRange
    /// The gateway has no log reader, so it cannot replay.
    case unavailable
    /// More was missed than the gateway replays; a snapshot is cheaper.
    case tooFarBehind
    /// Reading the log failed.
    case readFailed
}

/// Codes of `error` frames.
public enum ErrorCode: String, Sendable, Hashable {
    case badRequest
    case forbidden
    case unauthorized
    case badToken
}
