import KafkaProtocol
import NIOCore
import Testing

@testable import Broker

/// Every transition of `ConsumerGroup` (Kafka's classic GroupCoordinator semantics), its
/// error paths included. This file holds JoinGroup and static membership; the rest is in
/// ConsumerGroupLifecycleTransitionTests.swift. `ConsumerGroupTests` holds the happy paths.
///
/// | Transition / path                                                      | Test |
/// |------------------------------------------------------------------------|------|
/// | JoinGroup session timeout above the maximum → INVALID_SESSION_TIMEOUT   | `joinRejectsASessionTimeoutAboveTheMaximum` |
/// | JoinGroup empty protocol list / type, type mismatch → INCONSISTENT_GROUP_PROTOCOL | `joinRejectsNoProtocolsAndAProtocolTypeMismatch` |
/// | JoinGroup when full → GROUP_MAX_SIZE_REACHED                             | `joinRefusesANewMemberWhenTheGroupIsFull` |
/// | JoinGroup by a stale (replaced) static member id → FENCED_INSTANCE_ID    | `staleMemberIDOfARestartedStaticMemberIsFenced` |
/// | JoinGroup by a pending id claiming a held instance id → FENCED_INSTANCE_ID | `pendingMemberCannotTakeOverAnInstanceIDAnotherMemberHolds` |
/// | Retried join replaces the parked one; old one → UNKNOWN_MEMBER_ID        | `retriedJoinReplacesTheParkedOne` |
/// | Rejoin, same protocols, CompletingRebalance → current generation again   | `rejoinWithTheSameProtocolsDuringCompletingRebalanceRepeatsTheGeneration` |
/// | Rejoin with changed protocols, CompletingRebalance → PreparingRebalance   | `changedSubscriptionDuringCompletingRebalanceStartsARebalance` |
/// | Follower rejoin, same protocols, Stable → current generation again       | `followerRejoinWithTheSameProtocolsInAStableGroupRepeatsTheGeneration` |
/// | Stable → PreparingRebalance: the leader rejoins                          | `leaderRejoiningAStableGroupStartsARebalance` |
/// | Stable → PreparingRebalance: a subscription changes                      | `changedSubscriptionInAStableGroupStartsARebalance` |
/// | Static restart fences the old member's parked join (PreparingRebalance)  | `staticRestartFencesTheOldMembersParkedJoin` |
/// | Static restart fences the old member's parked sync; CompletingRebalance → PreparingRebalance | `staticRestartFencesTheOldMembersParkedSyncAndRebalances` |
/// | Static restart in Stable with changed protocols → PreparingRebalance     | `staticRestartWithChangedProtocolsRebalancesAStableGroup` |
/// | Static leader restart in Stable → same generation, skipAssignment (KIP-814) | `staticLeaderRestartInAStableGroupSkipsAssignment` |
/// | Static follower restart in Stable → same generation, no members          | `staticFollowerRestartInAStableGroupKeepsTheGeneration` |
/// | Static-member table entry cleared on expiry; the instance rejoins as new | `expiredStaticMemberRejoinsAsANewMember` (the "stale entry" branch was unreachable and is gone) |
/// | CompletingRebalance → PreparingRebalance answers parked syncs REBALANCE_IN_PROGRESS | `completingToPreparingAnswersParkedSyncsWithRebalanceInProgress` (lifecycle file) |
/// | New leader when the leader leaves / expires / misses the deadline; else the old leader stays | `leaderThatLeaves…`, `leaderWhoseSession…`, `leaderThatMisses…`, `leaderStaysLeader…` (lifecycle) |
/// | Initial rebalance delay capped at the rebalance timeout                  | `initialRebalanceDelayIsCappedAtTheRebalanceTimeout` (lifecycle) |
/// | SyncGroup in PreparingRebalance / fenced / protocol-name mismatch        | `syncDuringPreparingRebalance…`, `syncFromAFencedInstance…` (lifecycle) |
/// | Heartbeat in Empty / during CompletingRebalance                          | `heartbeatInAnEmptyGroup…`, `heartbeatDuringCompletingRebalance…` (lifecycle) |
/// | LeaveGroup by unknown / mismatched instance id, by a pending member, with parked join/sync, completing a join | `leaveBy…`, `leaver…` (lifecycle) |
/// | OffsetCommit check: CompletingRebalance, Empty, fenced, standalone       | `commitChecks…` (lifecycle) |
/// | Tick: parked join / sync exempt from expiry; expiry in CompletingRebalance | `memberWithAParkedJoin…`, `memberWithAParkedSync…`, `heartbeatDuringCompletingRebalance…` (lifecycle) |
/// | Tick / LeaveGroup: a pending id going away leaves a Stable group alone     | `pendingMemberThatExpires…`, `leaveByAPendingMemberDoesNotRebalance…` (lifecycle) |
/// | describe(): protocol, metadata, assignment only when Stable              | `describeShowsSubscriptionsAndAssignmentsOnlyWhenStable` (lifecycle) |
@Suite final class ConsumerGroupTransitionTests {
    private typealias H = GroupHarness
    private let h = GroupHarness()

