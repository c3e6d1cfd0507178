/// The byte layout of the gateway's server→client frames (docs/gateway-protocol.md):
/// one definition, used by the Gateway that writes them and by the Swarm (and any
/// Swift client) that reads them.
///
/// Quote frames have a fixed shape, so a writer concatenates and a reader matches
/// literals instead of running a JSON parser:
///
///     {"type":"update","quote":<raw quote>,"token":"<partition>:<offset>"}
///     {"type":"snapshot","quote":<raw quote>,"token":"<partition>:<offset>"}
///     {"type":"snapshot","quote":<raw quote>}            (position unknown)
///     {"type":"batch","frames":[<frame>,<frame>,…]}      (opt-in, `?batch=1`)
///
/// A batch carries ordinary frames, byte for byte as they would travel alone, in
/// sending order; a reader handles each element as if it had arrived by itself.
public enum GatewayWireFormat {
    /// Every frame starts with this, then its type name and a closing quote.
    public static let typePrefix: [UInt8] = Array(#"{"type":""#.utf8)
    /// `{"type":"update","quote":`
    public static let updatePrefix: [UInt8] = Array(#"{"type":"update","quote":"#.utf8)
    /// `{"type":"snapshot","quote":`
    public static let snapshotPrefix: [UInt8] = Array(#"{"type":"snapshot","quote":"#.utf8)
    /// Between a quote frame's type and its raw quote.
    public static let quoteInfix: [UInt8] = Array(#","quote":"#.utf8)
    /// Between the raw quote and the position `p:o`.
    public static let tokenInfix: [UInt8] = Array(#","token":""#.utf8)
    /// After the position: the closing quote of the token and of the frame.
    public static let tokenSuffix: [UInt8] = Array(#""}"#.utf8)
    /// `{"type":"batch","frames":[`
    public static let batchPrefix: [UInt8] = Array(#"{"type":"batch","frames":["#.utf8)
    /// After a batch's last frame.
    public static let batchSuffix: [UInt8] = Array("]}".utf8)

    /// The frame types a gateway sends.
    public enum FrameType: String, Sendable, CaseIterable {
        case update, snapshot, gap, error, stats, batch
    }

    /// Calls `body` with each frame inside `bytes`: the frames of a batch in order, or
    /// `bytes` itself when it is a single frame. Returns false when a batch is cut
    /// short or its elements are not objects (nothing after the fault is passed on).
    @discardableResult
    public static func forEachFrame(in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard hasPrefix(batchPrefix, bytes) else {
            body(bytes)
            return true
        }
        var position = batchPrefix.count
        let end = bytes.count
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "]") { return true }
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") { position += 1; continue }
            guard byte == UInt8(ascii: "{"), let close = endOfObject(bytes, from: position) else { return false }
            body(UnsafeRawBufferPointer(rebasing: bytes[position..<close]))
            position = close
        }
        return false
    }

    /// Whether `bytes` starts with `literal`.
    public static func hasPrefix(_ literal: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= literal.count else { return false }
        for index in 0..<literal.count where bytes[index] != literal[index] { return false }
        return true
    }

    /// The index just past the object that opens at `start`, honouring strings and
    /// nesting; nil when it does not close.
    static func endOfObject(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var position = start
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if inString {
                if byte == UInt8(ascii: "\\") {
                    position += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return position }
            default: break
            }
        }
        return nil
    }
}
