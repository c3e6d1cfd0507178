import KafkaProtocol
import NIOCore

/// One consumer group under the classic rebalance protocol, as a value: an event goes
/// in (join, sync, heartbeat, leave, clock tick), the state changes, and the requests to
/// answer come out as `GroupAction`s. No I/O, no clocks of its own: `GroupCoordinator`
/// carries requests and time to it, and it is unit tested without sockets.
///
/// States follow Kafka's: Empty → PreparingRebalance → CompletingRebalance → Stable,
/// back to PreparingRebalance whenever membership or subscriptions change.
struct ConsumerGroup: Sendable {
    let groupID: String
    let limits: GroupLimits
    private(set) var state: GroupState = .empty
    private(set) var generation: Int32 = 0
    private(set) var protocolType: String?
    private(set) var protocolName: String?
    private(set) var leaderID: String?
    /// Members in join order (the first becomes leader when there is none).
    private(set) var members: [String: GroupMember] = [:]
    private(set) var memberOrder: [String] = []
    /// KIP-394: ids handed out with MEMBER_ID_REQUIRED, expiring if the member never returns.
    private(set) var pendingMembers: [String: Int64] = [:]
    /// KIP-345: group.instance.id → current member id.
    private(set) var staticMembers: [String: String] = [:]
    private var rebalanceDeadlineMs: Int64 = 0
    private var initialDelayStartMs: Int64 = 0
    private var initialDelayUntilMs: Int64?

    init(groupID: String, limits: GroupLimits) {
        self.groupID = groupID
        self.limits = limits
    }

    var isEmpty: Bool { members.isEmpty && pendingMembers.isEmpty }

    // MARK: JoinGroup

    mutating func join(_ input: JoinGroupInput, token: RequestToken, now: Int64) -> [GroupAction] {
        func fail(_ error: KafkaErrorCode, memberID: String = input.memberID) -> [GroupAction] {
            [.completeJoin(token, .failure(error, memberID: memberID))]
        }
        guard !groupID.isEmpty else { return fail(.invalidGroupID) }
        guard (limits.minSessionTimeoutMs...limits.maxSessionTimeoutMs).contains(input.sessionTimeoutMs) else {
            return fail(.invalidSessionTimeout)
        }
        guard !input.protocols.isEmpty, !input.protocolType.isEmpty, supportsProtocols(input) else {
            return fail(.inconsistentGroupProtocol)
        }

        if input.memberID.isEmpty {
            return joinUnknownMember(input, token: token, now: now)
        }
        return joinKnownMember(input, token: token, now: now)
    }

    private mutating func joinUnknownMember(_ input: JoinGroupInput, token: RequestToken, now: Int64) -> [GroupAction] {
        if let instanceID = input.groupInstanceID, let oldMemberID = staticMembers[instanceID], let member = members[oldMemberID] {
            return replaceStaticMember(member, instanceID: instanceID, with: input, token: token, now: now)
        }
        guard members.count + pendingMembers.count < limits.maxGroupSize else {
            return [.completeJoin(token, .failure(.groupMaxSizeReached))]
        }
        if input.requireKnownMemberID && input.groupInstanceID == nil {
            pendingMembers[input.newMemberID] = now + input.sessionTimeoutMs
            return [.completeJoin(token, .failure(.memberIDRequired, memberID: input.newMemberID))]
        }
        return addMember(input, memberID: input.newMemberID, token: token, now: now)
    }

