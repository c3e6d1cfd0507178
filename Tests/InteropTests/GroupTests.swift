import Broker
import Foundation
import Testing

/// Consumer groups driven by real clients: confluent-kafka (librdkafka), kafka-python and
/// aiokafka members join, share partitions, commit, die, rebalance and resume.
@Suite("consumer groups with real clients", .serialized)
struct GroupTests {
    /// Which offsets each produce round added, per partition.
    private struct Ledger {
        var ends: [Int: Int] = [:]
        var rounds: [Set<PartitionOffset>] = []

        var all: Set<PartitionOffset> { rounds.reduce(into: []) { $0.formUnion($1) } }

        mutating func record(counts: [String: Any]) {
            var round: Set<PartitionOffset> = []
            for (key, value) in counts {
                let partition = Int(key)!, count = (value as! NSNumber).intValue
                let start = ends[partition, default: 0]
                for offset in start..<(start + count) { round.insert(PartitionOffset(partition: partition, offset: offset)) }
                ends[partition] = start + count
            }
            rounds.append(round)
        }
    }

    private func produce(_ count: Int, topic: String, bootstrap: String, into ledger: inout Ledger) async throws {
        let result = try await runPythonClient("confluent-produce", bootstrap: bootstrap, ["--topic", topic, "--count", String(count)])
        #expect(result.int("delivered") == count)
        ledger.record(counts: result["partitions"] as! [String: Any])
    }

    /// Every expected record consumed, none twice, nothing unexpected.
    private func assertExactlyOnce(_ members: [GroupMemberProcess], expected: Set<PartitionOffset>,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        let all = members.flatMap(\.records)
        let distinct = Set(all)
        #expect(all.count == distinct.count, "duplicates: \(all.count - distinct.count)", sourceLocation: sourceLocation)
        #expect(distinct == expected, "missing \(expected.subtracting(distinct).count), unexpected \(distinct.subtracting(expected).count)", sourceLocation: sourceLocation)
    }

    private func consumed(_ members: [GroupMemberProcess]) -> Set<PartitionOffset> {
        Set(members.flatMap(\.records))
    }

    /// Assignments are disjoint, cover all partitions, and none is empty.
    private func sharesAllPartitions(_ members: [GroupMemberProcess], partitions: Int) -> Bool {
        let assignments = members.map(\.assignment)
        let total = assignments.reduce(0) { $0 + $1.count }
        return total == partitions && Set(assignments.flatMap { $0 }) == Set(0..<partitions) && assignments.allSatisfy { !$0.isEmpty }
    }

