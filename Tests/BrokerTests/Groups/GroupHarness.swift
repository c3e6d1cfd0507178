import KafkaProtocol
import NIOCore

@testable import Broker

/// Drives one `ConsumerGroup` in the transition tests: hands out request tokens, builds
/// JoinGroup inputs, and spells the exact outcomes the machine should produce. Every
/// member offers protocols whose metadata is `subscription-<name>`.
final class GroupHarness {
    var group: ConsumerGroup
    private var nextToken: RequestToken = 100

    static let limits = GroupLimits(minSessionTimeoutMs: 1_000, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 0)

    init(limits: GroupLimits = GroupHarness.limits) {
        group = ConsumerGroup(groupID: "g", limits: limits)
    }

    func token() -> RequestToken {
        nextToken += 1
        return nextToken
    }

    static func input(_ memberID: String = "", instance: String? = nil, newID: String = "unused", session: Int64 = 10_000,
                      rebalance: Int64 = 30_000, protocolType: String = "consumer",
                      protocols: [String] = ["range", "roundrobin"], v4: Bool = true) -> JoinGroupInput {
        JoinGroupInput(memberID: memberID, groupInstanceID: instance, clientID: "client", clientHost: "/127.0.0.1",
                       sessionTimeoutMs: session, rebalanceTimeoutMs: rebalance, protocolType: protocolType,
                       protocols: protocols.map { GroupProtocol(name: $0, metadata: ByteBuffer(string: "subscription-\($0)")) },
                       requireKnownMemberID: v4, newMemberID: newID)
    }

    /// Feeds one JoinGroup; returns its token and the actions.
    func join(_ input: JoinGroupInput, now: Int64) -> (RequestToken, [GroupAction]) {
        let t = token()
        return (t, group.join(input, token: t, now: now))
    }

    /// Feeds one SyncGroup (protocol type and name left out, as v0–v4 clients do unless given).
    func sync(_ memberID: String, instance: String? = nil, generation: Int32, protocolName: String? = nil,
              assignments: [String: ByteBuffer] = [:], now: Int64) -> (RequestToken, [GroupAction]) {
        let t = token()
        return (t, group.sync(memberID: memberID, groupInstanceID: instance, generation: generation, protocolType: nil,
                              protocolName: protocolName, assignments: assignments, token: t, now: now))
    }

    /// A v4 dynamic member's first join: MEMBER_ID_REQUIRED hands it `id` (now pending).
    func handshake(_ id: String, session: Int64 = 10_000, rebalance: Int64 = 30_000, now: Int64) -> [GroupAction] {
        join(Self.input(newID: id, session: session, rebalance: rebalance), now: now).1
    }

    /// Dynamic members `ids` (the first leads) with generation 1 handed out and nobody synced yet.
    func completingGroup(_ ids: [String], session: Int64 = 10_000, rebalance: Int64 = 30_000) {
        for id in ids { _ = handshake(id, session: session, rebalance: rebalance, now: 0) }
        for id in ids { _ = join(Self.input(id, session: session, rebalance: rebalance), now: 0) }
    }

    /// Dynamic members `ids` (the first leads) in a Stable generation 1; each assigned `assign-<id>`.
    func stableGroup(_ ids: [String], session: Int64 = 10_000, rebalance: Int64 = 30_000) {
        completingGroup(ids, session: session, rebalance: rebalance)
        let assignments = Dictionary(uniqueKeysWithValues: ids.map { ($0, ByteBuffer(string: "assign-\($0)")) })
        for id in ids.reversed() { _ = sync(id, generation: 1, assignments: id == ids[0] ? assignments : [:], now: 0) }
    }

    /// Static members s1 (instance i-1, leader) and s2 (i-2) in a Stable generation 2
    /// (s1 alone formed generation 1; s2's arrival made generation 2).
    func stableStaticGroup() {
        _ = join(Self.input(instance: "i-1", newID: "s1"), now: 0)
        _ = join(Self.input(instance: "i-2", newID: "s2"), now: 0)
        _ = join(Self.input("s1", instance: "i-1"), now: 0)
        _ = sync("s2", instance: "i-2", generation: 2, now: 0)
        _ = sync("s1", instance: "i-1", generation: 2,
                 assignments: ["s1": ByteBuffer(string: "assign-s1"), "s2": ByteBuffer(string: "assign-s2")], now: 0)
    }

    /// The successful JoinGroup answer for `memberID`; `members` (with instance ids) only for the leader.
    static func joined(_ memberID: String, generation: Int32, leader: String, members: [(String, String?)] = [],
                       protocolName: String = "range", skipAssignment: Bool = false) -> JoinGroupOutcome {
        JoinGroupOutcome(error: .none, generation: generation, protocolType: "consumer", protocolName: protocolName,
                         leaderID: leader, memberID: memberID,
                         members: members.map { .init(memberID: $0.0, groupInstanceID: $0.1,
                                                      metadata: ByteBuffer(string: "subscription-\(protocolName)")) },
                         skipAssignment: skipAssignment)
    }

    /// The successful SyncGroup answer carrying `assignment`.
    static func synced(_ assignment: String, protocolName: String = "range") -> SyncGroupOutcome {
        SyncGroupOutcome(error: .none, protocolType: "consumer", protocolName: protocolName, assignment: ByteBuffer(string: assignment))
    }
}
