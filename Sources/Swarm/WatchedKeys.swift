import NIOCore

/// A client's watchlist as record keys: tells from a record's key bytes, without
/// allocating or parsing JSON, whether the record is for a watched symbol.
///
/// The pricer keys every quote by its ticker (at most 16 bytes, `A`–`Z` and `.`), so
/// a key is packed into two 64-bit words plus its length and looked up in a hash
/// table; a longer key cannot be a ticker and is not watched.
public struct WatchedKeys: Sendable {
    struct Packed: Hashable, Sendable {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count: Int = 0
    }

    private var symbols: [Packed: String] = [:]

    public init(_ watchlist: some Sequence<String>) {
        for symbol in watchlist {
            let bytes = Array(symbol.utf8)
            if let packed = bytes.withUnsafeBytes({ Self.pack($0) }) { symbols[packed] = symbol }
        }
    }

    public var count: Int { symbols.count }

    /// The watched symbol a record key names, or nil.
    public func symbol(forKey key: ByteBuffer) -> String? {
        key.withUnsafeReadableBytes { bytes in
            Self.pack(bytes).flatMap { symbols[$0] }
        }
    }

    static func pack(_ bytes: UnsafeRawBufferPointer) -> Packed? {
        guard bytes.count <= 16 else { return nil }
        var packed = Packed(count: bytes.count)
        for index in 0..<bytes.count {
            let value = UInt64(bytes[index])
            if index < 8 {
                packed.low |= value << (8 * UInt64(index))
            } else {
                packed.high |= value << (8 * UInt64(index - 8))
            }
        }
        return packed
    }
}
