/// Everything that can go wrong while turning bytes into Kafka messages or back.
///
/// Decoding never traps on hostile input: every length, count and varint read from
/// the wire is checked, and a violation surfaces as one of these cases.
public enum KafkaProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The buffer ended before `needed` more bytes of `what` could be read.
    case truncated(what: String, needed: Int, available: Int)
    /// A length or count was negative where only null (-1) or a size is allowed.
    case invalidLength(what: String, length: Int64)
    /// A varint ran past the longest legal encoding for its width.
    case malformedVarint(what: String)
    /// A string field held bytes that are not UTF-8.
    case invalidUTF8(what: String)
    /// A field that the version does not allow to be null held null (encoding) or read as null (decoding).
    case unexpectedNull(field: String)
    /// The request names an API key this codec does not know.
    case unknownAPIKey(Int16)
    /// The API is known but not in this version.
    case unsupportedVersion(api: Int16, version: Int16)
    /// A frame announced a size beyond the configured maximum (or a negative one).
    case frameTooLarge(size: Int32, maximum: Int32)
    /// A message decoded cleanly but left bytes behind in its frame.
    case trailingBytes(what: String, count: Int)
    /// A record batch failed a structural check.
    case invalidRecordBatch(reason: String)
    /// A record batch's stored CRC-32C does not match its contents.
    case crcMismatch(stored: UInt32, computed: UInt32)
    /// The batch is compressed with a codec this module cannot read.
    case unsupportedCompression(codec: Int8)

    public var description: String {
        switch self {
        case let .truncated(what, needed, available):
            return "truncated \(what): needed \(needed) bytes, \(available) available"
        case let .invalidLength(what, length):
            return "invalid length \(length) for \(what)"
        case let .malformedVarint(what):
            return "malformed varint in \(what)"
        case let .invalidUTF8(what):
            return "\(what) is not valid UTF-8"
        case let .unexpectedNull(field):
            return "\(field) is null in a version where it may not be"
        case let .unknownAPIKey(key):
            return "unknown API key \(key)"
        case let .unsupportedVersion(api, version):
            let name = APIKey(rawValue: api).map { "\($0)" } ?? "api \(api)"
            return "unsupported version \(version) of \(name)"
        case let .frameTooLarge(size, maximum):
            return "frame size \(size) is outside 0...\(maximum)"
        case let .trailingBytes(what, count):
            return "\(count) unread bytes after \(what)"
        case let .invalidRecordBatch(reason):
            return "invalid record batch: \(reason)"
        case let .crcMismatch(stored, computed):
            return "record batch CRC mismatch: stored \(stored), computed \(computed)"
        case let .unsupportedCompression(codec):
            return "record batch compression codec \(codec) is not supported by this reader"
        }
    }
}
