import NIOCore

/// Splits a byte stream into Kafka frames: a 4-byte big-endian size, then that many
/// bytes. Emits each frame's payload (without the size) as a slice of the inbound
/// buffer.
///
/// A size below zero or above `maximumFrameSize` is an error: the peer is confused or
/// hostile, and the only safe reaction is to close that one connection, which NIO
/// does when a decoder throws.
public struct KafkaFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// 100 MiB is Kafka's default `socket.request.max.bytes`.
    public static let defaultMaximumFrameSize: Int32 = 100 * 1024 * 1024

    public let maximumFrameSize: Int32

    public init(maximumFrameSize: Int32 = KafkaFrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// Takes one frame off the front of `buffer`, or returns nil when it has not fully arrived.
    public static func nextFrame(from buffer: inout ByteBuffer, maximumFrameSize: Int32) throws(KafkaProtocolError) -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard size >= 0, size <= maximumFrameSize else {
            throw .frameTooLarge(size: size, maximum: maximumFrameSize)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(from: &buffer, maximumFrameSize: maximumFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
