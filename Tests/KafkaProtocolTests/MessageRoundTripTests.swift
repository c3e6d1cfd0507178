import NIOCore
import Testing
@testable import KafkaProtocol

/// Implemented by the generated samples in Generated/MessageSamples.swift.
protocol SampleableMessage: KafkaVersionedMessage, Equatable {
    static func sample(version: Int16, seed: Int, nulls: Bool, unknownTags: Bool) -> Self
}

struct MessageTypeArgument: CustomTestStringConvertible, Sendable {
    let type: any SampleableMessage.Type
    var testDescription: String { "\(type)" }
}

@Suite("Generated message codecs")
struct MessageRoundTripTests {
    static let allTypes = allGeneratedMessageTypes.map(MessageTypeArgument.init)

    @Test("every field of every version survives encode → decode → encode", arguments: allTypes)
    func roundTripEveryVersion(_ argument: MessageTypeArgument) throws {
        try checkRoundTrips(argument.type)
    }

    @Test("every truncation of every version throws instead of trapping", arguments: allTypes)
    func truncationsThrow(_ argument: MessageTypeArgument) throws {
        try checkTruncations(argument.type)
    }

    @Test func everyTableVersionIsWithinTheCodecRange() {
        for (apiKey, versions) in SupportedAPIVersions.tickstream {
            #expect(apiKey.codecVersions.contains(versions.lowerBound), "\(apiKey)")
            #expect(apiKey.codecVersions.contains(versions.upperBound), "\(apiKey)")
        }
        #expect(SupportedAPIVersions.tickstream.count == 24)
    }

    @Test func taggedFieldIsWrittenOnlyWhenSetAndReadBack() throws {
        // FetchRequest v12 carries ClusterId as tagged field 0.
        var request = FetchRequest(maxWaitMs: 500, minBytes: 1)
        let withoutTag = try request.encoded(version: 12)
        request.clusterID = "cluster-a"
        let withTag = try request.encoded(version: 12)
        // tag 0 (1 byte), size (1 byte), compact string: length+1 (1 byte) and 9 bytes.
        #expect(withTag.readableBytes == withoutTag.readableBytes + 1 + 1 + 1 + 9)
        let decoded = try FetchRequest(decoding: withTag, version: 12)
        #expect(decoded.clusterID == "cluster-a")
        #expect(decoded.unknownTaggedFields.isEmpty)
        // In v11 the field does not exist and is not written.
        let v11 = try FetchRequest(decoding: try request.encoded(version: 11), version: 11)
        #expect(v11.clusterID == nil)
    }

    @Test func unknownTagsAreSkippedAndKept() throws {
        // A newer peer adds tag 7 to a Metadata request body; we read past it and keep it.
        var request = MetadataRequest(topics: [.init(name: "prices")], allowAutoTopicCreation: true)
        request.unknownTaggedFields = [TaggedField(tag: 7, data: ByteBuffer(bytes: [1, 2, 3]))]
        let bytes = try request.encoded(version: 12)
        let decoded = try MetadataRequest(decoding: bytes, version: 12)
        #expect(decoded.topics?.first?.name == "prices")
        #expect(decoded.unknownTaggedFields == request.unknownTaggedFields)
        #expect(try decoded.encoded(version: 12) == bytes)
    }

    @Test func nullInNonNullableVersionIsRejectedWhenEncoding() {
        // MetadataResponseTopic.Name is nullable only from v12.
        let response = MetadataResponse(topics: [.init(name: nil)])
        #expect(throws: KafkaProtocolError.unexpectedNull(field: "MetadataResponseTopic.name")) {
            _ = try response.encoded(version: 11)
        }
        #expect(throws: Never.self) { _ = try response.encoded(version: 12) }
    }

    @Test func nullableRecordsRoundTripAsNull() throws {
        let request = ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [
            .init(name: "t", partitionData: [.init(index: 0, records: nil)])
        ])
        for version in ProduceRequest.validVersions {
            let decoded = try ProduceRequest(decoding: try request.encoded(version: version), version: version)
            #expect(decoded.topicData[0].partitionData[0].records == nil)
        }
    }

    private func checkRoundTrips<M: SampleableMessage>(_ type: M.Type) throws {
        for version in M.validVersions {
            for (nulls, unknownTags) in [(false, false), (true, false), (false, true)] {
                let value = M.sample(version: version, seed: 1, nulls: nulls, unknownTags: unknownTags)
                let bytes = try value.encoded(version: version)
                let decoded = try M(decoding: bytes, version: version)
                #expect(decoded == value, "\(M.self) v\(version) nulls=\(nulls) unknownTags=\(unknownTags)")
                #expect(try decoded.encoded(version: version) == bytes, "\(M.self) v\(version)")
            }
        }
    }

    private func checkTruncations<M: SampleableMessage>(_ type: M.Type) throws {
        for version in M.validVersions {
            let bytes = try M.sample(version: version, seed: 1, nulls: false, unknownTags: true).encoded(version: version)
            for length in 0..<bytes.readableBytes {
                let prefix = bytes.getSlice(at: bytes.readerIndex, length: length)!
                #expect(throws: KafkaProtocolError.self, "\(M.self) v\(version) cut at \(length)") {
                    _ = try M(decoding: prefix, version: version)
                }
            }
        }
    }
}