    @Test func confluentGroupSharesPartitionsSurvivesAKilledMemberRebalancesAndResumesAfterRestart() async throws {
        let directory = NSTemporaryDirectory() + "/tickstream-groups-\(UUID().uuidString)"
        let configure: (inout BrokerConfiguration) -> Void = { $0.groupMinSessionTimeoutMs = 1_000 }
        var broker = try await TestBroker.start(dataDirectory: directory, configure: configure)
        let topic = "group-orders", group = "orders-service"
        var ledger = Ledger()
        var members: [GroupMemberProcess] = []
        defer { for member in members { member.kill() } }

        // Three members share eight partitions; every message is consumed exactly once.
        try await produce(8_000, topic: topic, bootstrap: broker.bootstrap, into: &ledger)
        for name in ["a", "b", "c"] {
            members.append(try GroupMemberProcess(client: "confluent", name: name, bootstrap: broker.bootstrap,
                                                  topic: topic, group: group, sessionMs: 4_000))
        }
        try await eventually("three members sharing all partitions", members: members) { sharesAllPartitions(members, partitions: 8) }
        try await eventually("round 1 consumed", members: members) { consumed(members).isSuperset(of: ledger.all) }
        assertExactlyOnce(members, expected: ledger.all)

        // ListGroups and DescribeGroups as AdminClient sees them.
        let description = try await runPythonClient("confluent-describe-group", bootstrap: broker.bootstrap, ["--group", group])
        #expect((description["groups"] as? [String])?.contains(group) == true)
        #expect(description["state"] as? String == "STABLE")
        #expect(description["protocol"] as? String == "range")
        let described = description["members"] as? [[String: Any]] ?? []
        #expect(described.map { $0["client_id"] as? String } == ["a", "b", "c"])
        #expect(described.allSatisfy { ($0["host"] as? String)?.hasPrefix("/127.0.0.1") == true })
        #expect(Set(described.flatMap { $0["partitions"] as? [Int] ?? [] }) == Set(0..<8))

        // One dies without LeaveGroup: after its session timeout the other two own everything.
        let victim = members[2]
        #expect(!victim.assignment.isEmpty)
        victim.kill()
        try await produce(8_000, topic: topic, bootstrap: broker.bootstrap, into: &ledger)
        let survivors = Array(members[0..<2])
        try await eventually("survivors take over the dead member's partitions", members: members) { sharesAllPartitions(survivors, partitions: 8) }
        try await eventually("round 2 consumed", members: members) { consumed(members).isSuperset(of: ledger.all) }
        assertExactlyOnce(members, expected: ledger.all)

        // A fourth member joins: partitions are rebalanced over three live members again.
        let fourth = try GroupMemberProcess(client: "confluent", name: "d", bootstrap: broker.bootstrap,
                                            topic: topic, group: group, sessionMs: 4_000)
        members.append(fourth)
        let live = survivors + [fourth]
        try await eventually("the fourth member gets partitions", members: members) { sharesAllPartitions(live, partitions: 8) }
        try await produce(8_000, topic: topic, bootstrap: broker.bootstrap, into: &ledger)
        try await eventually("round 3 consumed") { consumed(members).isSuperset(of: ledger.all) }
        assertExactlyOnce(members, expected: ledger.all)
        #expect(Set(fourth.records).isSubset(of: ledger.rounds[2]), "the newcomer starts at the committed offsets")
        #expect(!fourth.records.isEmpty)

        // Everyone leaves, the broker restarts; a new member resumes exactly after the commits.
        for member in live { await member.stop() }
        try await broker.stop(removeData: false)
        broker = try await TestBroker.start(dataDirectory: directory, configure: configure)
        try await produce(8_000, topic: topic, bootstrap: broker.bootstrap, into: &ledger)
        let resumed = try GroupMemberProcess(client: "confluent", name: "e", bootstrap: broker.bootstrap,
                                             topic: topic, group: group, sessionMs: 4_000)
        members.append(resumed)
        try await eventually("round 4 consumed after restart") { Set(resumed.records).isSuperset(of: ledger.rounds[3]) }
        #expect(resumed.records.count == ledger.rounds[3].count, "nothing committed before the restart is read again")
        #expect(Set(resumed.records) == ledger.rounds[3])
        await resumed.stop()
        try await broker.stop()
    }

    @Test func kafkaPythonGroupJoinsConsumesCommitsAndResumes() async throws {
        try await roundTrip(client: "kafka-python")
    }

    @Test func aiokafkaGroupJoinsConsumesCommitsAndResumes() async throws {
        try await roundTrip(client: "aiokafka")
    }

    /// Two members share a topic; one leaves cleanly and the other takes over at once; the
    /// last leaves; a new member resumes exactly where the group's commits say.
    private func roundTrip(client: String) async throws {
        let broker = try await TestBroker.start { $0.groupMinSessionTimeoutMs = 1_000 }
        let topic = "group-\(client)", group = "\(client)-service"
        var ledger = Ledger()
        var members: [GroupMemberProcess] = []
        defer { for member in members { member.kill() } }

        try await produce(4_000, topic: topic, bootstrap: broker.bootstrap, into: &ledger)
        for name in ["m1", "m2"] {
            members.append(try GroupMemberProcess(client: client, name: name, bootstrap: broker.bootstrap,
                                                  topic: topic, group: group))
        }
        try await eventually("two members sharing all partitions", members: members) { sharesAllPartitions(members, partitions: 8) }
        try await eventually("round 1 consumed", members: members) { consumed(members).isSuperset(of: ledger.all) }
        assertExactlyOnce(members, expected: ledger.all)

        await members[1].stop()
        try await eventually("the remaining member owns every partition", members: members) { sharesAllPartitions([members[0]], partitions: 8) }
        try await produce(4_000, topic: topic, bootstrap: broker.bootstrap, into: &ledger)
        try await eventually("round 2 consumed", members: members) { consumed(members).isSuperset(of: ledger.all) }
        assertExactlyOnce(members, expected: ledger.all)
        await members[0].stop()

        try await produce(2_000, topic: topic, bootstrap: broker.bootstrap, into: &ledger)
        let resumed = try GroupMemberProcess(client: client, name: "m3", bootstrap: broker.bootstrap, topic: topic, group: group)
        members.append(resumed)
        try await eventually("round 3 consumed by the new member") { Set(resumed.records).isSuperset(of: ledger.rounds[2]) }
        #expect(resumed.records.count == ledger.rounds[2].count)
        await resumed.stop()
        #expect(resumed.events.last?["event"] as? String == "closed")
        try await broker.stop()
    }
}
