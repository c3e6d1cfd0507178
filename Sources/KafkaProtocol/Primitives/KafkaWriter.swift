import NIOCore

/// The sink every message encoder writes into.
///
/// Most fields go into `buffer`. Record data (`records` fields in Produce and Fetch)
/// can be large and is usually a slice of bytes that already exist elsewhere, a
/// broker's stored log segment above all; copying it into the response would cost a
/// memcpy per consumer. When `sliceThreshold` allows, `writeRecords` closes the
/// current chunk and keeps the records slice as its own chunk, so the encoded
/// message is a list of buffers that a channel writes with one gathering `writev`.
public struct KafkaWriter: Sendable {
    /// The chunk being written now.
    public var buffer: ByteBuffer
    @usableFromInline var finishedChunks: [ByteBuffer] = []
    /// Records at least this long are attached by reference instead of copied.
    public let sliceThreshold: Int

    public init(buffer: ByteBuffer, sliceThreshold: Int = .max) {
        self.buffer = buffer
        self.sliceThreshold = sliceThreshold
    }

    public init(allocator: ByteBufferAllocator = ByteBufferAllocator(), capacity: Int = 256, sliceThreshold: Int = .max) {
        self.init(buffer: allocator.buffer(capacity: capacity), sliceThreshold: sliceThreshold)
    }

    /// Bytes written so far, across all chunks.
    public var writtenBytes: Int {
        self.finishedChunks.reduce(self.buffer.readableBytes) { $0 + $1.readableBytes }
    }

    /// Writes a `records` field: a nullable bytes field whose payload may be attached by reference.
    @inlinable
    public mutating func writeRecords(_ records: ByteBuffer?, compact: Bool, _ what: StaticString) throws(KafkaProtocolError) {
        guard let records, records.readableBytes >= self.sliceThreshold else {
            try self.buffer.writeKafkaNullableBytes(records, compact: compact, what)
            return
        }
        try self.buffer.writeKafkaLength(records.readableBytes, compact: compact, wide: true, what)
        self.finishedChunks.append(self.buffer)
        self.finishedChunks.append(records)
        self.buffer = ByteBuffer()
        self.buffer.reserveCapacity(256)
    }

    /// The encoded bytes as the list of chunks to write, in order.
    public consuming func finish() -> [ByteBuffer] {
        var chunks = self.finishedChunks
        if self.buffer.readableBytes > 0 || chunks.isEmpty {
            chunks.append(self.buffer)
        }
        return chunks
    }

    /// The encoded bytes in one buffer (copies any attached slices).
    public consuming func finishContiguous() -> ByteBuffer {
        if self.finishedChunks.isEmpty { return self.buffer }
        var result = ByteBuffer()
        result.reserveCapacity(self.writtenBytes)
        for chunk in self.finishedChunks { result.writeImmutableBuffer(chunk) }
        result.writeImmutableBuffer(self.buffer)
        return result
    }
}
