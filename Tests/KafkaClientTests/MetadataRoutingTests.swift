@testable import KafkaClient
import KafkaProtocol
import XCTest

final class MetadataRoutingTests: XCTestCase {
    /// Three brokers; "prices" has 6 partitions led round the brokers, one without a leader.
    func threeBrokerResponse() -> MetadataResponse {
        var response = MetadataResponse()
        response.brokers = (1...3).map { MetadataResponse.MetadataResponseBroker(nodeID: Int32($0), host: "127.0.0.1", port: Int32(9090 + $0)) }
        response.controllerID = 2
        var topic = MetadataResponse.MetadataResponseTopic()
        topic.name = "prices"
        topic.partitions = (0..<6).map { index in
            var partition = MetadataResponse.MetadataResponsePartition()
            partition.partitionIndex = Int32(index)
            partition.leaderID = index == 5 ? -1 : Int32(index % 3 + 1)
            partition.errorCode = index == 5 ? KafkaErrorCode.leaderNotAvailable.rawValue : 0
            return partition
        }
        var missing = MetadataResponse.MetadataResponseTopic()
        missing.name = "missing"
        missing.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
        response.topics = [topic, missing]
        return response
    }

    func testLeadersAndBrokersComeFromTheResponse() {
        let cache = MetadataCache(threeBrokerResponse())
        XCTAssertEqual(cache.brokers.count, 3)
        XCTAssertEqual(cache.partitionCount(of: "prices"), 6)
        XCTAssertNil(cache.partitionCount(of: "missing"))
        XCTAssertEqual(cache.leader(for: TopicPartition("prices", 4))?.nodeID, 2)
        XCTAssertEqual(cache.leader(for: TopicPartition("prices", 4))?.address, BrokerAddress(host: "127.0.0.1", port: 9092))
        XCTAssertNil(cache.leader(for: TopicPartition("prices", 5)))
        XCTAssertEqual(cache.controllerID, 2)
    }

    func testRouteGroupsPartitionsByLeader() {
        let cache = MetadataCache(threeBrokerResponse())
        let routed = cache.route((0..<6).map { TopicPartition("prices", Int32($0)) } + [TopicPartition("missing", 0)])
        XCTAssertEqual(routed.byLeader[1], [TopicPartition("prices", 0), TopicPartition("prices", 3)])
        XCTAssertEqual(routed.byLeader[2], [TopicPartition("prices", 1), TopicPartition("prices", 4)])
        XCTAssertEqual(routed.byLeader[3], [TopicPartition("prices", 2)])
        XCTAssertEqual(routed.unroutable, [TopicPartition("prices", 5), TopicPartition("missing", 0)])
        XCTAssertTrue(cache.needsRefresh(for: ["prices"]))
        XCTAssertTrue(cache.needsRefresh(for: ["unknown"]))
    }

    func testALaterResponseMovesLeadersAndKeepsOtherTopics() {
        var cache = MetadataCache(threeBrokerResponse())
        var update = threeBrokerResponse()
        update.topics[0].partitions[5].leaderID = 3
        update.topics[0].partitions[5].errorCode = 0
        update.topics[0].partitions[0].leaderID = 2
        update.topics.removeLast()
        var other = MetadataResponse.MetadataResponseTopic()
        other.name = "other"
        cache.update(with: update)
        XCTAssertEqual(cache.leader(for: TopicPartition("prices", 0))?.nodeID, 2)
        XCTAssertEqual(cache.leader(for: TopicPartition("prices", 5))?.nodeID, 3)
        XCTAssertFalse(cache.needsRefresh(for: ["prices"]))
        XCTAssertNotNil(cache.topics["missing"], "topics absent from a partial response are kept")
    }

    func testBootstrapListParsing() throws {
        XCTAssertEqual(try BrokerAddress.list("127.0.0.1:9092, 127.0.0.1:9093"),
                       [BrokerAddress(host: "127.0.0.1", port: 9092), BrokerAddress(host: "127.0.0.1", port: 9093)])
        XCTAssertThrowsError(try BrokerAddress.list("127.0.0.1"))
    }

    func testNegotiationPicksHighestCommonVersion() {
        let peer: [ApiVersionsResponse.ApiVersion] = [
            .init(apiKey: APIKey.produce.rawValue, minVersion: 0, maxVersion: 11),
            .init(apiKey: APIKey.fetch.rawValue, minVersion: 4, maxVersion: 7),
            .init(apiKey: APIKey.metadata.rawValue, minVersion: 13, maxVersion: 13),
            .init(apiKey: 999, minVersion: 0, maxVersion: 3),
        ]
        let versions = BrokerConnection.negotiate(peer)
        XCTAssertEqual(versions[.produce], 9)
        XCTAssertEqual(versions[.fetch], 7)
        XCTAssertNil(versions[.metadata])
        XCTAssertEqual(versions.count, 2)
    }
}
