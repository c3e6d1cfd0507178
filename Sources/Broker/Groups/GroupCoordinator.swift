import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Carries requests and time to the `ConsumerGroup` state machines and carries their
/// actions back to the waiting connections. The groups live behind one lock (group
/// operations are rare next to produce and fetch); parked JoinGroup and SyncGroup
/// requests are promises keyed by `RequestToken`, completed outside the lock.
/// One repeating tick (every 100 ms) drives session timeouts and rebalance deadlines
/// for all groups.
final class GroupCoordinator: Sendable {
    private struct State {
        var groups: [String: ConsumerGroup] = [:]
        var nextToken: RequestToken = 1
        var joinPromises: [RequestToken: EventLoopPromise<JoinGroupOutcome>] = [:]
        var syncPromises: [RequestToken: EventLoopPromise<SyncGroupOutcome>] = [:]
        var ticker: RepeatedTask?
    }

    let limits: GroupLimits
    let offsets: OffsetStore
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    init(limits: GroupLimits, offsets: OffsetStore, logger: Logger) {
        self.limits = limits
        self.offsets = offsets
        self.logger = logger
    }

    func start(eventLoop: any EventLoop) {
        let task = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [self] _ in
            tick(now: Cluster.nowMilliseconds())
        }
        state.withLockedValue { $0.ticker = task }
    }

    func stop() {
        let (ticker, joins, syncs) = state.withLockedValue { state in
            defer { state.joinPromises = [:]; state.syncPromises = [:]; state.ticker = nil }
            return (state.ticker, Array(state.joinPromises.values), Array(state.syncPromises.values))
        }
        ticker?.cancel()
        for promise in joins { promise.succeed(.failure(.coordinatorNotAvailable)) }
        for promise in syncs { promise.succeed(.failure(.coordinatorNotAvailable)) }
        offsets.close()
    }

    // MARK: Events

    func join(groupID: String, input: JoinGroupInput, eventLoop: any EventLoop) -> EventLoopFuture<JoinGroupOutcome> {
        let promise = eventLoop.makePromise(of: JoinGroupOutcome.self)
        let now = Cluster.nowMilliseconds()
        let actions = state.withLockedValue { state in
            let token = state.nextToken
            state.nextToken += 1
            state.joinPromises[token] = promise
            var group = state.groups[groupID] ?? ConsumerGroup(groupID: groupID, limits: limits)
            let actions = group.join(input, token: token, now: now)
            state.groups[groupID] = group
            return Self.take(actions, from: &state)
        }
        actions()
        return promise.futureResult
    }

    func sync(groupID: String, memberID: String, groupInstanceID: String?, generation: Int32, protocolType: String?,
              protocolName: String?, assignments: [String: ByteBuffer], eventLoop: any EventLoop) -> EventLoopFuture<SyncGroupOutcome> {
        let promise = eventLoop.makePromise(of: SyncGroupOutcome.self)
        let now = Cluster.nowMilliseconds()
        let actions = state.withLockedValue { state in
            guard var group = state.groups[groupID] else {
                return { promise.succeed(.failure(.unknownMemberID)) }
            }
            let token = state.nextToken
            state.nextToken += 1
            state.syncPromises[token] = promise
            let actions = group.sync(memberID: memberID, groupInstanceID: groupInstanceID, generation: generation,
                                     protocolType: protocolType, protocolName: protocolName,
                                     assignments: assignments, token: token, now: now)
            state.groups[groupID] = group
            return Self.take(actions, from: &state)
        }
        actions()
        return promise.futureResult
    }

    func heartbeat(groupID: String, memberID: String, groupInstanceID: String?, generation: Int32) -> KafkaErrorCode {
        let now = Cluster.nowMilliseconds()
        return state.withLockedValue { state in
            guard var group = state.groups[groupID] else { return .unknownMemberID }
            let result = group.heartbeat(memberID: memberID, groupInstanceID: groupInstanceID, generation: generation, now: now)
            state.groups[groupID] = group
            return result
        }
    }

    func leave(groupID: String, members: [(memberID: String, groupInstanceID: String?)]) -> [KafkaErrorCode] {
        let now = Cluster.nowMilliseconds()
        let (errors, actions) = state.withLockedValue { state -> ([KafkaErrorCode], () -> Void) in
            guard var group = state.groups[groupID] else {
                return (members.map { _ in .unknownMemberID }, {})
            }
            let (errors, actions) = group.leave(members, now: now)
            state.groups[groupID] = group
            return (errors, Self.take(actions, from: &state))
        }
        actions()
        return errors
    }

    func validateCommit(groupID: String, memberID: String, groupInstanceID: String?, generation: Int32) -> KafkaErrorCode {
        state.withLockedValue { state in
            guard let group = state.groups[groupID] else {
                // Unknown group: only a standalone (generation -1) commit makes sense.
                return generation < 0 ? .none : .illegalGeneration
            }
            return group.validateCommit(memberID: memberID, groupInstanceID: groupInstanceID, generation: generation)
        }
    }

    func tick(now: Int64) {
        let actions = state.withLockedValue { state in
            var all: [GroupAction] = []
            for (id, group) in state.groups where group.hasTimers {
                var group = group
                all += group.tick(now: now)
                state.groups[id] = group
            }
            return Self.take(all, from: &state)
        }
        actions()
    }

    /// Resolves the promises named by the actions; returns a closure that completes them
    /// once the lock is released.
    private static func take(_ actions: [GroupAction], from state: inout State) -> () -> Void {
        guard !actions.isEmpty else { return {} }
        var completions: [() -> Void] = []
        for action in actions {
            switch action {
            case .completeJoin(let token, let outcome):
                if let promise = state.joinPromises.removeValue(forKey: token) { completions.append { promise.succeed(outcome) } }
            case .completeSync(let token, let outcome):
                if let promise = state.syncPromises.removeValue(forKey: token) { completions.append { promise.succeed(outcome) } }
            }
        }
        return { for completion in completions { completion() } }
    }

    // MARK: Views

    struct Listing: Sendable {
        var groupID: String
        var protocolType: String
        var state: GroupState
    }

    /// Groups with members, and groups known only by their committed offsets (Empty).
    func list() -> [Listing] {
        var result: [String: Listing] = [:]
        for id in offsets.groupIDs { result[id] = Listing(groupID: id, protocolType: "consumer", state: .empty) }
        state.withLockedValue { state in
            for (id, group) in state.groups where group.protocolType != nil || !group.isEmpty {
                result[id] = Listing(groupID: id, protocolType: group.protocolType ?? result[id]?.protocolType ?? "",
                                     state: group.state)
            }
        }
        return result.values.sorted { $0.groupID < $1.groupID }
    }

    /// nil when the group is unknown to the coordinator.
    func describe(groupID: String) -> GroupDescription? {
        if let group = state.withLockedValue({ $0.groups[groupID] }) { return group.describe() }
        if offsets.groupIDs.contains(groupID) {
            return GroupDescription(state: .empty, protocolType: "consumer", protocolName: "", members: [])
        }
        return nil
    }

    /// A member id as Kafka forms them: the client id, a dash, a random UUID.
    static func newMemberID(clientID: String) -> String {
        "\(clientID)-\(UUID().uuidString.lowercased())"
    }
}
