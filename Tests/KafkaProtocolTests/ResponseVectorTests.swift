import NIOCore
import Testing
@testable import KafkaProtocol

/// Responses written out byte by byte from the field order in Apache Kafka's JSON
/// definitions (/work/shared/kafka-protocol/*Response.json and ResponseHeader.json), then
/// decoded, field by field; and the codec must encode the decoded value back to the same
/// bytes. The other response tests only check the codec against itself.
@Suite struct ResponseVectorTests {
    /// Reads the response header the way a client does, then the whole body.
    static func decode<Response: KafkaResponseMessage>(
        _ type: Response.Type, version: Int16, _ bytes: [UInt8]
    ) throws -> (correlationID: Int32, body: Response, bodyBytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        let header = try KafkaFrame.readResponseHeader(from: &buffer, apiKey: Response.apiKey, version: version)
        let bodyBytes = Array(buffer.readableBytesView)
        return (header.correlationID, try Response(decoding: buffer, version: version), bodyBytes)
    }

    @Test func apiVersionsV3WithTaggedFields() throws {
        let bytes: [UInt8] = [
            0x00, 0x00, 0x00, 0x07,                     // correlation_id 7; header v0 even though v3 is flexible (KIP-511)
            0x00, 0x00,                                 // error_code 0
            0x03,                                       // api_keys: compact array of 2 (N + 1)
            0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00,   //   api_key 18, min 0, max 4, no tags
            0x00, 0x03, 0x00, 0x01, 0x00, 0x0C, 0x00,   //   api_key 3, min 1, max 12, no tags
            0x00, 0x00, 0x00, 0x64,                     // throttle_time_ms 100
            0x03,                                       // three tagged fields, ascending
            0x00, 0x08,                                 //   tag 0 SupportedFeatures, 8 bytes:
            0x02, 0x02, 0x78, 0x00, 0x01, 0x00, 0x03, 0x00, //   one: name "x", min 1, max 3, no tags
            0x01, 0x08,                                 //   tag 1 FinalizedFeaturesEpoch, 8 bytes:
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A, //   42
            0x07, 0x02, 0xAB, 0xCD,                     //   tag 7, unknown to the codec: 2 bytes kept
        ]
        let (correlationID, response, body) = try Self.decode(ApiVersionsResponse.self, version: 3, bytes)
        #expect(correlationID == 7)
        #expect(response.errorCode == 0)
        #expect(response.apiKeys.map(\.apiKey) == [18, 3])
        #expect(response.apiKeys.map(\.minVersion) == [0, 1])
        #expect(response.apiKeys.map(\.maxVersion) == [4, 12])
        #expect(response.throttleTimeMs == 100)
        #expect(response.supportedFeatures.map(\.name) == ["x"])
        #expect(response.supportedFeatures.first?.minVersion == 1)
        #expect(response.supportedFeatures.first?.maxVersion == 3)
        #expect(response.finalizedFeaturesEpoch == 42)
        #expect(response.finalizedFeatures.isEmpty)
        #expect(response.zkMigrationReady == false)
        #expect(response.unknownTaggedFields == [TaggedField(tag: 7, data: ByteBuffer(bytes: [0xAB, 0xCD]))])
        #expect(Array(try response.encoded(version: 3).readableBytesView) == body)
    }

    @Test func apiVersionsV3WithoutTaggedFieldsTakesTheDefaults() throws {
        let bytes: [UInt8] = [
            0x00, 0x00, 0x00, 0x01,                     // correlation_id 1
            0x00, 0x23,                                 // error_code 35 UNSUPPORTED_VERSION
            0x01,                                       // api_keys: empty compact array
            0x00, 0x00, 0x00, 0x00,                     // throttle_time_ms 0
            0x00,                                       // no tagged fields
        ]
        let (_, response, body) = try Self.decode(ApiVersionsResponse.self, version: 3, bytes)
        #expect(response.errorCode == 35)
        #expect(response.apiKeys.isEmpty)
        #expect(response.finalizedFeaturesEpoch == -1, "the JSON's default")
        #expect(response.supportedFeatures.isEmpty)
        #expect(Array(try response.encoded(version: 3).readableBytesView) == body)
    }

