import Foundation
import NIOCore
import Testing
@testable import KafkaProtocol

/// The captured client frames (fixtures/frames) decoded to the values the clients were
/// told to send by scripts/capture/ (topic `golden`, partition 0, records k0:v0..k2:v2,
/// groups `golden-group` and `golden-kcat`, confluent's session.timeout.ms 10000), or,
/// where the scenario left a setting alone, the client's documented default (noted).
/// A field-order mistake shared by the generated decoder and encoder survives the
/// byte-for-byte re-encoding test; it does not survive these.
@Suite struct GoldenFrameValueTests {
    /// A captured frame, its header parsed and its body decoded.
    struct Captured {
        let name: String
        let bytes: [UInt8]
        let frame: KafkaRequestFrame
        let body: KafkaRequestBody
    }

    static func load(_ name: String) throws -> Captured {
        let data = try Data(contentsOf: GoldenFrameTests.directory.appendingPathComponent(name))
        var buffer = ByteBuffer(bytes: data)
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = try KafkaRequestFrame(parsing: buffer)
        return Captured(name: name, bytes: Array(data), frame: frame, body: try frame.decodeBody())
    }

    /// API keys from the Kafka protocol guide, written out here rather than taken from the generated `APIKey`.
    static let apiKeys: [String: Int16] = [
        "Produce": 0, "Fetch": 1, "ListOffsets": 2, "Metadata": 3, "OffsetCommit": 8, "OffsetFetch": 9,
        "FindCoordinator": 10, "JoinGroup": 11, "Heartbeat": 12, "LeaveGroup": 13, "SyncGroup": 14,
        "ApiVersions": 18, "InitProducerId": 22,
    ]

    /// The client id each library really sends: librdkafka's default `rdkafka`; kafka-python and
    /// aiokafka name their producers `<lib>-producer-1` and their consumers `<lib>-<version>`.
    static func expectedClientID(client: String, api: String) -> String? {
        switch client {
        case "kcat", "confluent": return "rdkafka"
        case "kafka-python":
            return ["ApiVersions", "InitProducerId", "Metadata", "Produce"].contains(api)
                ? "kafka-python-producer-1" : "kafka-python-3.0.12"
        case "aiokafka":
            return ["ApiVersions", "Metadata", "Produce"].contains(api) ? "aiokafka-producer-1" : "aiokafka-0.14.0"
        default: return nil
        }
    }

    /// `client-Api-vN[-suffix].bin` → (client, Api, N).
    static func parse(fileName: String) -> (client: String, api: String, version: Int16)? {
        guard let client = ["kafka-python", "confluent", "aiokafka", "kcat"].first(where: { fileName.hasPrefix($0 + "-") }) else {
            return nil
        }
        let rest = fileName.dropFirst(client.count + 1).dropLast(".bin".count)
        let parts = rest.split(separator: "-")
        guard parts.count >= 2, parts[1].hasPrefix("v"), let version = Int16(parts[1].dropFirst()) else { return nil }
        return (client, String(parts[0]), version)
    }

    @Test(arguments: GoldenFrameTests.frameFiles)
    func headerMatchesTheFileAndTheClient(_ name: String) throws {
        let parsed = try #require(Self.parse(fileName: name), "unexpected fixture name \(name)")
        let captured = try Self.load(name)
        #expect(captured.frame.header.requestApiKey == Self.apiKeys[parsed.api], "\(name)")
        #expect(captured.frame.header.requestApiVersion == parsed.version, "\(name)")
        #expect(captured.frame.header.clientID == Self.expectedClientID(client: parsed.client, api: parsed.api), "\(name)")
        #expect(captured.frame.header.correlationID > 0, "\(name)")
    }

    @Test func apiVersionsCarriesTheClientSoftware() throws {
        let expected: [String: (name: String, version: String)] = [
            "kcat-ApiVersions-v3.bin": ("librdkafka", "2.0.2"),
            "confluent-ApiVersions-v3.bin": ("confluent-kafka-python", "2.16.1-rdkafka-2.16.0"),
            "kafka-python-ApiVersions-v4.bin": ("kafka-python", "3.0.12"),
        ]
        for (name, software) in expected {
            guard case .apiVersions(let request) = try Self.load(name).body else {
                Issue.record("\(name) is not ApiVersions"); continue
            }
            #expect(request.clientSoftwareName == software.name, "\(name)")
            #expect(request.clientSoftwareVersion == software.version, "\(name)")
            #expect(request.unknownTaggedFields.isEmpty, "\(name)")
        }
        // aiokafka asks with v0, which has no body at all.
        #expect(try Self.load("aiokafka-ApiVersions-v0.bin").frame.body.readableBytes == 0)
    }