    private mutating func joinKnownMember(_ input: JoinGroupInput, token: RequestToken, now: Int64) -> [GroupAction] {
        let memberID = input.memberID
        // Fencing first: a pending id must not take over an instance id another member holds.
        if let instanceID = input.groupInstanceID, let current = staticMembers[instanceID], current != memberID {
            return [.completeJoin(token, .failure(.fencedInstanceID, memberID: memberID))]
        }
        if pendingMembers.removeValue(forKey: memberID) != nil {
            return addMember(input, memberID: memberID, token: token, now: now)
        }
        guard var member = members[memberID] else {
            return [.completeJoin(token, .failure(.unknownMemberID, memberID: memberID))]
        }
        var actions: [GroupAction] = []
        if let previous = member.pendingJoin {
            // A retried join replaces the parked one; the older request learns it was superseded.
            actions.append(.completeJoin(previous, .failure(.unknownMemberID, memberID: memberID)))
        }
        let protocolsChanged = !member.sameProtocols(as: input.protocols)
        member.protocols = input.protocols
        member.sessionTimeoutMs = input.sessionTimeoutMs
        member.rebalanceTimeoutMs = input.rebalanceTimeoutMs
        member.lastSeenMs = now
        member.pendingJoin = nil
        members[memberID] = member

        switch state {
        case .preparingRebalance:
            members[memberID]?.pendingJoin = token
            actions += maybeCompleteJoin(now: now)
        case .completingRebalance where !protocolsChanged, .stable where !protocolsChanged && memberID != leaderID:
            // The member lost our answer (or is merely re-checking): repeat the current generation.
            actions.append(.completeJoin(token, currentGenerationOutcome(for: memberID)))
        case .completingRebalance, .stable, .empty:
            members[memberID]?.pendingJoin = token
            actions += prepareRebalance(now: now)
        }
        return actions
    }

    private mutating func addMember(_ input: JoinGroupInput, memberID: String, token: RequestToken, now: Int64) -> [GroupAction] {
        let member = GroupMember(
            memberID: memberID, groupInstanceID: input.groupInstanceID, clientID: input.clientID,
            clientHost: input.clientHost, sessionTimeoutMs: input.sessionTimeoutMs,
            rebalanceTimeoutMs: input.rebalanceTimeoutMs, protocolType: input.protocolType,
            protocols: input.protocols, lastSeenMs: now, pendingJoin: token)
        if members.isEmpty { protocolType = input.protocolType }
        members[memberID] = member
        memberOrder.append(memberID)
        if let instanceID = input.groupInstanceID { staticMembers[instanceID] = memberID }
        if state == .preparingRebalance {
            if let until = initialDelayUntilMs {
                // Another joiner during the initial delay extends it, within the rebalance timeout.
                let cap = initialDelayStartMs + maxRebalanceTimeout
                initialDelayUntilMs = min(max(until, now + limits.initialRebalanceDelayMs), cap)
            }
            return maybeCompleteJoin(now: now)
        }
        return prepareRebalance(now: now)
    }

    /// KIP-345: a static member restarted under a new member id. The old id is fenced; in a
    /// stable group with unchanged subscriptions there is no rebalance at all.
    private mutating func replaceStaticMember(_ old: GroupMember, instanceID: String, with input: JoinGroupInput,
                                              token: RequestToken, now: Int64) -> [GroupAction] {
        let oldMemberID = old.memberID
        var member = old
        members[oldMemberID] = nil
        var actions: [GroupAction] = []
        if let parked = member.pendingJoin {
            actions.append(.completeJoin(parked, .failure(.fencedInstanceID, memberID: oldMemberID)))
        }
        if let parked = member.pendingSync {
            actions.append(.completeSync(parked, .failure(.fencedInstanceID)))
        }
        let newID = input.newMemberID
        let protocolsChanged = !member.sameProtocols(as: input.protocols)
        member.memberID = newID
        member.pendingJoin = nil
        member.pendingSync = nil
        member.protocols = input.protocols
        member.clientID = input.clientID
        member.clientHost = input.clientHost
        member.sessionTimeoutMs = input.sessionTimeoutMs
        member.rebalanceTimeoutMs = input.rebalanceTimeoutMs
        member.lastSeenMs = now
        members[newID] = member
        memberOrder = memberOrder.map { $0 == oldMemberID ? newID : $0 }
        staticMembers[instanceID] = newID
        if leaderID == oldMemberID { leaderID = newID }

        if state == .stable && !protocolsChanged {
            var outcome = currentGenerationOutcome(for: newID)
            outcome.skipAssignment = newID == leaderID
            actions.append(.completeJoin(token, outcome))
            return actions
        }
        members[newID]?.pendingJoin = token
        if state == .preparingRebalance {
            return actions + maybeCompleteJoin(now: now)
        }
        return actions + prepareRebalance(now: now)
    }

