@testable import KafkaClient
import KafkaProtocol
import NIOCore
import XCTest

final class AssignorTests: XCTestCase {
    func testRangeGivesLeadingMembersTheExtraPartitions() {
        let plan = PartitionAssignor.range.assign(subscriptions: ["c": ["t"], "a": ["t"], "b": ["t"]], partitionCounts: ["t": 8])
        XCTAssertEqual(plan["a"], (0...2).map { TopicPartition("t", $0) })
        XCTAssertEqual(plan["b"], (3...5).map { TopicPartition("t", $0) })
        XCTAssertEqual(plan["c"], (6...7).map { TopicPartition("t", $0) })
    }

    func testRoundRobinDealsPartitionsInTurn() {
        let plan = PartitionAssignor.roundRobin.assign(subscriptions: ["a": ["t", "u"], "b": ["t", "u"]], partitionCounts: ["t": 3, "u": 2])
        XCTAssertEqual(plan["a"], [TopicPartition("t", 0), TopicPartition("t", 2), TopicPartition("u", 1)])
        XCTAssertEqual(plan["b"], [TopicPartition("t", 1), TopicPartition("u", 0)])
    }

    func testEveryPartitionAssignedExactlyOnce() {
        for assignor in PartitionAssignor.allCases {
            let plan = assignor.assign(subscriptions: ["m1": ["t"], "m2": ["t"], "m3": ["t"], "idle": ["other"]], partitionCounts: ["t": 8])
            let all = plan.values.flatMap { $0 }
            XCTAssertEqual(all.count, 8)
            XCTAssertEqual(Set(all).count, 8)
            XCTAssertEqual(plan["idle"], [])
        }
    }

    func testConsumerProtocolRoundTripsWithVersionPrefix() throws {
        let subscription = try ConsumerProtocolCodec.encodeSubscription(topics: ["b", "a"])
        XCTAssertEqual(subscription.getInteger(at: 0, as: Int16.self), 0)
        // version 0 | 2 topics | "a" | "b" | null user data
        XCTAssertEqual(Array(subscription.readableBytesView), [0, 0, 0, 0, 0, 2, 0, 1, 97, 0, 1, 98, 255, 255, 255, 255])
        XCTAssertEqual(try ConsumerProtocolCodec.decodeSubscription(subscription).topics, ["a", "b"])
        let partitions = [TopicPartition("t", 2), TopicPartition("t", 0), TopicPartition("u", 1)]
        let assignment = try ConsumerProtocolCodec.encodeAssignment(partitions)
        XCTAssertEqual(try ConsumerProtocolCodec.decodeAssignment(assignment), partitions.sorted())
        XCTAssertEqual(try ConsumerProtocolCodec.decodeAssignment(ByteBuffer()), [])
    }
}
