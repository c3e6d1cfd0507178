import Market
import NIOCore

/// One server→client frame, encoded once and shared: the complete unmasked WebSocket
/// text frame (header and JSON payload) in one buffer that every client it goes to
/// gets a reference to, never a copy. For quote frames it also keeps the log position
/// the frame carries (so SSE can keep a multi-partition cursor without parsing).
///
/// Frames are built by byte concatenation: the raw quote JSON from the log is
/// embedded as it is, never decoded and encoded again. The layouts are
/// `GatewayWireFormat`'s, which the swarm reads with.
public struct ServerFrame: Sendable, Hashable {
    /// The frame as it goes on a WebSocket: header, then payload.
    public let wire: ByteBuffer
    /// Bytes of WebSocket header at the front of `wire` (2, 4 or 10).
    let headerLength: Int
    /// Partition of the quote in this frame, or nil for frames without a position.
    public var partition: Int32?
    /// Offset of the quote in this frame (meaningful only when `partition` is set).
    public var offset: Int64

    /// A frame of `bytes` (the JSON text).
    public init(bytes: [UInt8], partition: Int32? = nil, offset: Int64 = -1) {
        self = Self.build(capacity: bytes.count, partition: partition, offset: offset) { $0.writeBytes(bytes) }
    }

    private init(wire: ByteBuffer, headerLength: Int, partition: Int32?, offset: Int64) {
        self.wire = wire
        self.headerLength = headerLength
        self.partition = partition
        self.offset = offset
    }

    /// The JSON text alone (SSE's `data:` line), a slice of `wire`.
    public var payload: ByteBuffer { wire.getSlice(at: wire.readerIndex + headerLength, length: payloadCount)! }

    /// Length of the JSON text.
    public var payloadCount: Int { wire.readableBytes - headerLength }

    /// The JSON text as bytes (tests, HTTP error bodies).
    public var bytes: [UInt8] { wire.getBytes(at: wire.readerIndex + headerLength, length: payloadCount)! }

    /// The frame as a string (tests, logging).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public static func == (lhs: ServerFrame, rhs: ServerFrame) -> Bool {
        lhs.partition == rhs.partition && lhs.offset == rhs.offset && lhs.payload == rhs.payload
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(partition)
        hasher.combine(offset)
        hasher.combine(payload)
    }

    /// Room kept in front of a payload for the longest header (RFC 6455 §5.2).
    static let maxHeaderLength = 10
    static let allocator = ByteBufferAllocator()

    /// Encodes a frame whose payload `write` appends (about `capacity` bytes), with the
    /// header written in front of it afterwards: one allocation, no copy.
    static func build(capacity: Int, partition: Int32?, offset: Int64, _ write: (inout ByteBuffer) -> Void) -> ServerFrame {
        var buffer = allocator.buffer(capacity: capacity + maxHeaderLength)
        buffer.moveWriterIndex(forwardBy: maxHeaderLength)
        buffer.moveReaderIndex(forwardBy: maxHeaderLength)
        write(&buffer)
        let headerLength = WebSocketWire.headerLength(payload: buffer.readableBytes)
        let start = maxHeaderLength - headerLength
        WebSocketWire.setHeader(opcode: WebSocketWire.text, payload: buffer.readableBytes, in: &buffer, at: start)
        buffer.moveReaderIndex(to: start)
        return ServerFrame(wire: buffer, headerLength: headerLength, partition: partition, offset: offset)
    }
}

/// Unmasked server→client WebSocket frame headers (RFC 6455 §5.2), written by hand
/// because gateway frames leave pre-encoded and skip NIO's frame encoder.
enum WebSocketWire {
    static let text: UInt8 = 0x1
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    static func headerLength(payload: Int) -> Int {
        payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10
    }

    /// Writes a final frame's header for `payload` bytes at `index` (room already there).
    static func setHeader(opcode: UInt8, payload: Int, in buffer: inout ByteBuffer, at index: Int) {
        buffer.setInteger(0x80 | opcode, at: index)
        if payload < 126 {
            buffer.setInteger(UInt8(payload), at: index + 1)
        } else if payload <= 0xFFFF {
            buffer.setInteger(UInt8(126), at: index + 1)
            buffer.setInteger(UInt16(payload), at: index + 2)
        } else {
            buffer.setInteger(UInt8(127), at: index + 1)
            buffer.setInteger(UInt64(payload), at: index + 2)
        }
    }

    /// Appends a final frame's header for `payload` bytes.
    static func writeHeader(opcode: UInt8, payload: Int, to buffer: inout ByteBuffer) {
        let length = headerLength(payload: payload)
        let index = buffer.writerIndex
        buffer.writeRepeatingByte(0, count: length)
        setHeader(opcode: opcode, payload: payload, in: &buffer, at: index)
    }

    /// A whole control or text frame of `payload`.
    static func frame(opcode: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payload.readableBytes + 10)
        writeHeader(opcode: opcode, payload: payload.readableBytes, to: &buffer)
        var payload = payload
        buffer.writeBuffer(&payload)
        return buffer
    }
}

extension ServerFrame {
    /// `{"type":"update","quote":<raw>,"token":"p:o"}`
    public static func update(quote: [UInt8], partition: Int32, offset: Int64) -> ServerFrame {
        quoteFrame(prefix: GatewayWireFormat.updatePrefix, quote: quote, partition: partition, offset: offset)
    }

    /// `{"type":"snapshot","quote":<raw>,"token":"p:o"}`, or `{"type":"snapshot","quote":<raw>}`
    /// when the quote's position is unknown (`offset` < 0: loaded from `prices.latest`).
    public static func snapshot(quote: [UInt8], partition: Int32, offset: Int64) -> ServerFrame {
        guard offset >= 0 else {
            return build(capacity: GatewayWireFormat.snapshotPrefix.count + quote.count + 1, partition: nil, offset: -1) {
                $0.writeBytes(GatewayWireFormat.snapshotPrefix)
                $0.writeBytes(quote)
                $0.writeInteger(UInt8(ascii: "}"))
            }
        }
        return quoteFrame(prefix: GatewayWireFormat.snapshotPrefix, quote: quote, partition: partition, offset: offset)
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

    private static func quoteFrame(prefix: [UInt8], quote: [UInt8], partition: Int32, offset: Int64) -> ServerFrame {
        build(capacity: prefix.count + quote.count + 36, partition: partition, offset: offset) { buffer in
            buffer.writeBytes(prefix)
            buffer.writeBytes(quote)
            buffer.writeBytes(GatewayWireFormat.tokenInfix)
            buffer.writeString(String(partition))
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeString(String(offset))
            buffer.writeBytes(GatewayWireFormat.tokenSuffix)
        }
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
