import NIOCore
import NIOEmbedded
import Testing
@testable import KafkaProtocol

@Suite struct FramingTests {
    @Test func frameDecoderSplitsAndReassemblesFrames() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: 1024)))
        var input = ByteBuffer()
        input.writeInteger(Int32(3)); input.writeBytes([1, 2, 3])
        input.writeInteger(Int32(0))
        input.writeInteger(Int32(2)); input.writeBytes([9])
        try channel.writeInbound(input)
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer())
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: [8]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [9, 8]))
        #expect(try channel.finish().isClean)
    }

    @Test func oversizedFrameIsRejected() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: 1024)))
        var input = ByteBuffer()
        input.writeInteger(Int32(1025))
        #expect(throws: KafkaProtocolError.frameTooLarge(size: 1025, maximum: 1024)) { try channel.writeInbound(input) }
        _ = try? channel.finish()
    }

    @Test func negativeFrameSizeIsRejected() throws {
        var input = ByteBuffer()
        input.writeInteger(Int32(-5))
        #expect(throws: KafkaProtocolError.frameTooLarge(size: -5, maximum: 100)) {
            _ = try KafkaFrameDecoder.nextFrame(from: &input, maximumFrameSize: 100)
        }
    }

    @Test func requestFrameRoundTripsWithTheRightHeaderVersion() throws {
        let request = MetadataRequest(topics: [.init(name: "prices")], allowAutoTopicCreation: false)
        for version in Int16(0)...12 {
            var frame = try KafkaFrame.encodeRequest(request, version: version, correlationID: 77, clientID: "tester")
            let payload = try #require(try KafkaFrameDecoder.nextFrame(from: &frame, maximumFrameSize: 1 << 20))
            let parsed = try KafkaRequestFrame(parsing: payload)
            #expect(parsed.apiKey == .metadata)
            #expect(parsed.apiVersion == version)
            #expect(parsed.correlationID == 77)
            #expect(parsed.header.clientID == "tester")
            guard case .metadata(let decoded) = try parsed.decodeBody() else {
                Issue.record("wrong body")
                continue
            }
            #expect(decoded.topics?.first?.name == "prices")
        }
    }

    @Test func requestHeaderV2KeepsTheClassicClientIDAndAddsTags() throws {
        var frame = try KafkaFrame.encodeRequest(ApiVersionsRequest(clientSoftwareName: "a", clientSoftwareVersion: "1"),
                                                 version: 3, correlationID: 1, clientID: "c")
        frame.moveReaderIndex(forwardBy: 4)
        // api key 18, version 3, correlation 1, client id as int16-length "c", empty tag buffer.
        #expect(Array(frame.readSlice(length: 12)!.readableBytesView) == [0, 18, 0, 3, 0, 0, 0, 1, 0, 1, 0x63, 0])
    }

    @Test func apiVersionsResponseHeaderIsAlwaysV0() throws {
        #expect(KafkaHeaderVersion.response(apiKey: .apiVersions, version: 3) == 0)
        #expect(KafkaHeaderVersion.response(apiKey: .metadata, version: 9) == 1)
        #expect(KafkaHeaderVersion.response(apiKey: .metadata, version: 8) == 0)
        #expect(KafkaHeaderVersion.request(apiKey: .apiVersions, version: 3) == 2)
        #expect(KafkaHeaderVersion.request(apiKey: .produce, version: 8) == 1)
    }

    @Test func unknownAPIKeyParsesTheHeaderButNotTheBody() throws {
        var payload = ByteBuffer()
        payload.writeInteger(Int16(999)); payload.writeInteger(Int16(0)); payload.writeInteger(Int32(5))
        payload.writeInteger(Int16(-1))
        let parsed = try KafkaRequestFrame(parsing: payload)
        #expect(parsed.apiKey == nil)
        #expect(parsed.correlationID == 5)
        #expect(throws: KafkaProtocolError.unknownAPIKey(999)) { _ = try parsed.decodeBody() }
    }

    @Test func unsupportedVersionIsAnErrorNotATrap() throws {
        var payload = ByteBuffer()
        payload.writeInteger(Int16(APIKey.fetch.rawValue)); payload.writeInteger(Int16(99)); payload.writeInteger(Int32(5))
        payload.writeInteger(Int16(-1))
        let parsed = try KafkaRequestFrame(parsing: payload)
        #expect(throws: KafkaProtocolError.unsupportedVersion(api: 1, version: 99)) { _ = try parsed.decodeBody() }
    }

    @Test func truncatedRequestHeaderIsAnError() {
        #expect(throws: KafkaProtocolError.self) { _ = try KafkaRequestFrame(parsing: ByteBuffer(bytes: [0, 3, 0])) }
        #expect(throws: KafkaProtocolError.self) { _ = try KafkaRequestFrame(parsing: ByteBuffer(bytes: [0, 3, 0, 1, 0, 0])) }
    }

    @Test func trailingBytesAfterABodyAreAnError() throws {
        var frame = try KafkaFrame.encodeRequest(HeartbeatRequest(groupID: "g", generationID: 1, memberID: "m"),
                                                 version: 0, correlationID: 1, clientID: nil)
        frame.writeBytes([0xde, 0xad])
        frame.setInteger(Int32(frame.readableBytes - 4), at: 0)
        let payload = try #require(try KafkaFrameDecoder.nextFrame(from: &frame, maximumFrameSize: 1024))
        #expect(throws: KafkaProtocolError.trailingBytes(what: "Heartbeat v0 request", count: 2)) {
            _ = try KafkaRequestFrame(parsing: payload).decodeBody(strict: true)
        }
        // As Apache Kafka does, the broker's lenient mode reads the body and ignores the rest.
        guard case .heartbeat(let heartbeat) = try KafkaRequestFrame(parsing: payload).decodeBody() else {
            Issue.record("expected a heartbeat")
            return
        }
        #expect(heartbeat.memberID == "m")
    }

    @Test func responseRecordsCanBeAttachedWithoutACopy() throws {
        let records = RecordBatchTests.sampleBatch(records: 50)
        let response = FetchResponse(responses: [.init(topic: "t", partitions: [.init(partitionIndex: 0, highWatermark: 50, records: records)])])
        // v11: the records end the message, so there is nothing after the slice.
        let v11 = try KafkaFrame.encodeResponse(.fetch(response), version: 11, correlationID: 9, sliceThreshold: 64)
        #expect(v11.count == 2)
        #expect(v11[1] == records)
        // Same storage, not an equal copy.
        let original = records.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(v11[1].withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == original)
        // v12: tagged-field sections follow the records in a third chunk.
        let v12 = try KafkaFrame.encodeResponse(.fetch(response), version: 12, correlationID: 9, sliceThreshold: 64)
        #expect(v12.count == 3)
        #expect(v12[1] == records)
        let chunks = v11
        var joined = ByteBuffer()
        for chunk in chunks { joined.writeImmutableBuffer(chunk) }
        let contiguous = try KafkaFrame.encodeResponse(.fetch(response), version: 11, correlationID: 9)
        #expect(contiguous.count == 1)
        #expect(joined == contiguous[0])
        var payload = try #require(try KafkaFrameDecoder.nextFrame(from: &joined, maximumFrameSize: 1 << 20))
        #expect(try KafkaFrame.readResponseHeader(from: &payload, apiKey: .fetch, version: 11).correlationID == 9)
        #expect(try FetchResponse(decoding: payload, version: 11) == response)
    }
}
