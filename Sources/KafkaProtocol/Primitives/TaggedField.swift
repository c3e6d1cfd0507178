import NIOCore

/// A tagged field this codec does not know (KIP-482). It is kept as raw bytes so a
/// message decodes and re-encodes byte for byte even when a newer peer adds tags.
public struct TaggedField: Hashable, Sendable {
    public var tag: UInt32
    public var data: ByteBuffer

    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}