    // MARK: JoinGroup validation

    @Test func joinRejectsASessionTimeoutAboveTheMaximum() {
        h.stableGroup(["a"])
        let (t1, unknown) = h.join(H.input(session: 60_001), now: 1)
        #expect(unknown == [.completeJoin(t1, .failure(.invalidSessionTimeout))])
        let (t2, known) = h.join(H.input("a", session: 60_001), now: 1)
        #expect(known == [.completeJoin(t2, .failure(.invalidSessionTimeout, memberID: "a"))])
        let (t3, atMaximum) = h.join(H.input(newID: "n", session: 60_000), now: 1)
        #expect(atMaximum == [.completeJoin(t3, .failure(.memberIDRequired, memberID: "n"))])
        #expect(h.group.state == .stable)
        #expect(h.group.generation == 1)
    }

    @Test func joinRejectsNoProtocolsAndAProtocolTypeMismatch() {
        // An empty group still needs a protocol type and at least one protocol.
        let (t1, none) = h.join(H.input(newID: "n", protocols: []), now: 0)
        #expect(none == [.completeJoin(t1, .failure(.inconsistentGroupProtocol))])
        let (t2, untyped) = h.join(H.input(newID: "n", protocolType: ""), now: 0)
        #expect(untyped == [.completeJoin(t2, .failure(.inconsistentGroupProtocol))])
        #expect(h.group.pendingMembers.isEmpty)
        #expect(h.group.state == .empty)

        h.stableGroup(["a"])
        let (t3, connect) = h.join(H.input(newID: "n", protocolType: "connect"), now: 1)
        #expect(connect == [.completeJoin(t3, .failure(.inconsistentGroupProtocol))])
        let (t4, knownEmpty) = h.join(H.input("a", protocols: []), now: 1)
        #expect(knownEmpty == [.completeJoin(t4, .failure(.inconsistentGroupProtocol, memberID: "a"))])
        #expect(h.group.state == .stable)
        #expect(h.group.members["a"]?.protocols.map(\.name) == ["range", "roundrobin"])
    }

    @Test func joinRefusesANewMemberWhenTheGroupIsFull() {
        let h = GroupHarness(limits: GroupLimits(minSessionTimeoutMs: 1_000, maxSessionTimeoutMs: 60_000,
                                                 initialRebalanceDelayMs: 0, maxGroupSize: 2))
        h.stableGroup(["a", "b"])
        let (t1, refused) = h.join(H.input(newID: "c"), now: 1)
        #expect(refused == [.completeJoin(t1, .failure(.groupMaxSizeReached))])
        #expect(h.group.pendingMembers.isEmpty)
        #expect(h.group.state == .stable)
        // Members already in keep working.
        let (t2, rejoin) = h.join(H.input("b"), now: 2)
        #expect(rejoin == [.completeJoin(t2, H.joined("b", generation: 1, leader: "a"))])
    }

    @Test func staleMemberIDOfARestartedStaticMemberIsFenced() {
        h.stableStaticGroup()
        _ = h.join(H.input(instance: "i-2", newID: "s2-new"), now: 1)
        let (t, stale) = h.join(H.input("s2", instance: "i-2"), now: 2)
        #expect(stale == [.completeJoin(t, .failure(.fencedInstanceID, memberID: "s2"))])
        #expect(h.group.memberOrder == ["s1", "s2-new"])
        #expect(h.group.state == .stable)
        #expect(h.group.generation == 2)
    }

    @Test func pendingMemberCannotTakeOverAnInstanceIDAnotherMemberHolds() {
        h.stableStaticGroup()
        _ = h.handshake("p", now: 1)
        let (t, claim) = h.join(H.input("p", instance: "i-1"), now: 2)
        #expect(claim == [.completeJoin(t, .failure(.fencedInstanceID, memberID: "p"))])
        #expect(h.group.staticMembers == ["i-1": "s1", "i-2": "s2"])
        #expect(h.group.memberOrder == ["s1", "s2"])
        #expect(h.group.state == .stable)
    }

    // MARK: Rejoining

