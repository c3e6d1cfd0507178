import KafkaProtocol
import NIOCore
import Testing

@testable import Broker

/// `ConsumerGroup` transitions after the join: rebalance bookkeeping, leader election,
/// SyncGroup, Heartbeat, LeaveGroup, the OffsetCommit check, the clock, and describe().
/// The transition → test table is at the top of ConsumerGroupTransitionTests.swift.
@Suite final class ConsumerGroupLifecycleTransitionTests {
    private typealias H = GroupHarness
    private let h = GroupHarness()

    // MARK: Rebalance

    @Test func completingToPreparingAnswersParkedSyncsWithRebalanceInProgress() {
        h.completingGroup(["a", "b"])
        let (sb, parked) = h.sync("b", generation: 1, now: 1)
        #expect(parked.isEmpty)
        _ = h.handshake("c", now: 2)
        #expect(h.group.state == .completingRebalance, "a MEMBER_ID_REQUIRED id alone changes nothing")
        let (jc, joined) = h.join(H.input("c"), now: 3)
        #expect(joined == [.completeSync(sb, .failure(.rebalanceInProgress))])
        #expect(h.group.state == .preparingRebalance)
        #expect(h.group.generation == 1)
        #expect(h.group.members["b"]?.pendingSync == nil)
        let (ja, _) = h.join(H.input("a"), now: 4)
        let (jb, done) = h.join(H.input("b"), now: 5)
        #expect(done == [.completeJoin(ja, H.joined("a", generation: 2, leader: "a", members: [("a", nil), ("b", nil), ("c", nil)])),
                         .completeJoin(jb, H.joined("b", generation: 2, leader: "a")),
                         .completeJoin(jc, H.joined("c", generation: 2, leader: "a"))])
    }

    @Test func leaderThatLeavesIsReplacedByTheFirstRemainingMember() {
        h.stableGroup(["a", "b", "c"])
        let (errors, actions) = h.group.leave([("a", nil)], now: 1)
        #expect(errors == [.none])
        #expect(actions.isEmpty)
        #expect(h.group.leaderID == nil)
        let (jc, _) = h.join(H.input("c"), now: 2)
        let (jb, done) = h.join(H.input("b"), now: 3)
        #expect(done == [.completeJoin(jb, H.joined("b", generation: 2, leader: "b", members: [("b", nil), ("c", nil)])),
                         .completeJoin(jc, H.joined("c", generation: 2, leader: "b"))])
    }

    @Test func leaderWhoseSessionExpiresIsReplaced() {
        h.stableGroup(["a", "b"], session: 5_000)
        #expect(h.group.heartbeat(memberID: "b", groupInstanceID: nil, generation: 1, now: 4_000) == .none)
        #expect(h.group.tick(now: 5_001).isEmpty)
        #expect(h.group.memberOrder == ["b"])
        #expect(h.group.state == .preparingRebalance)
        let (jb, done) = h.join(H.input("b", session: 5_000), now: 5_002)
        #expect(done == [.completeJoin(jb, H.joined("b", generation: 2, leader: "b", members: [("b", nil)]))])
    }

    @Test func leaderThatMissesTheRebalanceDeadlineIsReplaced() {
        h.stableGroup(["a", "b"], rebalance: 2_000)
        let (jb, parked) = h.join(H.input("b", rebalance: 2_000, protocols: ["range"]), now: 10)
        #expect(parked.isEmpty)
        #expect(h.group.tick(now: 2_009).isEmpty)
        let done = h.group.tick(now: 2_010)
        #expect(done == [.completeJoin(jb, H.joined("b", generation: 2, leader: "b", members: [("b", nil)]))])
        #expect(h.group.memberOrder == ["b"])
    }

    @Test func leaderStaysLeaderWhenOthersComeAndGo() {
        h.stableGroup(["a", "b", "c"])
        _ = h.group.leave([("b", nil)], now: 1)
        _ = h.handshake("d", now: 2)
        let (jd, _) = h.join(H.input("d"), now: 3)
        let (jc, _) = h.join(H.input("c"), now: 4)
        let (ja, done) = h.join(H.input("a"), now: 5)
        #expect(done == [.completeJoin(ja, H.joined("a", generation: 2, leader: "a", members: [("a", nil), ("c", nil), ("d", nil)])),
                         .completeJoin(jc, H.joined("c", generation: 2, leader: "a")),
                         .completeJoin(jd, H.joined("d", generation: 2, leader: "a"))])
    }

    @Test func initialRebalanceDelayIsCappedAtTheRebalanceTimeout() {
        let h = GroupHarness(limits: GroupLimits(minSessionTimeoutMs: 1_000, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 3_000))
        let (a, first) = h.join(H.input(newID: "a", rebalance: 5_000, v4: false), now: 0)
        #expect(first.isEmpty)
        let (b, second) = h.join(H.input(newID: "b", rebalance: 5_000, v4: false), now: 2_500)
        #expect(second.isEmpty)
        // Uncapped, b would push the delay to 5,500; the rebalance timeout (5,000 from the start) caps it.
        #expect(h.group.tick(now: 4_999).isEmpty)
        let done = h.group.tick(now: 5_000)
        #expect(done == [.completeJoin(a, H.joined("a", generation: 1, leader: "a", members: [("a", nil), ("b", nil)])),
                         .completeJoin(b, H.joined("b", generation: 1, leader: "a"))])
    }

    // MARK: SyncGroup

    @Test func syncDuringPreparingRebalanceIsRebalanceInProgress() {
        h.stableGroup(["a", "b"])
        _ = h.join(H.input("a"), now: 1)
        let (t, answer) = h.sync("b", generation: 1, now: 2)
        #expect(answer == [.completeSync(t, .failure(.rebalanceInProgress))])
        #expect(h.group.members["b"]?.pendingSync == nil)
        #expect(h.group.state == .preparingRebalance)
    }

    @Test func syncFromAFencedInstanceOrForAnotherProtocolIsRefused() {
        h.stableStaticGroup()
        _ = h.join(H.input(instance: "i-2", newID: "s2-new"), now: 1)
        let (t1, fenced) = h.sync("s2", instance: "i-2", generation: 2, now: 2)
        #expect(fenced == [.completeSync(t1, .failure(.fencedInstanceID))])
        let (t2, otherName) = h.sync("s1", instance: "i-1", generation: 2, protocolName: "roundrobin", now: 2)
        #expect(otherName == [.completeSync(t2, .failure(.inconsistentGroupProtocol))])
        let (t3, sameName) = h.sync("s1", instance: "i-1", generation: 2, protocolName: "range", now: 2)
        #expect(sameName == [.completeSync(t3, H.synced("assign-s1"))])
    }

    // MARK: Heartbeat

    @Test func heartbeatInAnEmptyGroupIsUnknownMember() {
        _ = h.handshake("p", now: 0)
        #expect(h.group.heartbeat(memberID: "p", groupInstanceID: nil, generation: 0, now: 1) == .unknownMemberID,
                "a pending id is no member")
        let emptied = GroupHarness()
        emptied.stableGroup(["a"])
        _ = emptied.group.leave([("a", nil)], now: 2)
        #expect(emptied.group.state == .empty)
        #expect(emptied.group.generation == 2)
        #expect(emptied.group.heartbeat(memberID: "a", groupInstanceID: nil, generation: 2, now: 3) == .unknownMemberID)
    }

    @Test func heartbeatDuringCompletingRebalanceKeepsTheMemberAliveWhileTheSilentLeaderExpires() {
        h.completingGroup(["a", "b"], session: 5_000)
        #expect(h.group.heartbeat(memberID: "b", groupInstanceID: nil, generation: 1, now: 4_000) == .none)
        #expect(h.group.heartbeat(memberID: "b", groupInstanceID: nil, generation: 0, now: 4_000) == .illegalGeneration)
        #expect(h.group.tick(now: 5_001).isEmpty)
        #expect(h.group.memberOrder == ["b"], "a never synced nor heartbeat: its session expired mid-rebalance")
        #expect(h.group.state == .preparingRebalance)
        let (jb, done) = h.join(H.input("b", session: 5_000), now: 5_002)
        #expect(done == [.completeJoin(jb, H.joined("b", generation: 2, leader: "b", members: [("b", nil)]))])
    }

    // MARK: LeaveGroup

    @Test func leaveByUnknownOrMismatchedInstanceID() {
        h.stableStaticGroup()
        let (errors, actions) = h.group.leave([("", "i-9"), ("s1", "i-2"), ("s2", "i-2")], now: 1)
        #expect(errors == [.unknownMemberID, .fencedInstanceID, .none])
        #expect(actions.isEmpty)
        #expect(h.group.memberOrder == ["s1"])
        #expect(h.group.staticMembers == ["i-1": "s1"])
        #expect(h.group.state == .preparingRebalance)
    }

    @Test func leaveByAPendingMemberDoesNotRebalanceAStableGroup() {
        h.stableGroup(["a"])
        _ = h.handshake("p", now: 1)
        let (errors, actions) = h.group.leave([("p", nil)], now: 2)
        #expect(errors == [.none])
        #expect(actions.isEmpty)
        #expect(h.group.pendingMembers.isEmpty)
        #expect(h.group.state == .stable)
        #expect(h.group.generation == 1)
    }

    @Test func leaveByAPendingMemberCompletesAJoinWaitingForIt() {
        h.stableGroup(["a"])
        _ = h.handshake("p", now: 1)
        let (ja, waiting) = h.join(H.input("a"), now: 2)
        #expect(waiting.isEmpty)
        let (errors, actions) = h.group.leave([("p", nil)], now: 3)
        #expect(errors == [.none])
        #expect(actions == [.completeJoin(ja, H.joined("a", generation: 2, leader: "a", members: [("a", nil)]))])
    }

    @Test func leaversParkedJoinIsAnsweredAndTheLastLeaverCompletesTheJoin() {
        h.stableGroup(["a", "b", "c"])
        let (ja, _) = h.join(H.input("a"), now: 1)
        let (jb, _) = h.join(H.input("b"), now: 2)
        let (_, first) = h.group.leave([("a", nil)], now: 3)
        #expect(first == [.completeJoin(ja, .failure(.unknownMemberID))])
        let (_, second) = h.group.leave([("c", nil)], now: 4)
        #expect(second == [.completeJoin(jb, H.joined("b", generation: 2, leader: "b", members: [("b", nil)]))])
        #expect(h.group.state == .completingRebalance)
    }

    @Test func leaversParkedSyncIsAnsweredAndTheGroupRebalances() {
        h.completingGroup(["a", "b"])
        let (sb, _) = h.sync("b", generation: 1, now: 1)
        let (errors, actions) = h.group.leave([("b", nil)], now: 2)
        #expect(errors == [.none])
        #expect(actions == [.completeSync(sb, .failure(.unknownMemberID))])
        #expect(h.group.state == .preparingRebalance)
        #expect(h.group.memberOrder == ["a"])
    }

    // MARK: OffsetCommit check

    @Test func commitChecksDuringCompletingRebalanceFollowKafkasOrder() {
        h.completingGroup(["a", "b"])
        #expect(h.group.validateCommit(memberID: "a", groupInstanceID: nil, generation: 1) == .rebalanceInProgress)
        #expect(h.group.validateCommit(memberID: "zzz", groupInstanceID: nil, generation: 1) == .unknownMemberID)
        #expect(h.group.validateCommit(memberID: "a", groupInstanceID: nil, generation: 0) == .illegalGeneration)
        #expect(h.group.validateCommit(memberID: "", groupInstanceID: nil, generation: -1) == .unknownMemberID)
        _ = h.join(H.input("a", protocols: ["range"]), now: 1)
        #expect(h.group.state == .preparingRebalance)
        #expect(h.group.validateCommit(memberID: "b", groupInstanceID: nil, generation: 1) == .none,
                "PreparingRebalance still takes commits of the current generation")
    }

    @Test func commitChecksInAnEmptyGroup() {
        h.stableGroup(["a"])
        _ = h.group.leave([("a", nil)], now: 1)
        #expect(h.group.state == .empty)
        #expect(h.group.validateCommit(memberID: "a", groupInstanceID: nil, generation: 2) == .unknownMemberID)
        #expect(h.group.validateCommit(memberID: "", groupInstanceID: nil, generation: 0) == .unknownMemberID)
        #expect(h.group.validateCommit(memberID: "a", groupInstanceID: nil, generation: -1) == .unknownMemberID)
        #expect(h.group.validateCommit(memberID: "", groupInstanceID: "i-1", generation: -1) == .unknownMemberID)
        #expect(h.group.validateCommit(memberID: "", groupInstanceID: nil, generation: -1) == .none)
    }

    @Test func commitChecksFenceARestartedStaticInstance() {
        h.stableStaticGroup()
        _ = h.join(H.input(instance: "i-2", newID: "s2-new"), now: 1)
        #expect(h.group.validateCommit(memberID: "s2", groupInstanceID: "i-2", generation: 2) == .fencedInstanceID)
        #expect(h.group.validateCommit(memberID: "s2-new", groupInstanceID: "i-2", generation: 2) == .none)
    }

    // MARK: Clock

    @Test func pendingMemberThatExpiresDoesNotRebalanceAStableGroup() {
        h.stableGroup(["a"])
        _ = h.handshake("p", now: 100)
        #expect(h.group.heartbeat(memberID: "a", groupInstanceID: nil, generation: 1, now: 10_000) == .none)
        #expect(h.group.tick(now: 10_100).isEmpty)
        #expect(h.group.pendingMembers.isEmpty)
        #expect(h.group.state == .stable)
        #expect(h.group.generation == 1)
    }

    @Test func memberWithAParkedJoinOutlivesItsSession() {
        h.stableGroup(["a", "b"], session: 5_000)
        let (ja, _) = h.join(H.input("a", session: 5_000), now: 100)
        // Both were last seen long ago; only b, which is not waiting on the coordinator, expires.
        let done = h.group.tick(now: 6_000)
        #expect(done == [.completeJoin(ja, H.joined("a", generation: 2, leader: "a", members: [("a", nil)]))])
        #expect(h.group.memberOrder == ["a"])
    }

    @Test func memberWithAParkedSyncOutlivesItsSessionWhenTheLeaderExpires() {
        h.completingGroup(["a", "b"], session: 5_000)
        let (sb, _) = h.sync("b", generation: 1, now: 0)
        let actions = h.group.tick(now: 6_000)
        #expect(actions == [.completeSync(sb, .failure(.rebalanceInProgress))])
        #expect(h.group.memberOrder == ["b"])
        #expect(h.group.state == .preparingRebalance)
        #expect(h.group.generation == 1)
    }

    // MARK: describe()

    @Test func describeShowsSubscriptionsAndAssignmentsOnlyWhenStable() {
        h.completingGroup(["a", "b"])
        let rebalancing = h.group.describe()
        #expect(rebalancing.state == .completingRebalance)
        #expect(rebalancing.protocolType == "consumer")
        #expect(rebalancing.protocolName == "")
        #expect(rebalancing.members.map(\.memberID) == ["a", "b"])
        #expect(rebalancing.members.map(\.clientID) == ["client", "client"])
        #expect(rebalancing.members.map(\.clientHost) == ["/127.0.0.1", "/127.0.0.1"])
        #expect(rebalancing.members.map(\.metadata) == [ByteBuffer(), ByteBuffer()])
        #expect(rebalancing.members.map(\.assignment) == [ByteBuffer(), ByteBuffer()])

        _ = h.sync("b", generation: 1, now: 1)
        _ = h.sync("a", generation: 1, assignments: ["a": ByteBuffer(string: "A"), "b": ByteBuffer(string: "B")], now: 1)
        let stable = h.group.describe()
        #expect(stable.state == .stable)
        #expect(stable.protocolName == "range")
        #expect(stable.members.map(\.metadata) == [ByteBuffer(string: "subscription-range"), ByteBuffer(string: "subscription-range")])
        #expect(stable.members.map(\.assignment) == [ByteBuffer(string: "A"), ByteBuffer(string: "B")])
        #expect(stable.members.map(\.groupInstanceID) == [nil, nil])

        let fresh = ConsumerGroup(groupID: "g", limits: GroupHarness.limits).describe()
        #expect(fresh.state == .empty)
        #expect(fresh.protocolType == "")
        #expect(fresh.members.isEmpty)
    }

    @Test func describeNamesStaticInstances() {
        h.stableStaticGroup()
        let described = h.group.describe()
        #expect(described.members.map(\.memberID) == ["s1", "s2"])
        #expect(described.members.map(\.groupInstanceID) == ["i-1", "i-2"])
        #expect(described.members.map(\.assignment) == [ByteBuffer(string: "assign-s1"), ByteBuffer(string: "assign-s2")])
    }
}
