import Foundation
import Testing
@testable import KafkaProtocol

/// Reads fields of one simple captured frame per API at fixed byte offsets, worked out by
/// hand from the Kafka protocol guide's field order, without the generated decoder — then
/// checks the decoder agrees. kcat's frames are non-flexible (header v1) except
/// ApiVersions v3 (header v2), and its client id is `rdkafka` (int16 length 7), so every
/// body starts at byte 4 (size) + 2 (api key) + 2 (version) + 4 (correlation id) + 2 + 7 = 21.
@Suite struct GoldenFrameRawByteTests {
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: GoldenFrameTests.directory.appendingPathComponent(name)))
    }

    static func int16(_ bytes: [UInt8], _ at: Int) -> Int16 {
        Int16(bitPattern: UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]))
    }

    static func int32(_ bytes: [UInt8], _ at: Int) -> Int32 {
        Int32(bitPattern: (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[at + $1]) })
    }

    static func int64(_ bytes: [UInt8], _ at: Int) -> Int64 {
        Int64(bitPattern: (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[at + $1]) })
    }

    static func text(_ bytes: [UInt8], _ at: Int, _ count: Int) -> String {
        String(decoding: bytes[at..<at + count], as: UTF8.self)
    }

    /// Size prefix, then the request header every kcat frame shares.
    static func checkHeader(_ bytes: [UInt8], apiKey: Int16, version: Int16) {
        #expect(Int(int32(bytes, 0)) == bytes.count - 4)
        #expect(int16(bytes, 4) == apiKey)
        #expect(int16(bytes, 6) == version)
        #expect(int16(bytes, 12) == 7)
        #expect(text(bytes, 14, 7) == "rdkafka")
    }

    @Test func apiVersionsV3() throws {
        let bytes = try Self.bytes("kcat-ApiVersions-v3.bin")
        Self.checkHeader(bytes, apiKey: 18, version: 3)
        #expect(bytes[21] == 0, "header v2: no tagged fields")
        #expect(bytes[22] == 11, "compact string: length 10 + 1")
        #expect(Self.text(bytes, 23, 10) == "librdkafka")
        #expect(bytes[33] == 6)
        #expect(Self.text(bytes, 34, 5) == "2.0.2")
        #expect(bytes[39] == 0, "body: no tagged fields")
        #expect(bytes.count == 40)
        guard case .apiVersions(let decoded) = try GoldenFrameValueTests.load("kcat-ApiVersions-v3.bin").body else {
            Issue.record("not ApiVersions"); return
        }
        #expect(decoded.clientSoftwareName == Self.text(bytes, 23, 10))
        #expect(decoded.clientSoftwareVersion == Self.text(bytes, 34, 5))
    }

    @Test func metadataV4() throws {
        let bytes = try Self.bytes("kcat-Metadata-v4.bin")
        Self.checkHeader(bytes, apiKey: 3, version: 4)
        #expect(Self.int32(bytes, 21) == 1, "topics: one")
        #expect(Self.int16(bytes, 25) == 6)
        #expect(Self.text(bytes, 27, 6) == "golden")
        #expect(bytes[33] == 1, "allow_auto_topic_creation")
        #expect(bytes.count == 34)
        guard case .metadata(let decoded) = try GoldenFrameValueTests.load("kcat-Metadata-v4.bin").body else {
            Issue.record("not Metadata"); return
        }
        #expect(decoded.topics?.map { $0.name ?? "" } == [Self.text(bytes, 27, 6)])
        #expect(decoded.allowAutoTopicCreation == (bytes[33] == 1))
    }

    @Test func produceV7() throws {
        let bytes = try Self.bytes("kcat-Produce-v7.bin")
        Self.checkHeader(bytes, apiKey: 0, version: 7)
        #expect(Self.int16(bytes, 21) == -1, "transactional_id: null")
        #expect(Self.int16(bytes, 23) == -1, "acks right after transactional_id")
        #expect(Self.int32(bytes, 25) == 30_000, "timeout_ms")
        #expect(Self.int32(bytes, 29) == 1, "topics: one")
        #expect(Self.int16(bytes, 33) == 6)
        #expect(Self.text(bytes, 35, 6) == "golden")
        #expect(Self.int32(bytes, 41) == 1, "partitions: one")
        #expect(Self.int32(bytes, 45) == 0, "partition index")
        #expect(Self.int32(bytes, 49) == 72, "records: 72 bytes")
        // The record batch at 53: base offset, batch length (the rest after 12 bytes), magic, record count.
        #expect(Self.int64(bytes, 53) == 0)
        #expect(Self.int32(bytes, 61) == 72 - 12)
        #expect(bytes[53 + 16] == 2, "magic")
        #expect(Self.int32(bytes, 53 + 57) == 1, "record count")
        #expect(bytes.count == 53 + 72)
        // The last record: ... key length varint 2 (zig-zag 4) "k0", value length 4 "v0", no headers.
        #expect(Array(bytes.suffix(7)) == [0x04, 0x6B, 0x30, 0x04, 0x76, 0x30, 0x00])
        guard case .produce(let decoded) = try GoldenFrameValueTests.load("kcat-Produce-v7.bin").body else {
            Issue.record("not Produce"); return
        }
        #expect(decoded.acks == Self.int16(bytes, 23))
        #expect(decoded.timeoutMs == Self.int32(bytes, 25))
        #expect(decoded.topicData.first?.partitionData.first?.records?.readableBytes == Int(Self.int32(bytes, 49)))
    }

    @Test func fetchV11() throws {
        let bytes = try Self.bytes("kcat-Fetch-v11.bin")
        Self.checkHeader(bytes, apiKey: 1, version: 11)
        #expect(Self.int32(bytes, 21) == -1, "replica_id")
        #expect(Self.int32(bytes, 25) == 500, "max_wait_ms")
        #expect(Self.int32(bytes, 29) == 1, "min_bytes")
        #expect(Self.int32(bytes, 33) == 52_428_800, "max_bytes")
        #expect(bytes[37] == 1, "isolation_level: read committed")
        #expect(Self.int32(bytes, 38) == 0, "session_id")
        #expect(Self.int32(bytes, 42) == -1, "session_epoch")
        #expect(Self.int32(bytes, 46) == 1, "topics: one")
        #expect(Self.text(bytes, 52, 6) == "golden")
        #expect(Self.int32(bytes, 58) == 1, "partitions: one")
        #expect(Self.int32(bytes, 62) == 0, "partition")
        #expect(Self.int32(bytes, 66) == -1, "current_leader_epoch")
        #expect(Self.int64(bytes, 70) == 0, "fetch_offset")
        #expect(Self.int64(bytes, 78) == -1, "log_start_offset")
        #expect(Self.int32(bytes, 86) == 1_048_576, "partition_max_bytes")
        #expect(Self.int32(bytes, 90) == 0, "forgotten topics: none")
        #expect(Self.int16(bytes, 94) == 0, "rack_id: empty")
        #expect(bytes.count == 96)
        guard case .fetch(let decoded) = try GoldenFrameValueTests.load("kcat-Fetch-v11.bin").body else {
            Issue.record("not Fetch"); return
        }
        #expect(decoded.maxWaitMs == Self.int32(bytes, 25))
        #expect(decoded.minBytes == Self.int32(bytes, 29))
        #expect(decoded.isolationLevel == Int8(bitPattern: bytes[37]))
        #expect(decoded.topics.first?.partitions.first?.fetchOffset == Self.int64(bytes, 70))
        #expect(decoded.topics.first?.partitions.first?.currentLeaderEpoch == Self.int32(bytes, 66))
    }

    @Test func joinGroupV5() throws {
        let bytes = try Self.bytes("kcat-JoinGroup-v5.bin")
        Self.checkHeader(bytes, apiKey: 11, version: 5)
        #expect(Self.int16(bytes, 21) == 11)
        #expect(Self.text(bytes, 23, 11) == "golden-kcat")
        #expect(Self.int32(bytes, 34) == 45_000, "session_timeout_ms")
        #expect(Self.int32(bytes, 38) == 300_000, "rebalance_timeout_ms")
        #expect(Self.int16(bytes, 42) == 0, "member_id: empty")
        #expect(Self.int16(bytes, 44) == -1, "group_instance_id: null")
        #expect(Self.int16(bytes, 46) == 8)
        #expect(Self.text(bytes, 48, 8) == "consumer")
        #expect(Self.int32(bytes, 56) == 2, "protocols: two")
        #expect(Self.int16(bytes, 60) == 5)
        #expect(Self.text(bytes, 62, 5) == "range")
        #expect(Self.int32(bytes, 67) == 22, "metadata bytes")
        #expect(Self.int16(bytes, 71 + 22) == 10)
        #expect(Self.text(bytes, 71 + 24, 10) == "roundrobin")
        guard case .joinGroup(let decoded) = try GoldenFrameValueTests.load("kcat-JoinGroup-v5.bin").body else {
            Issue.record("not JoinGroup"); return
        }
        #expect(decoded.sessionTimeoutMs == Self.int32(bytes, 34))
        #expect(decoded.rebalanceTimeoutMs == Self.int32(bytes, 38))
        #expect(decoded.protocols.first?.metadata.readableBytes == Int(Self.int32(bytes, 67)))
    }
}