    @Test func retriedJoinReplacesTheParkedOne() {
        h.stableGroup(["a", "b", "c"])
        let (jc, startsRebalance) = h.join(H.input("c", protocols: ["range"]), now: 1)
        #expect(startsRebalance.isEmpty)
        let (ja1, parked) = h.join(H.input("a"), now: 2)
        #expect(parked.isEmpty)
        let (ja2, retried) = h.join(H.input("a"), now: 3)
        #expect(retried == [.completeJoin(ja1, .failure(.unknownMemberID, memberID: "a"))])
        #expect(h.group.members["a"]?.pendingJoin == ja2)
        #expect(h.group.state == .preparingRebalance)
        let (jb, done) = h.join(H.input("b"), now: 4)
        #expect(done == [.completeJoin(ja2, H.joined("a", generation: 2, leader: "a", members: [("a", nil), ("b", nil), ("c", nil)])),
                         .completeJoin(jb, H.joined("b", generation: 2, leader: "a")),
                         .completeJoin(jc, H.joined("c", generation: 2, leader: "a"))])
    }

    @Test func rejoinWithTheSameProtocolsDuringCompletingRebalanceRepeatsTheGeneration() {
        h.completingGroup(["a", "b"])
        let (tb, follower) = h.join(H.input("b"), now: 1)
        #expect(follower == [.completeJoin(tb, H.joined("b", generation: 1, leader: "a"))])
        let (ta, leader) = h.join(H.input("a"), now: 2)
        #expect(leader == [.completeJoin(ta, H.joined("a", generation: 1, leader: "a", members: [("a", nil), ("b", nil)]))])
        #expect(h.group.state == .completingRebalance)
        #expect(h.group.generation == 1)
    }

    @Test func changedSubscriptionDuringCompletingRebalanceStartsARebalance() {
        h.completingGroup(["a", "b"])
        let (_, changed) = h.join(H.input("b", protocols: ["roundrobin"]), now: 1)
        #expect(changed.isEmpty)
        #expect(h.group.state == .preparingRebalance)
        let (ta, done) = h.join(H.input("a"), now: 2)
        #expect(done.count == 2)
        #expect(done.first == .completeJoin(ta, H.joined("a", generation: 2, leader: "a", members: [("a", nil), ("b", nil)],
                                                         protocolName: "roundrobin")))
    }

    @Test func followerRejoinWithTheSameProtocolsInAStableGroupRepeatsTheGeneration() {
        h.stableGroup(["a", "b"])
        let (t, again) = h.join(H.input("b"), now: 1)
        #expect(again == [.completeJoin(t, H.joined("b", generation: 1, leader: "a"))])
        #expect(h.group.state == .stable)
        #expect(h.group.members["b"]?.assignment == ByteBuffer(string: "assign-b"), "the assignment stands")
    }

    @Test func leaderRejoiningAStableGroupStartsARebalance() {
        h.stableGroup(["a", "b"])
        let (ta, parked) = h.join(H.input("a"), now: 1)
        #expect(parked.isEmpty)
        #expect(h.group.state == .preparingRebalance)
        #expect(h.group.generation == 1)
        #expect(h.group.heartbeat(memberID: "b", groupInstanceID: nil, generation: 1, now: 2) == .rebalanceInProgress)
        let (tb, done) = h.join(H.input("b"), now: 3)
        #expect(done == [.completeJoin(ta, H.joined("a", generation: 2, leader: "a", members: [("a", nil), ("b", nil)])),
                         .completeJoin(tb, H.joined("b", generation: 2, leader: "a"))])
        #expect(h.group.state == .completingRebalance)
    }

    @Test func changedSubscriptionInAStableGroupStartsARebalance() {
        h.stableGroup(["a", "b"])
        let (tb, parked) = h.join(H.input("b", protocols: ["roundrobin"]), now: 1)
        #expect(parked.isEmpty)
        #expect(h.group.state == .preparingRebalance)
        let (ta, done) = h.join(H.input("a"), now: 2)
        #expect(done == [.completeJoin(ta, H.joined("a", generation: 2, leader: "a", members: [("a", nil), ("b", nil)],
                                                    protocolName: "roundrobin")),
                         .completeJoin(tb, H.joined("b", generation: 2, leader: "a", protocolName: "roundrobin"))])
    }

    // MARK: Static membership (KIP-345, KIP-814)

    @Test func staticRestartFencesTheOldMembersParkedJoin() {
        h.stableStaticGroup()
        let (oldJoin, parked) = h.join(H.input("s2", instance: "i-2", protocols: ["range"]), now: 1)
        #expect(parked.isEmpty)
        #expect(h.group.state == .preparingRebalance)
        let (newJoin, fenced) = h.join(H.input(instance: "i-2", newID: "s2-new", protocols: ["range"]), now: 2)
        #expect(fenced == [.completeJoin(oldJoin, .failure(.fencedInstanceID, memberID: "s2"))])
        #expect(h.group.members["s2-new"]?.pendingJoin == newJoin, "the new id waits in the join phase")
        #expect(h.group.staticMembers["i-2"] == "s2-new")
        let (s1Join, done) = h.join(H.input("s1", instance: "i-1"), now: 3)
        #expect(done == [.completeJoin(s1Join, H.joined("s1", generation: 3, leader: "s1", members: [("s1", "i-1"), ("s2-new", "i-2")])),
                         .completeJoin(newJoin, H.joined("s2-new", generation: 3, leader: "s1"))])
    }

    @Test func staticRestartFencesTheOldMembersParkedSyncAndRebalances() {
        h.stableStaticGroup()
        _ = h.join(H.input("s2", instance: "i-2", protocols: ["range"]), now: 1)
        _ = h.join(H.input("s1", instance: "i-1"), now: 1)
        #expect(h.group.state == .completingRebalance)
        #expect(h.group.generation == 3)
        let (oldSync, parked) = h.sync("s2", instance: "i-2", generation: 3, now: 2)
        #expect(parked.isEmpty)
        let (newJoin, fenced) = h.join(H.input(instance: "i-2", newID: "s2-new", protocols: ["range"]), now: 3)
        #expect(fenced == [.completeSync(oldSync, .failure(.fencedInstanceID))])
        #expect(h.group.state == .preparingRebalance, "the leader may already be assigning to the old id")
        #expect(h.group.generation == 3)
        let (s1Join, done) = h.join(H.input("s1", instance: "i-1"), now: 4)
        #expect(done == [.completeJoin(s1Join, H.joined("s1", generation: 4, leader: "s1", members: [("s1", "i-1"), ("s2-new", "i-2")])),
                         .completeJoin(newJoin, H.joined("s2-new", generation: 4, leader: "s1"))])
    }

    @Test func staticRestartWithChangedProtocolsRebalancesAStableGroup() {
        h.stableStaticGroup()
        let (newJoin, parked) = h.join(H.input(instance: "i-2", newID: "s2-new", protocols: ["roundrobin"]), now: 1)
        #expect(parked.isEmpty)
        #expect(h.group.state == .preparingRebalance)
        #expect(h.group.memberOrder == ["s1", "s2-new"])
        let (s1Join, done) = h.join(H.input("s1", instance: "i-1"), now: 2)
        #expect(done == [.completeJoin(s1Join, H.joined("s1", generation: 3, leader: "s1", members: [("s1", "i-1"), ("s2-new", "i-2")],
                                                        protocolName: "roundrobin")),
                         .completeJoin(newJoin, H.joined("s2-new", generation: 3, leader: "s1", protocolName: "roundrobin"))])
    }

    @Test func staticLeaderRestartInAStableGroupSkipsAssignment() {
        h.stableStaticGroup()
        let (t, answer) = h.join(H.input(instance: "i-1", newID: "s1-new"), now: 1)
        #expect(answer == [.completeJoin(t, H.joined("s1-new", generation: 2, leader: "s1-new",
                                                     members: [("s1-new", "i-1"), ("s2", "i-2")], skipAssignment: true))])
        #expect(h.group.state == .stable)
        #expect(h.group.leaderID == "s1-new")
        #expect(h.group.members["s1-new"]?.assignment == ByteBuffer(string: "assign-s1"))
        #expect(h.group.heartbeat(memberID: "s1", groupInstanceID: "i-1", generation: 2, now: 2) == .fencedInstanceID)
        #expect(h.group.heartbeat(memberID: "s1-new", groupInstanceID: "i-1", generation: 2, now: 2) == .none)
    }

    @Test func staticFollowerRestartInAStableGroupKeepsTheGeneration() {
        h.stableStaticGroup()
        let (t, answer) = h.join(H.input(instance: "i-2", newID: "s2-new"), now: 1)
        #expect(answer == [.completeJoin(t, H.joined("s2-new", generation: 2, leader: "s1"))])
        #expect(h.group.state == .stable)
        let (s, synced) = h.sync("s2-new", instance: "i-2", generation: 2, now: 2)
        #expect(synced == [.completeSync(s, H.synced("assign-s2"))])
    }

    @Test func expiredStaticMemberRejoinsAsANewMember() {
        h.stableStaticGroup()
        #expect(h.group.heartbeat(memberID: "s1", groupInstanceID: "i-1", generation: 2, now: 10_000) == .none)
        _ = h.group.tick(now: 10_001)
        #expect(h.group.staticMembers == ["i-1": "s1"], "the expired member's table entry went with it")
        #expect(h.group.state == .preparingRebalance)
        let (s1Join, done) = h.join(H.input("s1", instance: "i-1"), now: 10_002)
        #expect(done == [.completeJoin(s1Join, H.joined("s1", generation: 3, leader: "s1", members: [("s1", "i-1")]))])
        let (t, fresh) = h.join(H.input(instance: "i-2", newID: "s2-again"), now: 10_003)
        #expect(fresh.isEmpty, "a new member: the group rebalances and waits for s1")
        #expect(h.group.state == .preparingRebalance)
        #expect(h.group.members["s2-again"]?.pendingJoin == t)
    }
}