    @Test func metadataV1WithOneBrokerAndOneTopic() throws {
        let bytes: [UInt8] = [
            0x00, 0x00, 0x00, 0x09,                     // correlation_id 9 (header v0)
            0x00, 0x00, 0x00, 0x01,                     // brokers: 1
            0x00, 0x00, 0x00, 0x01,                     //   node_id 1
            0x00, 0x09, 0x31, 0x32, 0x37, 0x2E, 0x30, 0x2E, 0x30, 0x2E, 0x31, // host "127.0.0.1"
            0x00, 0x00, 0x23, 0x84,                     //   port 9092
            0xFF, 0xFF,                                 //   rack: null (v1+)
            0x00, 0x00, 0x00, 0x01,                     // controller_id 1 (v1+)
            0x00, 0x00, 0x00, 0x01,                     // topics: 1
            0x00, 0x00,                                 //   error_code 0
            0x00, 0x06, 0x67, 0x6F, 0x6C, 0x64, 0x65, 0x6E, // name "golden"
            0x00,                                       //   is_internal false (v1+)
            0x00, 0x00, 0x00, 0x02,                     //   partitions: 2
            0x00, 0x00,                                 //     error_code 0
            0x00, 0x00, 0x00, 0x00,                     //     partition_index 0
            0x00, 0x00, 0x00, 0x01,                     //     leader_id 1
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, // replica_nodes [1]
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, // isr_nodes [1]
            0x00, 0x05,                                 //     error_code 5 LEADER_NOT_AVAILABLE
            0x00, 0x00, 0x00, 0x01,                     //     partition_index 1
            0xFF, 0xFF, 0xFF, 0xFF,                     //     leader_id -1
            0x00, 0x00, 0x00, 0x00,                     //     replica_nodes []
            0x00, 0x00, 0x00, 0x00,                     //     isr_nodes []
        ]
        let (correlationID, response, body) = try Self.decode(MetadataResponse.self, version: 1, bytes)
        #expect(correlationID == 9)
        #expect(response.brokers.count == 1)
        #expect(response.brokers.first?.nodeID == 1)
        #expect(response.brokers.first?.host == "127.0.0.1")
        #expect(response.brokers.first?.port == 9092)
        #expect(response.brokers.first?.rack == nil)
        #expect(response.controllerID == 1)
        #expect(response.topics.count == 1)
        let topic = try #require(response.topics.first)
        #expect(topic.errorCode == 0)
        #expect(topic.name == "golden")
        #expect(topic.isInternal == false)
        #expect(topic.partitions.map(\.partitionIndex) == [0, 1])
        #expect(topic.partitions.map(\.errorCode) == [0, 5])
        #expect(topic.partitions.map(\.leaderID) == [1, -1])
        #expect(topic.partitions.map(\.replicaNodes) == [[1], []])
        #expect(topic.partitions.map(\.isrNodes) == [[1], []])
        #expect(Array(try response.encoded(version: 1).readableBytesView) == body)
    }

    @Test func produceV7WithOnePartition() throws {
        let bytes: [UInt8] = [
            0x00, 0x00, 0x00, 0x03,                     // correlation_id 3 (header v0)
            0x00, 0x00, 0x00, 0x01,                     // responses: 1 topic
            0x00, 0x06, 0x67, 0x6F, 0x6C, 0x64, 0x65, 0x6E, // name "golden"
            0x00, 0x00, 0x00, 0x01,                     //   partition_responses: 1
            0x00, 0x00, 0x00, 0x02,                     //     index 2
            0x00, 0x00,                                 //     error_code 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2C, // base_offset 300
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // log_append_time_ms -1 (v2+)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, // log_start_offset 10 (v5+)
            0x00, 0x00, 0x00, 0x05,                     // throttle_time_ms 5 (after the responses)
        ]
        let (correlationID, response, body) = try Self.decode(ProduceResponse.self, version: 7, bytes)
        #expect(correlationID == 3)
        #expect(response.responses.map(\.name) == ["golden"])
        let partition = try #require(response.responses.first?.partitionResponses.first)
        #expect(response.responses.first?.partitionResponses.count == 1)
        #expect(partition.index == 2)
        #expect(partition.errorCode == 0)
        #expect(partition.baseOffset == 300)
        #expect(partition.logAppendTimeMs == -1)
        #expect(partition.logStartOffset == 10)
        #expect(response.throttleTimeMs == 5)
        #expect(Array(try response.encoded(version: 7).readableBytesView) == body)
    }

    @Test func produceV9IsFlexibleAndUsesResponseHeaderV1() throws {
        let bytes: [UInt8] = [
            0x00, 0x00, 0x00, 0x04,                     // correlation_id 4
            0x00,                                       // header v1: no tagged fields
            0x02,                                       // responses: compact array of 1
            0x07, 0x67, 0x6F, 0x6C, 0x64, 0x65, 0x6E,   //   name: compact string "golden"
            0x02,                                       //   partition_responses: 1
            0x00, 0x00, 0x00, 0x00,                     //     index 0
            0x00, 0x2F,                                 //     error_code 47 INVALID_PRODUCER_EPOCH
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // base_offset -1
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // log_append_time_ms -1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // log_start_offset 0
            0x02,                                       //     record_errors: 1 (v8+)
            0x00, 0x00, 0x00, 0x01,                     //       batch_index 1
            0x00,                                       //       batch_index_error_message: null
            0x00,                                       //       no tags
            0x04, 0x62, 0x61, 0x64,                     //     error_message: "bad" (v8+)
            0x00,                                       //     no tags
            0x00,                                       //   no tags
            0x00, 0x00, 0x00, 0x00,                     // throttle_time_ms 0
            0x00,                                       // no tags
        ]
        let (correlationID, response, body) = try Self.decode(ProduceResponse.self, version: 9, bytes)
        #expect(correlationID == 4)
        let partition = try #require(response.responses.first?.partitionResponses.first)
        #expect(response.responses.map(\.name) == ["golden"])
        #expect(partition.index == 0)
        #expect(partition.errorCode == 47)
        #expect(partition.baseOffset == -1)
        #expect(partition.logStartOffset == 0)
        #expect(partition.recordErrors.map(\.batchIndex) == [1])
        #expect(partition.recordErrors.first?.batchIndexErrorMessage == nil)
        #expect(partition.errorMessage == "bad")
        #expect(response.throttleTimeMs == 0)
        #expect(Array(try response.encoded(version: 9).readableBytesView) == body)
    }
}
