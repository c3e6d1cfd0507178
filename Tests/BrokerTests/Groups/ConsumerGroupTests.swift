import KafkaProtocol
import NIOCore
import Testing

@testable import Broker

/// The group coordinator as a value: events in, actions out, no sockets, no clocks.
/// A class suite: each test gets a fresh instance, so the token counter is per test.
@Suite final class ConsumerGroupTests {
    private var nextToken: RequestToken = 100
    private let limits = GroupLimits(minSessionTimeoutMs: 1_000, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 0)

    private func token() -> RequestToken {
        nextToken += 1
        return nextToken
    }

    private func input(_ memberID: String = "", instance: String? = nil, newID: String, session: Int64 = 10_000,
                       rebalance: Int64 = 30_000, protocols: [String] = ["range", "roundrobin"], v4: Bool = true) -> JoinGroupInput {
        JoinGroupInput(memberID: memberID, groupInstanceID: instance, clientID: "client", clientHost: "/127.0.0.1",
                       sessionTimeoutMs: session, rebalanceTimeoutMs: rebalance, protocolType: "consumer",
                       protocols: protocols.map { GroupProtocol(name: $0, metadata: ByteBuffer(string: "subscription-\($0)")) },
                       requireKnownMemberID: v4, newMemberID: newID)
    }

    private func joins(_ actions: [GroupAction]) -> [RequestToken: JoinGroupOutcome] {
        var result: [RequestToken: JoinGroupOutcome] = [:]
        for case .completeJoin(let token, let outcome) in actions { result[token] = outcome }
        return result
    }

    private func syncs(_ actions: [GroupAction]) -> [RequestToken: SyncGroupOutcome] {
        var result: [RequestToken: SyncGroupOutcome] = [:]
        for case .completeSync(let token, let outcome) in actions { result[token] = outcome }
        return result
    }

    /// Drives one member through MEMBER_ID_REQUIRED and parks its second join; returns the join token.
    private func handshake(_ group: inout ConsumerGroup, id: String, now: Int64) -> RequestToken {
        let first = token()
        let answer = joins(group.join(input(newID: id), token: first, now: now))[first]
        #expect(answer?.error == .memberIDRequired)
        #expect(answer?.memberID == id)
        return token()
    }

    @Test func unknownMemberGetsMemberIDRequiredThenJoinsAndLeadsAStableGroup() {
        var group = ConsumerGroup(groupID: "g", limits: limits)
        let join = handshake(&group, id: "m1", now: 0)
        let joined = joins(group.join(input("m1", newID: "unused"), token: join, now: 10))[join]
        #expect(joined?.error == JoinGroupOutcome.failure(.none).error)
        #expect(joined?.generation == 1)
        #expect(joined?.leaderID == "m1")
        #expect(joined?.protocolName == "range")
        #expect(joined?.members.map(\.memberID) == ["m1"])
        #expect(joined?.members.first?.metadata == ByteBuffer(string: "subscription-range"))
        #expect(group.state == .completingRebalance)

        let sync = token()
        let synced = syncs(group.sync(memberID: "m1", groupInstanceID: nil, generation: 1, protocolType: "consumer",
                                      protocolName: "range", assignments: ["m1": ByteBuffer(string: "all")], token: sync, now: 20))
        #expect(synced[sync]?.error == KafkaErrorCode.none)
        #expect(synced[sync]?.assignment == ByteBuffer(string: "all"))
        #expect(group.state == .stable)
        #expect(group.heartbeat(memberID: "m1", groupInstanceID: nil, generation: 1, now: 30) == .none)
    }

