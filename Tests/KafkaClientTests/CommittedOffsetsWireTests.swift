import Broker
import KafkaProtocol
import NIOCore
import NIOPosix
import XCTest

@testable import KafkaClient

/// OffsetCommit and OffsetFetch as raw requests over a real connection to the in-process
/// broker: the metadata string and leader epoch come back as committed, and the
/// all-partitions form (topics null) returns exactly the group's committed partitions,
/// both in the v8 per-group shape and in the v2–v7 top-level shape.
final class CommittedOffsetsWireTests: XCTestCase {
    var broker: TestBroker!
    var connection: BrokerConnection!

    override func setUp() async throws {
        broker = try await TestBroker.start()
        connection = try await BrokerConnection.connect(to: try BrokerAddress(parsing: broker.bootstrap),
                                                        eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "quotes", partitions: 3), NewTopic(name: "trades", partitions: 2)])
        await client.close()
    }

    override func tearDown() async throws {
        await connection?.close()
        try await broker?.stop()
    }

    /// One committed partition as OffsetFetch reports it.
    private struct Committed: Equatable, CustomStringConvertible {
        var topic: String
        var partition: Int32
        var offset: Int64
        var leaderEpoch: Int32
        var metadata: String?
        var errorCode: Int16 = 0
        var description: String { "\(topic)-\(partition)@\(offset) e\(leaderEpoch) \(metadata ?? "nil") err \(errorCode)" }
    }

    /// A standalone commit (generation -1, no member id): partition → (offset, epoch, metadata).
    private func commit(group: String, _ offsets: [String: [(Int32, Int64, Int32, String?)]]) async throws -> [Int16] {
        let response = try await connection.send(OffsetCommitRequest(
            groupID: group, generationIDOrMemberEpoch: -1, memberID: "", groupInstanceID: nil, retentionTimeMs: -1,
            topics: offsets.sorted { $0.key < $1.key }.map { name, partitions in
                .init(name: name, partitions: partitions.map {
                    .init(partitionIndex: $0.0, committedOffset: $0.1, committedLeaderEpoch: $0.2, commitTimestamp: -1, committedMetadata: $0.3)
                })
            }))
        return response.topics.flatMap { $0.partitions.map(\.errorCode) }
    }

    /// OffsetFetch v8 (the negotiated version): `topics` nil asks for every committed partition.
    private func fetch(group: String, topics: [String: [Int32]]?) async throws -> [Committed] {
        XCTAssertEqual(connection.versions[.offsetFetch], 8)
        let requested = topics.map { $0.sorted { $0.key < $1.key }.map { OffsetFetchRequest.OffsetFetchRequestTopics(name: $0.key, partitionIndexes: $0.value) } }
        let response = try await connection.send(OffsetFetchRequest(groups: [.init(groupID: group, topics: requested)]))
        XCTAssertEqual(response.groups.map(\.groupID), [group])
        XCTAssertEqual(response.groups.first?.errorCode, 0)
        return (response.groups.first?.topics ?? []).flatMap { topic in
            topic.partitions.map {
                Committed(topic: topic.name, partition: $0.partitionIndex, offset: $0.committedOffset, leaderEpoch: $0.committedLeaderEpoch,
                          metadata: $0.metadata, errorCode: $0.errorCode)
            }
        }
    }

    func testMetadataStringRoundTripsThroughOffsetFetch() async throws {
        let metadata = "assignor=range;host=127.0.0.1;note=\u{1F4C8} ünïcode"
        let errors = try await commit(group: "metadata-group", ["quotes": [(0, 42, 3, metadata), (1, 7, -1, ""), (2, 9, 5, nil)]])
        XCTAssertEqual(errors, [0, 0, 0])
        let fetched = try await fetch(group: "metadata-group", topics: ["quotes": [0, 1, 2], "trades": [0]])
        XCTAssertEqual(fetched, [
            Committed(topic: "quotes", partition: 0, offset: 42, leaderEpoch: 3, metadata: metadata),
            Committed(topic: "quotes", partition: 1, offset: 7, leaderEpoch: -1, metadata: ""),
            Committed(topic: "quotes", partition: 2, offset: 9, leaderEpoch: 5, metadata: ""),
            Committed(topic: "trades", partition: 0, offset: -1, leaderEpoch: -1, metadata: ""),
        ], "a null metadata reads back empty and an uncommitted partition as offset -1, as Kafka answers")

        // A later commit replaces offset and metadata together.
        let again = try await commit(group: "metadata-group", ["quotes": [(0, 50, 3, "second")]])
        XCTAssertEqual(again, [0])
        let replaced = try await fetch(group: "metadata-group", topics: ["quotes": [0]])
        XCTAssertEqual(replaced, [Committed(topic: "quotes", partition: 0, offset: 50, leaderEpoch: 3, metadata: "second")])
    }

    func testAllPartitionsFormReturnsEveryCommittedPartitionOfTheGroupOnly() async throws {
        let mine = try await commit(group: "all-group", ["quotes": [(2, 20, -1, "q2"), (0, 10, -1, "q0")], "trades": [(1, 5, 1, "t1")]])
        XCTAssertEqual(mine, [0, 0, 0])
        let theirs = try await commit(group: "other-group", ["quotes": [(1, 99, -1, "not mine")], "trades": [(0, 1, -1, nil)]])
        XCTAssertEqual(theirs, [0, 0])
        let expected = [
            Committed(topic: "quotes", partition: 0, offset: 10, leaderEpoch: -1, metadata: "q0"),
            Committed(topic: "quotes", partition: 2, offset: 20, leaderEpoch: -1, metadata: "q2"),
            Committed(topic: "trades", partition: 1, offset: 5, leaderEpoch: 1, metadata: "t1"),
        ]
        let all = try await fetch(group: "all-group", topics: nil)
        XCTAssertEqual(all, expected)

        // The same through the pre-v8 shape (topics null at the top level, v2+).
        let legacy = try await connection.send(OffsetFetchRequest(groupID: "all-group", topics: nil), version: 7, timeout: .seconds(10))
        XCTAssertEqual(legacy.errorCode, 0)
        XCTAssertEqual(legacy.topics.flatMap { topic in
            topic.partitions.map {
                Committed(topic: topic.name, partition: $0.partitionIndex, offset: $0.committedOffset, leaderEpoch: $0.committedLeaderEpoch,
                          metadata: $0.metadata, errorCode: $0.errorCode)
            }
        }, expected)

        let none = try await fetch(group: "never-committed", topics: nil)
        XCTAssertEqual(none, [], "a group without commits has no partitions")
    }
}