    @Test func metadataAsksForTheGoldenTopic() throws {
        // (file, topic names or nil for all topics, allow_auto_topic_creation). Producers let
        // the broker create topics (librdkafka and kafka-python's defaults; aiokafka's too).
        let expected: [(String, [String]?, Bool)] = [
            ("kcat-Metadata-v4.bin", ["golden"], true),
            ("confluent-Metadata-v12.bin", ["golden"], true),
            ("confluent-Metadata-v12-brokers-only.bin", [], false),
            ("confluent-Metadata-v12-all-topics.bin", nil, false),
            ("kafka-python-Metadata-v12.bin", [], true),
            ("aiokafka-Metadata-v5.bin", [], true),
        ]
        for (name, topics, allowAutoCreate) in expected {
            guard case .metadata(let request) = try Self.load(name).body else {
                Issue.record("\(name) is not Metadata"); continue
            }
            let names: [String]? = request.topics?.map { $0.name ?? "<null>" }
            #expect(names == topics, "\(name)")
            #expect(request.topics?.allSatisfy { $0.topicID == .zero } ?? true, "\(name)")
            #expect(request.allowAutoTopicCreation == allowAutoCreate, "\(name)")
            #expect(request.includeTopicAuthorizedOperations == false, "\(name)")
        }
    }

    @Test func produceSendsTheScenarioRecordsToGoldenPartitionZero() throws {
        // (file, acks, timeout ms, records in the first batch). acks -1 and 30000 ms are
        // librdkafka's defaults; kafka-python 3 is idempotent by default (its session
        // holds an InitProducerId frame), so acks=all;
        // aiokafka defaults to acks=1 and request_timeout_ms=40000. kcat and aiokafka send
        // one record per request (kcat's first batch held only k0; aiokafka awaited each send).
        let expected: [(String, Int16, Int32, Int)] = [
            ("kcat-Produce-v7.bin", -1, 30_000, 1),
            ("confluent-Produce-v9.bin", -1, 30_000, 3),
            ("kafka-python-Produce-v9.bin", -1, 30_000, 3),
            ("aiokafka-Produce-v7.bin", 1, 40_000, 1),
        ]
        for (name, acks, timeout, count) in expected {
            guard case .produce(let request) = try Self.load(name).body else {
                Issue.record("\(name) is not Produce"); continue
            }
            #expect(request.transactionalID == nil, "\(name)")
            #expect(request.acks == acks, "\(name)")
            #expect(request.timeoutMs == timeout, "\(name)")
            #expect(request.topicData.map(\.name) == ["golden"], "\(name)")
            let partitions = request.topicData.first?.partitionData ?? []
            #expect(partitions.map(\.index) == [0], "\(name)")
            let records = try #require(partitions.first?.records, "\(name): null records")
            let batch = try RecordBatch(validating: records)
            #expect(batch.bytes.readableBytes == records.readableBytes, "\(name): one batch fills the field")
            #expect(batch.header.magic == 2, "\(name)")
            #expect(batch.header.baseOffset == 0, "\(name)")
            #expect(batch.header.recordCount == Int32(count), "\(name)")
            let decoded = try batch.records()
            #expect(decoded.map(\.offset) == (0..<count).map(Int64.init), "\(name)")
            #expect(decoded.map { $0.key.map { String(buffer: $0) } ?? "<null>" } == (0..<count).map { "k\($0)" }, "\(name)")
            #expect(decoded.map { $0.value.map { String(buffer: $0) } ?? "<null>" } == (0..<count).map { "v\($0)" }, "\(name)")
            #expect(decoded.allSatisfy { $0.headers.isEmpty }, "\(name)")
        }
    }