    private func supportsProtocols(_ input: JoinGroupInput) -> Bool {
        guard !members.isEmpty, let protocolType else { return true }
        if input.protocolType != protocolType { return false }
        let offered = Set(input.protocols.map(\.name))
        let candidates = candidateProtocols(excluding: input.memberID)
        return candidates.map { !$0.isDisjoint(with: offered) } ?? true
    }

    /// The protocols every member (but `excluding`) supports; nil when there are no others.
    private func candidateProtocols(excluding memberID: String? = nil) -> Set<String>? {
        var result: Set<String>?
        for (id, member) in members where id != memberID {
            let names = Set(member.protocols.map(\.name))
            result = result.map { $0.intersection(names) } ?? names
        }
        return result
    }

    // MARK: Rebalance

    private var maxRebalanceTimeout: Int64 {
        members.values.map(\.rebalanceTimeoutMs).max() ?? 0
    }

    private mutating func prepareRebalance(now: Int64) -> [GroupAction] {
        var actions: [GroupAction] = []
        if state == .completingRebalance {
            for id in memberOrder {
                if let parked = members[id]?.pendingSync {
                    actions.append(.completeSync(parked, .failure(.rebalanceInProgress)))
                    members[id]?.pendingSync = nil
                }
            }
        }
        let wasEmpty = state == .empty
        state = .preparingRebalance
        rebalanceDeadlineMs = now + maxRebalanceTimeout
        if wasEmpty && limits.initialRebalanceDelayMs > 0 {
            initialDelayStartMs = now
            initialDelayUntilMs = min(now + limits.initialRebalanceDelayMs, rebalanceDeadlineMs)
        } else {
            initialDelayUntilMs = nil
        }
        return actions + maybeCompleteJoin(now: now)
    }

    /// The join phase ends once every known member has rejoined and no MEMBER_ID_REQUIRED
    /// member is still expected (never waiting out a timeout needlessly), or at the deadline.
    private mutating func maybeCompleteJoin(now: Int64) -> [GroupAction] {
        guard state == .preparingRebalance else { return [] }
        if let until = initialDelayUntilMs {
            guard now >= until else { return [] }
            initialDelayUntilMs = nil
        }
        let allJoined = members.values.allSatisfy { $0.pendingJoin != nil } && pendingMembers.isEmpty
        if allJoined { return completeJoin(now: now) }
        if now >= rebalanceDeadlineMs {
            for id in memberOrder where members[id]?.pendingJoin == nil { removeMemberEntry(id) }
            pendingMembers.removeAll()
            return completeJoin(now: now)
        }
        return []
    }

    private mutating func completeJoin(now: Int64) -> [GroupAction] {
        generation &+= 1
        if members.isEmpty {
            state = .empty
            protocolName = nil
            leaderID = nil
            return []
        }
        protocolName = selectProtocol()
        if leaderID == nil || members[leaderID!] == nil { leaderID = memberOrder.first }
        state = .completingRebalance
        var actions: [GroupAction] = []
        for id in memberOrder {
            guard var member = members[id] else { continue }
            member.assignment = ByteBuffer()
            member.lastSeenMs = now
            if let token = member.pendingJoin {
                actions.append(.completeJoin(token, currentGenerationOutcome(for: id)))
                member.pendingJoin = nil
            }
            members[id] = member
        }
        return actions
    }

    /// Each member votes for the first protocol in its own preference order that all
    /// members support; the most votes win (ties go to the earliest voter's choice).
    private func selectProtocol() -> String? {
        guard let candidates = candidateProtocols(), !candidates.isEmpty else { return nil }
        var votes: [String: Int] = [:]
        var firstVoted: [String] = []
        for id in memberOrder {
            guard let choice = members[id]?.protocols.first(where: { candidates.contains($0.name) })?.name else { continue }
            if votes[choice] == nil { firstVoted.append(choice) }
            votes[choice, default: 0] += 1
        }
        var best: String?
        for name in firstVoted where best == nil || votes[name]! > votes[best!]! { best = name }
        return best
    }

