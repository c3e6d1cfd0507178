import NIOCore

/// A versioned Kafka structure: a request or response body, a header, or an embedded
/// data type such as the consumer protocol's subscription. The generated types in
/// `Generated/` conform; their encoding follows Apache Kafka's JSON definitions.
public protocol KafkaVersionedMessage: Sendable {
    static var validVersions: ClosedRange<Int16> { get }
    /// The first version using compact encodings and tagged fields (KIP-482), if any.
    static var firstFlexibleVersion: Int16? { get }

    init(from buffer: inout ByteBuffer, version: Int16) throws(KafkaProtocolError)
    func write(to writer: inout KafkaWriter, version: Int16) throws(KafkaProtocolError)
}

/// The body of a request or response for one API.
public protocol KafkaAPIMessage: KafkaVersionedMessage {
    static var apiKey: APIKey { get }
}

public protocol KafkaRequestMessage: KafkaAPIMessage {
    associatedtype Response: KafkaResponseMessage
}

public protocol KafkaResponseMessage: KafkaAPIMessage {}

extension KafkaVersionedMessage {
    public static func isFlexible(version: Int16) -> Bool {
        guard let first = firstFlexibleVersion else { return false }
        return version >= first
    }

    /// Decodes a whole buffer and insists nothing is left over.
    public init(decoding buffer: ByteBuffer, version: Int16) throws(KafkaProtocolError) {
        var buffer = buffer
        try self.init(from: &buffer, version: version)
        guard buffer.readableBytes == 0 else {
            throw .trailingBytes(what: "\(Self.self) v\(version)", count: buffer.readableBytes)
        }
    }

    /// Encodes into one contiguous buffer.
    public func encoded(version: Int16, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaProtocolError) -> ByteBuffer {
        var writer = KafkaWriter(allocator: allocator)
        try self.write(to: &writer, version: version)
        return writer.finishContiguous()
    }
}

extension ByteBuffer {
    /// Writes the tagged-field section: a count, then each field as tag, size, bytes, in ascending tag order.
    @inlinable
    public mutating func writeTaggedFields(_ fields: [TaggedField]) {
        self.writeUnsignedVarint(UInt32(fields.count))
        for field in fields {
            self.writeUnsignedVarint(field.tag)
            self.writeUnsignedVarint(UInt32(field.data.readableBytes))
            self.writeImmutableBuffer(field.data)
        }
    }

    /// Writes known tagged fields together with preserved unknown ones, sorted by tag as the protocol requires.
    public mutating func writeTaggedFields(_ known: [TaggedField], merging unknown: [TaggedField]) {
        if unknown.isEmpty {
            self.writeTaggedFields(known)
        } else {
            self.writeTaggedFields((known + unknown).sorted { $0.tag < $1.tag })
        }
    }
}
