import Broker
import KafkaClient
import KafkaProtocol
import NIOCore
import NIOPosix
import XCTest

/// SASL/PLAIN over a real socket to the in-process broker: before authenticating, a
/// connection may send ApiVersions and the SASL requests only. Anything else is refused
/// as Kafka's SaslServerAuthenticator refuses it (IllegalSaslStateException): the
/// connection is closed with no response, and the request has no effect.
final class SASLRefusalTests: XCTestCase {
    var broker: TestBroker!
    var address: BrokerAddress!

    override func setUp() async throws {
        broker = try await TestBroker.start { $0.saslPlainUsers = ["alice": "secret"] }
        address = try BrokerAddress(parsing: broker.bootstrap)
    }

    override func tearDown() async throws {
        try await broker?.stop()
    }

    private func connect(_ credentials: SASLPlainCredentials? = nil) async throws -> BrokerConnection {
        var configuration = ConnectionConfiguration()
        configuration.sasl = credentials
        return try await BrokerConnection.connect(to: address, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                                                  configuration: configuration)
    }

    private func assertClosed<Response>(_ what: String, _ request: () async throws -> Response) async {
        do {
            _ = try await request()
            XCTFail("\(what) was answered before SASL authentication")
        } catch let error as KafkaClientError {
            guard case .connectionClosed = error else { return XCTFail("\(what): \(error)") }
        } catch {
            XCTFail("\(what): \(error)")
        }
    }

    func testRequestBeforeAuthenticationClosesTheConnectionUnansweredAndDoesNothing() async throws {
        let alice = try await connect(SASLPlainCredentials(username: "alice", password: "secret"))
        let created = try await alice.send(MetadataRequest(topics: [.init(topicID: .zero, name: "stored")], allowAutoTopicCreation: true))
        XCTAssertEqual(created.topics.map(\.errorCode), [0])

        // Connecting without credentials negotiates ApiVersions, which is allowed.
        let anonymous = try await connect()
        XCTAssertEqual(anonymous.versions[.metadata], SupportedAPIVersions.tickstream[.metadata]?.upperBound)
        await assertClosed("Metadata") {
            try await anonymous.send(MetadataRequest(topics: [.init(topicID: .zero, name: "guarded")], allowAutoTopicCreation: true))
        }
        await anonymous.close()

        let producer = try await connect()
        var batch = RecordBatchBuilder()
        batch.append(timestamp: 1_000, key: nil, value: ByteBuffer(string: "sneaked in"))
        let records = batch.finish()
        await assertClosed("Produce") {
            try await producer.send(ProduceRequest(acks: 1, timeoutMs: 1_000, topicData: [
                .init(name: "stored", partitionData: [.init(index: 0, records: records)]),
            ]))
        }
        await producer.close()

        // Neither refused request did anything: no topic was created, no record appended.
        let metadata = try await alice.send(MetadataRequest(topics: [.init(topicID: .zero, name: "guarded")], allowAutoTopicCreation: false))
        XCTAssertEqual(metadata.topics.map(\.errorCode), [KafkaErrorCode.unknownTopicOrPartition.rawValue])
        let end = try await alice.send(ListOffsetsRequest(replicaID: -1, topics: [
            .init(name: "stored", partitions: [.init(partitionIndex: 0, timestamp: -1)]),
        ]))
        XCTAssertEqual(end.topics.first?.partitions.first?.errorCode, 0)
        XCTAssertEqual(end.topics.first?.partitions.first?.offset, 0)
        await alice.close()
    }

    func testSaslAuthenticateWithoutAHandshakeIsIllegalSaslStateAndCloses() async throws {
        let anonymous = try await connect()
        let token = ByteBuffer(bytes: [0] + Array("alice".utf8) + [0] + Array("secret".utf8))
        let answer = try await anonymous.send(SaslAuthenticateRequest(authBytes: token))
        XCTAssertEqual(answer.errorCode, KafkaErrorCode.illegalSASLState.rawValue)
        await assertClosed("ApiVersions after the refusal") { try await anonymous.send(ApiVersionsRequest()) }
        await anonymous.close()
    }

    func testHandshakeForAnotherMechanismIsRefusedWithTheOffer() async throws {
        let anonymous = try await connect()
        let answer = try await anonymous.send(SaslHandshakeRequest(mechanism: "SCRAM-SHA-256"))
        XCTAssertEqual(answer.errorCode, KafkaErrorCode.unsupportedSASLMechanism.rawValue)
        XCTAssertEqual(answer.mechanisms, ["PLAIN"])
        await assertClosed("Metadata after a failed handshake") {
            try await anonymous.send(MetadataRequest(topics: [], allowAutoTopicCreation: false))
        }
        await anonymous.close()
    }
}