    private func currentGenerationOutcome(for memberID: String) -> JoinGroupOutcome {
        var outcome = JoinGroupOutcome(
            error: .none, generation: generation, protocolType: protocolType, protocolName: protocolName,
            leaderID: leaderID ?? "", memberID: memberID)
        if memberID == leaderID, let protocolName {
            outcome.members = memberOrder.compactMap { id in
                guard let member = members[id] else { return nil }
                return .init(memberID: id, groupInstanceID: member.groupInstanceID,
                             metadata: member.metadata(for: protocolName) ?? ByteBuffer())
            }
        }
        return outcome
    }

    // MARK: SyncGroup

    mutating func sync(memberID: String, groupInstanceID: String?, generation requested: Int32,
                       protocolType requestedType: String?, protocolName requestedName: String?,
                       assignments: [String: ByteBuffer], token: RequestToken, now: Int64) -> [GroupAction] {
        if let error = validateMember(memberID, groupInstanceID: groupInstanceID, generation: requested) {
            return [.completeSync(token, .failure(error))]
        }
        if let requestedType, requestedType != protocolType { return [.completeSync(token, .failure(.inconsistentGroupProtocol))] }
        if let requestedName, requestedName != protocolName { return [.completeSync(token, .failure(.inconsistentGroupProtocol))] }
        members[memberID]?.lastSeenMs = now
        switch state {
        case .preparingRebalance:
            return [.completeSync(token, .failure(.rebalanceInProgress))]
        case .stable:
            return [.completeSync(token, syncOutcome(for: memberID))]
        case .completingRebalance:
            members[memberID]?.pendingSync = token
            guard memberID == leaderID else { return [] }
            for id in memberOrder { members[id]?.assignment = assignments[id] ?? ByteBuffer() }
            state = .stable
            var actions: [GroupAction] = []
            for id in memberOrder {
                if let parked = members[id]?.pendingSync {
                    actions.append(.completeSync(parked, syncOutcome(for: id)))
                    members[id]?.pendingSync = nil
                }
            }
            return actions
        case .empty:
            return [.completeSync(token, .failure(.unknownMemberID))]
        }
    }

    private func syncOutcome(for memberID: String) -> SyncGroupOutcome {
        SyncGroupOutcome(error: .none, protocolType: protocolType, protocolName: protocolName,
                         assignment: members[memberID]?.assignment ?? ByteBuffer())
    }

    /// The checks SyncGroup, Heartbeat and OffsetCommit share: the member exists, is not a
    /// fenced static instance, and speaks of the current generation.
    private func validateMember(_ memberID: String, groupInstanceID: String?, generation requested: Int32) -> KafkaErrorCode? {
        if let groupInstanceID, let current = staticMembers[groupInstanceID], current != memberID { return .fencedInstanceID }
        guard members[memberID] != nil else { return .unknownMemberID }
        if requested != generation { return .illegalGeneration }
        return nil
    }

    // MARK: Heartbeat, LeaveGroup, OffsetCommit checks

    mutating func heartbeat(memberID: String, groupInstanceID: String?, generation requested: Int32, now: Int64) -> KafkaErrorCode {
        if state == .empty { return .unknownMemberID }
        if let error = validateMember(memberID, groupInstanceID: groupInstanceID, generation: requested) { return error }
        members[memberID]?.lastSeenMs = now
        return state == .preparingRebalance ? .rebalanceInProgress : .none
    }

