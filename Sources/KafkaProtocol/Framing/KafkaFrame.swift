import NIOCore

/// Header versions and whole-frame encoding for requests and responses.
///
/// A request header is v2 (compact client id is *not* used; tagged fields are) when the
/// request body is flexible, else v1. A response header is v1 (with tagged fields) when
/// the body is flexible, else v0 — except ApiVersions, whose response header is always
/// v0 so that a client can read the error of a version the broker does not speak (KIP-511).
public enum KafkaHeaderVersion {
    public static func request(apiKey: APIKey, version: Int16) -> Int16 {
        guard let first = apiKey.firstFlexibleVersion, version >= first else { return 1 }
        return 2
    }

    public static func response(apiKey: APIKey, version: Int16) -> Int16 {
        if apiKey == .apiVersions { return 0 }
        guard let first = apiKey.firstFlexibleVersion, version >= first else { return 0 }
        return 1
    }
}

/// A request as the broker receives it: the parsed header and the still-encoded body.
public struct KafkaRequestFrame: Sendable {
    public var header: RequestHeader
    public var body: ByteBuffer

    public var apiVersion: Int16 { header.requestApiVersion }
    public var correlationID: Int32 { header.correlationID }
    /// Nil when the key is not one this codec knows.
    public var apiKey: APIKey? { APIKey(rawValue: header.requestApiKey) }

    public init(header: RequestHeader, body: ByteBuffer) {
        self.header = header
        self.body = body
    }

    /// Parses the request header at the front of a frame payload. The header version
    /// follows from the API key and version; for an API key this codec does not know,
    /// the header is read as v1, which every Kafka request shares up to the client id.
    public init(parsing frame: ByteBuffer) throws(KafkaProtocolError) {
        var buffer = frame
        guard let key = buffer.getInteger(at: buffer.readerIndex, as: Int16.self),
              let version = buffer.getInteger(at: buffer.readerIndex + 2, as: Int16.self) else {
            throw .truncated(what: "request header", needed: 4, available: buffer.readableBytes)
        }
        var headerVersion: Int16 = 1
        if let apiKey = APIKey(rawValue: key), apiKey.codecVersions.contains(version) {
            headerVersion = KafkaHeaderVersion.request(apiKey: apiKey, version: version)
        }
        let header = try RequestHeader(from: &buffer, version: headerVersion)
        self.init(header: header, body: buffer)
    }

    /// Decodes the body for its API and version.
    ///
    /// Bytes left after the body are ignored unless `strict` — Apache Kafka's broker
    /// ignores them too, and real clients depend on it: librdkafka 2.16 sends its
    /// all-topics Metadata v12 request with three bytes after the body
    /// (fixtures/frames/confluent-Metadata-v12-all-topics.bin).
    public func decodeBody(strict: Bool = false) throws(KafkaProtocolError) -> KafkaRequestBody {
        guard let apiKey else { throw .unknownAPIKey(header.requestApiKey) }
        var body = self.body
        let request = try KafkaRequestBody(apiKey: apiKey, version: apiVersion, from: &body)
        if strict && body.readableBytes != 0 {
            throw .trailingBytes(what: "\(apiKey) v\(apiVersion) request", count: body.readableBytes)
        }
        return request
    }
}

public enum KafkaFrame {
    /// Encodes a whole request frame (size, header, body) into one buffer.
    public static func encodeRequest<Request: KafkaRequestMessage>(
        _ request: Request,
        version: Int16,
        correlationID: Int32,
        clientID: String?,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(KafkaProtocolError) -> ByteBuffer {
        var writer = KafkaWriter(allocator: allocator, capacity: 256)
        writer.buffer.writeInteger(Int32(0))
        let header = RequestHeader(
            requestApiKey: Request.apiKey.rawValue,
            requestApiVersion: version,
            correlationID: correlationID,
            clientID: clientID
        )
        try header.write(to: &writer, version: KafkaHeaderVersion.request(apiKey: Request.apiKey, version: version))
        try request.write(to: &writer, version: version)
        var frame = writer.finishContiguous()
        frame.setInteger(Int32(frame.readableBytes - 4), at: frame.readerIndex)
        return frame
    }

    /// Encodes a whole response frame as a list of chunks: the size, header and body
    /// fields in buffers of their own, and any records at or above `sliceThreshold` bytes
    /// as slices of the caller's storage, so they reach the socket without a copy.
    public static func encodeResponse(
        _ response: KafkaResponseBody,
        version: Int16,
        correlationID: Int32,
        allocator: ByteBufferAllocator = ByteBufferAllocator(),
        sliceThreshold: Int = .max
    ) throws(KafkaProtocolError) -> [ByteBuffer] {
        var writer = KafkaWriter(allocator: allocator, capacity: 256, sliceThreshold: sliceThreshold)
        writer.buffer.writeInteger(Int32(0))
        let header = ResponseHeader(correlationID: correlationID)
        try header.write(to: &writer, version: KafkaHeaderVersion.response(apiKey: response.apiKey, version: version))
        try response.write(to: &writer, version: version)
        var chunks = writer.finish()
        let total = chunks.reduce(0) { $0 + $1.readableBytes }
        chunks[0].setInteger(Int32(total - 4), at: chunks[0].readerIndex)
        return chunks
    }

    /// Reads the correlation id and skips the response header of a frame payload,
    /// leaving `frame` at the body.
    public static func readResponseHeader(
        from frame: inout ByteBuffer, apiKey: APIKey, version: Int16
    ) throws(KafkaProtocolError) -> ResponseHeader {
        try ResponseHeader(from: &frame, version: KafkaHeaderVersion.response(apiKey: apiKey, version: version))
    }
}