    @Test func fetchReadsGoldenFromWhereTheGroupLeftOff() throws {
        // All four use the documented defaults fetch.wait.max.ms / fetch_max_wait_ms 500,
        // fetch.min.bytes 1, fetch.max.bytes 52428800, 1 MiB per partition; librdkafka reads
        // committed (isolation 1). kcat reads partition 0 from the beginning; the golden-group
        // members each read three records and commit, so kafka-python starts at 3 and aiokafka
        // (last) at 6; confluent's first fetch went to partition 7 of the auto-created topic.
        let expected: [(String, isolation: Int8, partition: Int32, fetchOffset: Int64, partitionCount: Int)] = [
            ("kcat-Fetch-v11.bin", 1, 0, 0, 1),
            ("confluent-Fetch-v12.bin", 1, 7, 0, 1),
            ("kafka-python-Fetch-v12.bin", 0, 0, 3, 1),
            ("aiokafka-Fetch-v11.bin", 0, 0, 6, 8),
        ]
        for (name, isolation, partition, fetchOffset, partitionCount) in expected {
            guard case .fetch(let request) = try Self.load(name).body else {
                Issue.record("\(name) is not Fetch"); continue
            }
            #expect(request.replicaID == -1, "\(name)")
            #expect(request.maxWaitMs == 500, "\(name)")
            #expect(request.minBytes == 1, "\(name)")
            #expect(request.maxBytes == 52_428_800, "\(name)")
            #expect(request.isolationLevel == isolation, "\(name)")
            #expect(request.sessionID == 0, "\(name)")
            #expect(request.topics.map(\.topic) == ["golden"], "\(name)")
            let partitions = request.topics.first?.partitions ?? []
            #expect(partitions.count == partitionCount, "\(name)")
            #expect(Set(partitions.map(\.partition)).count == partitionCount, "\(name)")
            let entry = try #require(partitions.first { $0.partition == partition }, "\(name): no partition \(partition)")
            #expect(entry.fetchOffset == fetchOffset, "\(name)")
            #expect(entry.partitionMaxBytes == 1_048_576, "\(name)")
            #expect(entry.logStartOffset == -1, "\(name)")
            #expect(request.forgottenTopicsData.isEmpty, "\(name)")
        }
        guard case .fetch(let aiokafka) = try Self.load("aiokafka-Fetch-v11.bin").body else { return }
        #expect(Set(aiokafka.topics[0].partitions.map(\.partition)) == Set(0...7))
    }

    @Test func joinGroupOffersTheConsumerProtocols() throws {
        // Session timeouts: confluent was given 10000 ms; librdkafka 2.0 and kafka-python 3
        // default to 45000, aiokafka to 10000 (and it sent 10000 as its rebalance timeout
        // too); the others send max.poll.interval.ms' default 300000 as the rebalance timeout.
        // Assignors: librdkafka and kafka-python offer range then roundrobin, aiokafka roundrobin.
        let expected: [(String, group: String, session: Int32, rebalance: Int32, protocols: [String])] = [
            ("kcat-JoinGroup-v5.bin", "golden-kcat", 45_000, 300_000, ["range", "roundrobin"]),
            ("confluent-JoinGroup-v5.bin", "golden-group", 10_000, 300_000, ["range", "roundrobin"]),
            ("kafka-python-JoinGroup-v7.bin", "golden-group", 45_000, 300_000, ["range", "roundrobin"]),
            ("aiokafka-JoinGroup-v5.bin", "golden-group", 10_000, 10_000, ["roundrobin"]),
        ]
        for (name, group, session, rebalance, protocols) in expected {
            guard case .joinGroup(let request) = try Self.load(name).body else {
                Issue.record("\(name) is not JoinGroup"); continue
            }
            #expect(request.groupID == group, "\(name)")
            #expect(request.sessionTimeoutMs == session, "\(name)")
            #expect(request.rebalanceTimeoutMs == rebalance, "\(name)")
            #expect(request.memberID == "", "\(name): a first join has no member id")
            #expect(request.groupInstanceID == nil, "\(name)")
            #expect(request.protocolType == "consumer", "\(name)")
            #expect(request.protocols.map(\.name) == protocols, "\(name)")
            for offered in request.protocols {
                var metadata = offered.metadata
                let prefix = metadata.readInteger(as: Int16.self)
                let version = try #require(prefix, "\(name)")
                let subscription = try ConsumerProtocolSubscription(decoding: metadata, version: version)
                #expect(subscription.topics == ["golden"], "\(name) \(offered.name)")
            }
        }
    }
}