    /// Removes the members that asked to leave; per-member errors for LeaveGroup v3+.
    mutating func leave(_ leaving: [(memberID: String, groupInstanceID: String?)], now: Int64) -> (errors: [KafkaErrorCode], actions: [GroupAction]) {
        var errors: [KafkaErrorCode] = []
        var removedMember = false
        var removedPending = false
        var actions: [GroupAction] = []
        for (requestedID, instanceID) in leaving {
            var memberID = requestedID
            if let instanceID {
                guard let current = staticMembers[instanceID] else { errors.append(.unknownMemberID); continue }
                // KIP-345: a static member may leave by instance id alone (empty member id).
                if !memberID.isEmpty && memberID != current { errors.append(.fencedInstanceID); continue }
                memberID = current
            }
            if pendingMembers.removeValue(forKey: memberID) != nil { errors.append(.none); removedPending = true; continue }
            guard let member = members[memberID] else { errors.append(.unknownMemberID); continue }
            // As Kafka: the leaver's parked join learns UNKNOWN_MEMBER_ID with an empty member id.
            if let parked = member.pendingJoin { actions.append(.completeJoin(parked, .failure(.unknownMemberID))) }
            if let parked = member.pendingSync { actions.append(.completeSync(parked, .failure(.unknownMemberID))) }
            removeMemberEntry(memberID)
            errors.append(.none)
            removedMember = true
        }
        if removedMember {
            actions += membershipChanged(now: now)
        } else if removedPending {
            // A pending id never was a member: it only stops blocking a join phase.
            actions += maybeCompleteJoin(now: now)
        }
        return (errors, actions)
    }

    /// Whether an OffsetCommit from this member and generation may be stored.
    /// Kafka's order: a commit naming a member (or generation, or instance) must come from the
    /// current member and generation; only then does CompletingRebalance say REBALANCE_IN_PROGRESS.
    func validateCommit(memberID: String, groupInstanceID: String?, generation requested: Int32) -> KafkaErrorCode {
        if requested >= 0 || !memberID.isEmpty || groupInstanceID != nil {
            if let error = validateMember(memberID, groupInstanceID: groupInstanceID, generation: requested) { return error }
            return state == .completingRebalance ? .rebalanceInProgress : .none
        }
        // A standalone consumer storing offsets (no group membership): only while nobody is in the group.
        return members.isEmpty ? .none : .unknownMemberID
    }

    // MARK: Time

    /// Session expiry, MEMBER_ID_REQUIRED expiry, the initial delay and the rebalance deadline.
    mutating func tick(now: Int64) -> [GroupAction] {
        var expired = false
        // An expired pending id never was a member: it only stops blocking the join phase.
        for (id, deadline) in pendingMembers where now >= deadline { pendingMembers[id] = nil }
        for id in memberOrder {
            guard let member = members[id] else { continue }
            // A member waiting on us (parked join or sync) is alive by definition.
            if member.pendingJoin != nil || member.pendingSync != nil { continue }
            if now - member.lastSeenMs > member.sessionTimeoutMs {
                removeMemberEntry(id)
                expired = true
            }
        }
        if expired { return membershipChanged(now: now) }
        return maybeCompleteJoin(now: now)
    }

    /// Whether ticking this group can change anything (the runtime skips idle groups).
    var hasTimers: Bool { !members.isEmpty || !pendingMembers.isEmpty || state == .preparingRebalance }

    private mutating func membershipChanged(now: Int64) -> [GroupAction] {
        switch state {
        case .stable, .completingRebalance: return prepareRebalance(now: now)
        case .preparingRebalance: return maybeCompleteJoin(now: now)
        case .empty: return []
        }
    }

    private mutating func removeMemberEntry(_ id: String) {
        guard let member = members.removeValue(forKey: id) else { return }
        memberOrder.removeAll { $0 == id }
        if let instanceID = member.groupInstanceID, staticMembers[instanceID] == id { staticMembers[instanceID] = nil }
        if leaderID == id { leaderID = nil }
    }

    // MARK: Views

    /// As Kafka's group summary: the protocol, member subscriptions and assignments only
    /// while Stable (mid-rebalance they are not settled).
    func describe() -> GroupDescription {
        let showAssignment = state == .stable
        return GroupDescription(
            state: state, protocolType: protocolType ?? "", protocolName: showAssignment ? (protocolName ?? "") : "",
            members: memberOrder.compactMap { id in
                guard let member = members[id] else { return nil }
                return .init(memberID: id, groupInstanceID: member.groupInstanceID, clientID: member.clientID,
                             clientHost: member.clientHost,
                             metadata: showAssignment ? (protocolName.flatMap(member.metadata(for:)) ?? ByteBuffer()) : ByteBuffer(),
                             assignment: showAssignment ? member.assignment : ByteBuffer())
            })
    }
}
