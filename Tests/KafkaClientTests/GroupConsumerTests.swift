import Broker
import Foundation
import KafkaClient
import KafkaProtocol
import NIOCore
import NIOPosix
import XCTest

/// Consumer groups against the in-process broker's group coordinator.
final class GroupConsumerTests: XCTestCase {
    var broker: TestBroker!
    var client: KafkaClusterClient!

    override func setUp() async throws {
        broker = try await TestBroker.start()
        client = try KafkaClusterClient(bootstrap: broker.bootstrap)
    }

    override func tearDown() async throws {
        await client?.close()
        try await broker?.stop()
    }

    /// Waits until `condition` holds, checking every 100 ms for up to 30 s.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<300 {
            if try await condition() { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    func member(_ group: String, log: AssignmentLog? = nil) throws -> KafkaGroupConsumer {
        var configuration = GroupConfiguration(assignor: .range)
        configuration.heartbeatInterval = .milliseconds(200)
        configuration.sessionTimeout = .seconds(6)
        configuration.rebalanceTimeout = .seconds(10)
        return try KafkaGroupConsumer(bootstrap: broker.bootstrap, groupID: group, topics: ["grouped"], configuration: configuration,
                                  onAssigned: { assignment in log?.record(assignment) })
    }

    func testThreeMembersShareEightPartitionsAndTakeOverWhenOneLeaves() async throws {
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "grouped", partitions: 8)])
        let log = AssignmentLog()
        let members = try (0..<3).map { _ in try member("g1", log: log) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for member in members { group.addTask { try await member.start() } }
            try await group.waitForAll()
        }
        try await eventually("a stable generation with 3 members") {
            var all: [TopicPartition] = []
            var generations = Set<Int32>()
            for member in members {
                all += await member.assignment
                generations.insert(await member.generationID)
            }
            let everyoneHasSome = await members.asyncAllSatisfy { !(await $0.assignment).isEmpty }
            return all.count == 8 && Set(all).count == 8 && generations.count == 1 && everyoneHasSome
        }
        var sizes: [Int] = []
        for member in members { sizes.append(await member.assignment.count) }
        XCTAssertEqual(sizes.sorted(), [2, 3, 3])
        XCTAssertFalse(log.assignments.isEmpty)

        await members[2].close()
        try await eventually("the two remaining members take over all 8 partitions") {
            let a = await members[0].assignment, b = await members[1].assignment
            return a.count + b.count == 8 && Set(a + b).count == 8 && !a.isEmpty && !b.isEmpty
        }
        let sizesAfter = [await members[0].assignment.count, await members[1].assignment.count].sorted()
        XCTAssertEqual(sizesAfter, [4, 4])
        for member in members.prefix(2) { await member.close() }
    }

    func testCommittedOffsetsResumeWhereTheGroupLeftOff() async throws {
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "grouped", partitions: 8)])
        let producer = KafkaProducer(client: client)
        for index in 0..<80 { _ = try await producer.send(topic: "grouped", partition: Int32(index % 8), key: nil, value: bytes("first-\(index)")) }

        let first = try member("g2")
        try await first.start()
        try await eventually("all 8 partitions assigned") { await first.assignment.count == 8 }
        var received = 0
        while received < 80 { received += try await first.poll().count }
        XCTAssertEqual(received, 80)
        try await first.commitSync()
        let committed = try await first.committed((0..<8).map { TopicPartition("grouped", Int32($0)) })
        XCTAssertEqual(committed.values.sorted(), Array(repeating: 10, count: 8))
        await first.close()

        for index in 0..<16 { _ = try await producer.send(topic: "grouped", partition: Int32(index % 8), key: nil, value: bytes("second-\(index)")) }
        let second = try member("g2")
        try await second.start()
        var records: [ConsumerRecord] = []
        while records.count < 16 { records += try await second.poll() }
        XCTAssertEqual(records.count, 16)
        XCTAssertTrue(records.allSatisfy { $0.value!.text.hasPrefix("second-") && $0.offset >= 10 })
        await second.close()
        await producer.close()
    }

    func testRebalanceCallbacksCarryTheGeneration() async throws {
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "grouped", partitions: 2)])
        let log = AssignmentLog()
        let only = try member("g3", log: log)
        try await only.start()
        let assignment = try XCTUnwrap(log.assignments.last)
        XCTAssertEqual(assignment.partitions, [TopicPartition("grouped", 0), TopicPartition("grouped", 1)])
        let generation = await only.generationID
        XCTAssertEqual(assignment.generationID, generation)
        XCTAssertFalse(assignment.memberID.isEmpty)
        await only.close()
    }

    /// `confirmGeneration` is a Heartbeat round trip: nil before the first join, the current
    /// assignment while the coordinator accepts the generation, and an error (nothing
    /// confirmed) once the coordinator cannot be reached, although the local generation
    /// stays as it was.
    func testConfirmGenerationAsksTheCoordinator() async throws {
        try await KafkaAdmin(client: client).createTopics([NewTopic(name: "grouped", partitions: 2)])
        let first = try member("g4")
        let beforeJoin = try await first.confirmGeneration()
        XCTAssertNil(beforeJoin)
        try await first.start()
        let generation = await first.generationID
        let memberID = await first.memberID
        let answer = try await first.confirmGeneration()
        let confirmed = try XCTUnwrap(answer)
        XCTAssertEqual(confirmed.generationID, generation)
        XCTAssertEqual(confirmed.memberID, memberID)
        XCTAssertEqual(confirmed.partitions, [TopicPartition("grouped", 0), TopicPartition("grouped", 1)])

        let second = try member("g4")
        try await second.start()
        try await eventually("the first member confirms a newer generation with one partition") {
            guard let now = try await first.confirmGeneration() else { return false }
            return now.generationID > generation && now.memberID == memberID && now.partitions.count == 1
        }
        await second.close()

        let last = await first.generationID
        try await broker.broker.shutdown()
        do {
            let answer = try await first.confirmGeneration()
            XCTFail("confirmed without a coordinator: \(String(describing: answer))")
        } catch {}
        let after = await first.generationID
        XCTAssertEqual(after, last, "the local generation is unchanged; only the coordinator could confirm it")
        await first.close()
        do {
            _ = try await first.confirmGeneration()
            XCTFail("confirmed after close")
        } catch KafkaClientError.closed {}
    }
}

final class AssignmentLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [GroupAssignment] = []

    func record(_ assignment: GroupAssignment) {
        lock.lock(); defer { lock.unlock() }
        entries.append(assignment)
    }

    var assignments: [GroupAssignment] {
        lock.lock(); defer { lock.unlock() }
        return entries
    }
}

extension Array {
    func asyncAllSatisfy(_ predicate: (Element) async -> Bool) async -> Bool {
        for element in self where !(await predicate(element)) { return false }
        return true
    }
}