    @Test func rebalanceCompletesAsSoonAsEveryKnownMemberRejoinedWithoutWaitingForTimeouts() {
        var group = ConsumerGroup(groupID: "g", limits: limits)
        var tokens: [String: RequestToken] = [:]
        for id in ["a", "b", "c"] { tokens[id] = handshake(&group, id: id, now: 0) }
        // Joins arrive one by one; the group completes only when the last pending member is in.
        #expect(group.join(input("a", newID: "x"), token: tokens["a"]!, now: 1).isEmpty)
        #expect(group.join(input("b", newID: "x"), token: tokens["b"]!, now: 2).isEmpty)
        let done = joins(group.join(input("c", newID: "x"), token: tokens["c"]!, now: 3))
        #expect(Set(done.keys) == Set(tokens.values))
        #expect(done[tokens["a"]!]?.members.count == 3, "the leader sees every member")
        #expect(done[tokens["b"]!]?.members.count == 0, "followers see none")
        #expect(Set(done.values.map(\.generation)) == [1])
        #expect(Set(done.values.map(\.leaderID)) == ["a"])

        // Followers' syncs wait for the leader; the leader's sync answers all three.
        let syncB = token(), syncC = token(), syncA = token()
        #expect(group.sync(memberID: "b", groupInstanceID: nil, generation: 1, protocolType: nil, protocolName: nil,
                                 assignments: [:], token: syncB, now: 4).isEmpty)
        #expect(group.sync(memberID: "c", groupInstanceID: nil, generation: 1, protocolType: nil, protocolName: nil,
                                 assignments: [:], token: syncC, now: 4).isEmpty)
        let answered = syncs(group.sync(memberID: "a", groupInstanceID: nil, generation: 1, protocolType: nil, protocolName: nil,
                                        assignments: ["a": ByteBuffer(string: "A"), "b": ByteBuffer(string: "B")],
                                        token: syncA, now: 5))
        #expect(answered[syncA]?.assignment == ByteBuffer(string: "A"))
        #expect(answered[syncB]?.assignment == ByteBuffer(string: "B"))
        #expect(answered[syncC]?.assignment == ByteBuffer(), "a member the leader left out gets an empty assignment")
        #expect(group.state == .stable)
    }

    @Test func newMemberTriggersRebalanceAndHeartbeatsSayRebalanceInProgress() {
        var group = stableGroup(members: ["a", "b"])
        let joinC = handshake(&group, id: "c", now: 100)
        #expect(group.join(input("c", newID: "x"), token: joinC, now: 101).isEmpty)
        #expect(group.state == .preparingRebalance)
        #expect(group.heartbeat(memberID: "a", groupInstanceID: nil, generation: 1, now: 102) == .rebalanceInProgress)
        let joinA = token(), joinB = token()
        #expect(group.join(input("a", newID: "x"), token: joinA, now: 103).isEmpty)
        let done = joins(group.join(input("b", newID: "x"), token: joinB, now: 104))
        #expect(Set(done.keys) == [joinA, joinB, joinC])
        #expect(done[joinA]?.generation == 2)
        #expect(group.heartbeat(memberID: "b", groupInstanceID: nil, generation: 1, now: 105) == .illegalGeneration)
    }

    @Test func memberThatStopsHeartbeatingIsRemovedAfterItsSessionTimeout() {
        var group = stableGroup(members: ["a", "b"], session: 5_000)
        #expect(group.heartbeat(memberID: "a", groupInstanceID: nil, generation: 1, now: 4_000) == .none)
        #expect(group.tick(now: 5_000).isEmpty, "b last seen at 0: not yet past 5 s")
        #expect(group.members.count == 2)
        _ = group.tick(now: 5_001)
        #expect(Set(group.members.keys) == ["a"])
        #expect(group.state == .preparingRebalance)
        let rejoin = token()
        let done = joins(group.join(input("a", newID: "x"), token: rejoin, now: 5_002))
        #expect(done[rejoin]?.generation == 2)
        #expect(done[rejoin]?.members.map(\.memberID) == ["a"])
    }

    @Test func membersThatDoNotRejoinBeforeTheRebalanceTimeoutAreDropped() {
        var group = stableGroup(members: ["a", "b"], rebalance: 2_000)
        let joinA = token()
        #expect(group.join(input("a", newID: "x", rebalance: 2_000), token: joinA, now: 10).isEmpty)
        #expect(group.tick(now: 1_000).isEmpty)
        #expect(group.tick(now: 2_009).isEmpty)
        let done = joins(group.tick(now: 2_010))
        #expect(done[joinA]?.members.map(\.memberID) == ["a"])
        #expect(group.members["b"] == nil)
    }

    @Test func leaveGroupRebalancesAtOnceAndReportsUnknownMembersPerMember() {
        var group = stableGroup(members: ["a", "b"])
        let (errors, actions) = group.leave([("b", nil), ("zzz", nil)], now: 50)
        #expect(errors == [.none, .unknownMemberID])
        #expect(actions.isEmpty)
        #expect(group.state == .preparingRebalance)
        let (_, _) = group.leave([("a", nil)], now: 60)
        #expect(group.state == .empty, "the last member leaving ends the rebalance with an empty group")
        #expect(group.generation == 2)
    }

    @Test func syncAndHeartbeatErrors() {
        var group = stableGroup(members: ["a"])
        let t = token()
        #expect(syncs(group.sync(memberID: "nobody", groupInstanceID: nil, generation: 1, protocolType: nil,
                                        protocolName: nil, assignments: [:], token: t, now: 1))[t]?.error == .unknownMemberID)
        #expect(syncs(group.sync(memberID: "a", groupInstanceID: nil, generation: 7, protocolType: nil,
                                        protocolName: nil, assignments: [:], token: t, now: 1))[t]?.error == .illegalGeneration)
        #expect(syncs(group.sync(memberID: "a", groupInstanceID: nil, generation: 1, protocolType: "connect",
                                        protocolName: nil, assignments: [:], token: t, now: 1))[t]?.error == .inconsistentGroupProtocol)
        #expect(group.heartbeat(memberID: "nobody", groupInstanceID: nil, generation: 1, now: 1) == .unknownMemberID)
    }

    @Test func joinValidation() {
        var group = stableGroup(members: ["a"])
        let t = token()
        #expect(joins(group.join(input(newID: "n", session: 10), token: t, now: 1))[t]?.error == .invalidSessionTimeout)
        #expect(joins(group.join(input(newID: "n", protocols: ["sticky"]), token: t, now: 1))[t]?.error == .inconsistentGroupProtocol, "no protocol in common with the group")
        #expect(joins(group.join(input("ghost", newID: "n"), token: t, now: 1))[t]?.error == .unknownMemberID)
        var empty = ConsumerGroup(groupID: "", limits: limits)
        #expect(joins(empty.join(input(newID: "n"), token: t, now: 1))[t]?.error == .invalidGroupID)
    }

    @Test func protocolSelectionFollowsMajorityOfFirstChoices() {
        var group = ConsumerGroup(groupID: "g", limits: limits)
        var tokens: [RequestToken] = []
        for (id, prefs) in [("a", ["range", "roundrobin"]), ("b", ["roundrobin", "range"]), ("c", ["roundrobin", "range"])] {
            let first = token()
            _ = group.join(input(newID: id, protocols: prefs), token: first, now: 0)
            tokens.append(token())
        }
        var last: [RequestToken: JoinGroupOutcome] = [:]
        for (index, (id, prefs)) in [("a", ["range", "roundrobin"]), ("b", ["roundrobin", "range"]), ("c", ["roundrobin", "range"])].enumerated() {
            last = joins(group.join(input(id, newID: "x", protocols: prefs), token: tokens[index], now: 1))
        }
        #expect(last[tokens[0]]?.protocolName == "roundrobin")
    }

    @Test func preV4JoinGetsAMemberIDWithoutTheHandshake() {
        var group = ConsumerGroup(groupID: "g", limits: limits)
        let t = token()
        let done = joins(group.join(input(newID: "m-old", v4: false), token: t, now: 0))
        #expect(done[t]?.memberID == "m-old")
        #expect(done[t]?.generation == 1)
    }

    @Test func staticMemberRestartingInAStableGroupKeepsItsAssignmentWithoutRebalance() {
        var group = ConsumerGroup(groupID: "g", limits: limits)
        // Static members skip MEMBER_ID_REQUIRED. s1 alone forms generation 1; s2 arriving
        // starts generation 2, which completes when s1 rejoins.
        let j1 = token(), j2 = token(), j1b = token()
        #expect(joins(group.join(input(instance: "i-1", newID: "s1"), token: j1, now: 0))[j1]?.generation == 1)
        #expect(group.join(input(instance: "i-2", newID: "s2"), token: j2, now: 0).isEmpty)
        let done = joins(group.join(input("s1", instance: "i-1", newID: "x"), token: j1b, now: 0))
        #expect(Set(done.keys) == [j1b, j2])
        #expect(done[j2]?.generation == 2)
        let s1 = token(), s2 = token()
        _ = group.sync(memberID: "s2", groupInstanceID: "i-2", generation: 2, protocolType: nil, protocolName: nil,
                       assignments: [:], token: s2, now: 1)
        _ = group.sync(memberID: "s1", groupInstanceID: "i-1", generation: 2, protocolType: nil, protocolName: nil,
                       assignments: ["s1": ByteBuffer(string: "one"), "s2": ByteBuffer(string: "two")], token: s1, now: 1)
        #expect(group.state == .stable)

        // i-2 restarts: new member id, same generation, no rebalance; the old id is fenced.
        let rejoin = token()
        let answer = joins(group.join(input(instance: "i-2", newID: "s2-new"), token: rejoin, now: 2))[rejoin]
        #expect(answer?.error == KafkaErrorCode.none)
        #expect(answer?.memberID == "s2-new")
        #expect(answer?.generation == 2)
        #expect(group.state == .stable)
        let again = token()
        #expect(syncs(group.sync(memberID: "s2-new", groupInstanceID: "i-2", generation: 2, protocolType: nil,
                                        protocolName: nil, assignments: [:], token: again, now: 3))[again]?.assignment == ByteBuffer(string: "two"))
        #expect(group.heartbeat(memberID: "s2", groupInstanceID: "i-2", generation: 2, now: 3) == .fencedInstanceID)
        let (errors, _) = group.leave([("", "i-2")], now: 4)
        #expect(errors == [.none], "a static member may leave by instance id alone")
        #expect(group.state == .preparingRebalance)
    }

    @Test func commitValidationFencesStaleGenerationsAndUnknownMembers() {
        var group = stableGroup(members: ["a", "b"])
        #expect(group.validateCommit(memberID: "a", groupInstanceID: nil, generation: 1) == .none)
        #expect(group.validateCommit(memberID: "a", groupInstanceID: nil, generation: 0) == .illegalGeneration)
        #expect(group.validateCommit(memberID: "zzz", groupInstanceID: nil, generation: 1) == .unknownMemberID)
        #expect(group.validateCommit(memberID: "", groupInstanceID: nil, generation: -1) == .unknownMemberID, "a standalone commit is refused while the group has members")
        _ = group.leave([("a", nil), ("b", nil)], now: 10)
        #expect(group.validateCommit(memberID: "", groupInstanceID: nil, generation: -1) == .none)
    }

    @Test func pendingMemberThatNeverReturnsExpiresAndDoesNotBlockTheRebalance() {
        var group = stableGroup(members: ["a"])
        _ = handshake(&group, id: "ghost", now: 100)
        let rejoin = token()
        #expect(group.join(input("a", newID: "x"), token: rejoin, now: 200).isEmpty, "waits for the pending member")
        #expect(group.state == .preparingRebalance)
        #expect(group.tick(now: 10_099).isEmpty)
        let done = joins(group.tick(now: 10_100))
        #expect(done[rejoin]?.generation == 2)
        #expect(done[rejoin]?.members.map(\.memberID) == ["a"])
        #expect(group.pendingMembers.isEmpty)
    }

    @Test func initialRebalanceDelayGathersAStartingFleetIntoOneGeneration() {
        var group = ConsumerGroup(groupID: "g", limits: GroupLimits(minSessionTimeoutMs: 1_000, maxSessionTimeoutMs: 60_000,
                                                                   initialRebalanceDelayMs: 3_000))
        let a = token(), b = token()
        #expect(group.join(input(newID: "a", v4: false), token: a, now: 0).isEmpty)
        #expect(group.join(input(newID: "b", v4: false), token: b, now: 1_000).isEmpty)
        #expect(group.tick(now: 3_999).isEmpty, "each joiner extends the delay")
        let done = joins(group.tick(now: 4_000))
        #expect(Set(done.keys) == [a, b])
        #expect(Set(done.values.map(\.generation)) == [1])
    }

    /// A stable generation-1 group of the given members (dynamic, joined by handshake).
    private func stableGroup(members ids: [String], session: Int64 = 10_000, rebalance: Int64 = 30_000) -> ConsumerGroup {
        var group = ConsumerGroup(groupID: "g", limits: limits)
        var tokens: [String: RequestToken] = [:]
        for id in ids {
            let first = token()
            _ = group.join(input(newID: id, session: session, rebalance: rebalance), token: first, now: 0)
            tokens[id] = token()
        }
        for id in ids { _ = group.join(input(id, newID: "x", session: session, rebalance: rebalance), token: tokens[id]!, now: 0) }
        #expect(group.state == .completingRebalance)
        for id in ids.reversed() {
            _ = group.sync(memberID: id, groupInstanceID: nil, generation: 1, protocolType: nil, protocolName: nil,
                           assignments: [:], token: token(), now: 0)
        }
        #expect(group.state == .stable)
        return group
    }
}
