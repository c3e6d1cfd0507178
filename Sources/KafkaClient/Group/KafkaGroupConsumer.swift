import KafkaProtocol
import Logging
import NIOCore

/// Group membership settings.
public struct GroupConfiguration: Sendable {
    /// How long the coordinator keeps this member without a heartbeat before it removes it and rebalances
    /// (`session.timeout.ms`, default 10 s; the broker bounds it by its group min/max session timeouts).
    public var sessionTimeout: TimeAmount = .seconds(10)
    /// How long the coordinator waits for every member to rejoin in a rebalance (`max.poll.interval.ms`, default 30 s);
    /// JoinGroup and SyncGroup requests may take this long on top of the request timeout.
    public var rebalanceTimeout: TimeAmount = .seconds(30)
    /// Time between heartbeats (`heartbeat.interval.ms`, default 1 s); keep it well under `sessionTimeout` (a third or less).
    public var heartbeatInterval: TimeAmount = .seconds(1)
    /// The strategy this member proposes and, when it is the leader, uses to assign partitions. Default `.range`.
    public var assignor: PartitionAssignor = .range
    /// Wait between attempts of a failed join, coordinator lookup or rejoin (default 100 ms).
    public var retryBackoff: TimeAmount = .milliseconds(100)

    /// The defaults listed on each property, with the given assignor.
    public init(assignor: PartitionAssignor = .range) {
        self.assignor = assignor
    }
}

/// What a member got in one generation of its group. The generation id fences writers:
/// a sink that stores offsets itself keeps it beside them.
public struct GroupAssignment: Sendable, Hashable {
    /// The generation this assignment belongs to; commits with an older one are rejected (ILLEGAL_GENERATION).
    public var generationID: Int32
    /// The id the coordinator gave this member.
    public var memberID: String
    /// The partitions this member owns in this generation, sorted; may be empty when there are more members than partitions.
    public var partitions: [TopicPartition]
}

/// A consumer-group member (the classic protocol, KIP-62 heartbeats from their own task):
/// FindCoordinator, JoinGroup (with KIP-394's MEMBER_ID_REQUIRED), SyncGroup with the
/// leader computing the assignment, Heartbeat, OffsetCommit/OffsetFetch, LeaveGroup.
/// Records come from the wrapped `KafkaConsumer`, whose assignment the group drives.
///
/// One background task per member: it heartbeats and, when the coordinator says so,
/// rejoins (calling `onRevoked`, then `onAssigned` with the new generation).
public actor KafkaGroupConsumer {
    /// The consumer whose assignment the group drives. Read records through it or through `records`/`poll`;
    /// don't `assign` it yourself: the next rebalance replaces the assignment.
    public nonisolated let consumer: KafkaConsumer
    /// The consumer group id (`group.id`).
    public nonisolated let groupID: String
    /// The subscribed topics, fixed for the life of the member.
    public nonisolated let topics: [String]
    /// The settings this member was created with.
    public nonisolated let configuration: GroupConfiguration
    private let client: KafkaClusterClient
    private let ownsClient: Bool
    private let onAssigned: (@Sendable (GroupAssignment) async -> Void)?
    private let onRevoked: (@Sendable ([TopicPartition]) async -> Void)?
    private let logger: Logger

    /// The member id the coordinator assigned; "" before the first join and after the coordinator forgot this member.
    public private(set) var memberID = ""
    /// The current generation; -1 before the first join completes.
    public private(set) var generationID: Int32 = -1
    /// The partitions owned in the current generation; empty before `start()` and during a rebalance.
    public private(set) var assignment: [TopicPartition] = []
    private var coordinator: Int32?
    private var needsRejoin = true
    private var heartbeatTask: Task<Void, Never>?
    private var isClosed = false
    /// The last error of the background task, for diagnosis.
    public private(set) var lastError: (any Error)?

    /// A member over a shared cluster client (not closed by `close()`). Nothing is sent until `start()`.
    /// `onAssigned` runs after every completed rebalance with the new generation (positions are already set to the committed
    /// offsets); `onRevoked` runs before a rejoin with the partitions given up, while they can still be committed.
    /// Both run on the member's task and delay the rebalance until they return.
    public init(
        client: KafkaClusterClient,
        groupID: String,
        topics: [String],
        configuration: GroupConfiguration = GroupConfiguration(),
        consumerConfiguration: ConsumerConfiguration = ConsumerConfiguration(),
        logger: Logger = Logger(label: "tickstream.group"),
        onAssigned: (@Sendable (GroupAssignment) async -> Void)? = nil,
        onRevoked: (@Sendable ([TopicPartition]) async -> Void)? = nil
    ) {
        self.init(client: client, ownsClient: false, groupID: groupID, topics: topics, configuration: configuration,
                  consumerConfiguration: consumerConfiguration, logger: logger, onAssigned: onAssigned, onRevoked: onRevoked)
    }

    /// A member with a cluster client of its own, closed with the member.
    public init(
        bootstrap: String,
        groupID: String,
        topics: [String],
        configuration: GroupConfiguration = GroupConfiguration(),
        consumerConfiguration: ConsumerConfiguration = ConsumerConfiguration(),
        clientConfiguration: ClientConfiguration = ClientConfiguration(),
        logger: Logger = Logger(label: "tickstream.group"),
        onAssigned: (@Sendable (GroupAssignment) async -> Void)? = nil,
        onRevoked: (@Sendable ([TopicPartition]) async -> Void)? = nil
    ) throws {
        var clientConfiguration = clientConfiguration
        clientConfiguration.allowAutoTopicCreation = false
        let client = try KafkaClusterClient(bootstrap: bootstrap, configuration: clientConfiguration)
        self.init(client: client, ownsClient: true, groupID: groupID, topics: topics, configuration: configuration,
                  consumerConfiguration: consumerConfiguration, logger: logger, onAssigned: onAssigned, onRevoked: onRevoked)
    }

    private init(
        client: KafkaClusterClient,
        ownsClient: Bool,
        groupID: String,
        topics: [String],
        configuration: GroupConfiguration,
        consumerConfiguration: ConsumerConfiguration,
        logger: Logger,
        onAssigned: (@Sendable (GroupAssignment) async -> Void)?,
        onRevoked: (@Sendable ([TopicPartition]) async -> Void)?
    ) {
        self.client = client
        self.ownsClient = ownsClient
        self.consumer = KafkaConsumer(client: client, configuration: consumerConfiguration)
        self.groupID = groupID
        self.topics = topics
        self.configuration = configuration
        self.logger = logger
        self.onAssigned = onAssigned
        self.onRevoked = onRevoked
    }

    /// Joins the group and waits for the first assignment; then heartbeats in the background.
    public func start() async throws {
        guard heartbeatTask == nil else { return }
        try await rejoin()
        heartbeatTask = Task { await self.heartbeatLoop() }
    }

    /// Records of the partitions currently assigned.
    public nonisolated var records: ConsumerRecordSequence { consumer.records }

    /// The wrapped consumer's `poll`: buffered records of the current assignment, waiting for a fetch when there are none.
    public func poll() async throws -> [ConsumerRecord] {
        try await consumer.poll()
    }

    /// The wrapped consumer's `poll(timeout:)`: an empty array when no record came within `timeout`.
    public func poll(timeout: TimeAmount) async throws -> [ConsumerRecord] {
        try await consumer.poll(timeout: timeout)
    }

    // MARK: Offsets

    /// Commits offsets (the next offset to read, per partition): by default the consumer's
    /// positions of every assigned partition. Fenced by generation and member id.
    public func commitSync(_ offsets: [TopicPartition: Int64]? = nil) async throws {
        var toCommit: [TopicPartition: Int64] = offsets ?? [:]
        if offsets == nil {
            for partition in assignment {
                if let position = await consumer.position(of: partition) { toCommit[partition] = position }
            }
        }
        guard !toCommit.isEmpty else { return }
        var byTopic: [String: [OffsetCommitRequest.OffsetCommitRequestPartition]] = [:]
        for (partition, offset) in toCommit {
            byTopic[partition.topic, default: []].append(.init(partitionIndex: partition.partition, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: nil))
        }
        let request = OffsetCommitRequest(
            groupID: groupID, generationIDOrMemberEpoch: generationID, memberID: memberID, groupInstanceID: nil,
            retentionTimeMs: -1, topics: byTopic.sorted { $0.key < $1.key }.map { .init(name: $0.key, partitions: $0.value) })
        let response = try await sendToCoordinator(request)
        for topic in response.topics {
            for partition in topic.partitions where partition.errorCode != 0 {
                let code = KafkaErrorCode(partition.errorCode)
                if code == .rebalanceInProgress || code == .illegalGeneration || code == .unknownMemberID { needsRejoin = true }
                if code == .notCoordinator || code == .coordinatorNotAvailable { coordinator = nil }
                throw KafkaClientError.broker(code, context: "commit \(topic.name)-\(partition.partitionIndex) for group \(groupID)")
            }
        }
    }

    /// Commits in the background; `completion` (if any) gets the outcome.
    public func commitAsync(_ offsets: [TopicPartition: Int64]? = nil, completion: (@Sendable ((any Error)?) -> Void)? = nil) {
        Task {
            do {
                try await self.commitSync(offsets)
                completion?(nil)
            } catch {
                completion?(error)
            }
        }
    }

    /// The group's committed offsets for `partitions` (-1 where none is committed).
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        var byTopic: [String: [Int32]] = [:]
        for partition in partitions { byTopic[partition.topic, default: []].append(partition.partition) }
        let topics = byTopic.sorted { $0.key < $1.key }
        let request = OffsetFetchRequest(
            groupID: groupID,
            topics: topics.map { .init(name: $0.key, partitionIndexes: $0.value) },
            groups: [.init(groupID: groupID, memberID: nil, memberEpoch: -1, topics: topics.map { .init(name: $0.key, partitionIndexes: $0.value) })],
            requireStable: false)
        let response = try await sendToCoordinator(request)
        var result: [TopicPartition: Int64] = [:]
        if let group = response.groups.first {
            guard group.errorCode == 0 else { throw KafkaClientError.broker(KafkaErrorCode(group.errorCode), context: "OffsetFetch for group \(groupID)") }
            for topic in group.topics {
                for partition in topic.partitions {
                    result[TopicPartition(topic.name, partition.partitionIndex)] = partition.committedOffset
                }
            }
        } else {
            guard response.errorCode == 0 else { throw KafkaClientError.broker(KafkaErrorCode(response.errorCode), context: "OffsetFetch for group \(groupID)") }
            for topic in response.topics {
                for partition in topic.partitions {
                    result[TopicPartition(topic.name, partition.partitionIndex)] = partition.committedOffset
                }
            }
        }
        return result
    }

    /// Leaves the group (so the others take over at once) and closes the consumer.
    public func close() async {
        guard !isClosed else { return }
        isClosed = true
        heartbeatTask?.cancel()
        if !memberID.isEmpty {
            let request = LeaveGroupRequest(groupID: groupID, memberID: memberID, members: [.init(memberID: memberID, groupInstanceID: nil, reason: "closing")])
            _ = try? await sendToCoordinator(request)
        }
        await consumer.close()
        if ownsClient { await client.close() }
    }

    // MARK: Membership

    /// Asks the coordinator, with one Heartbeat round trip, whether this member still belongs
    /// to its current generation. The local `generationID` alone cannot say so: a member cut
    /// off from its coordinator keeps it until it hears otherwise.
    ///
    /// - Returns: the current generation's assignment when the coordinator accepted the
    ///   heartbeat and no rebalance began meanwhile; nil when it did not (rebalance in
    ///   progress, unknown member, stale generation: the member then rejoins in the
    ///   background), or before the first join.
    /// - Throws: `KafkaClientError.closed` after `close()`; any error reaching the
    ///   coordinator (nothing is confirmed then).
    public func confirmGeneration() async throws -> GroupAssignment? {
        guard !isClosed else { throw KafkaClientError.closed }
        let generation = generationID
        let member = memberID
        guard generation >= 0, !member.isEmpty, !needsRejoin else { return nil }
        let response = try await sendToCoordinator(HeartbeatRequest(groupID: groupID, generationID: generation, memberID: member, groupInstanceID: nil))
        let code = KafkaErrorCode(response.errorCode)
        guard generationID == generation, memberID == member else { return nil } // a rebalance completed meanwhile
        guard code == .none else {
            handleMembershipError(code)
            return nil
        }
        guard !needsRejoin, !isClosed else { return nil }
        return GroupAssignment(generationID: generation, memberID: member, partitions: assignment)
    }

    private func heartbeatLoop() async {
        while !isClosed && !Task.isCancelled {
            if needsRejoin {
                do {
                    try await rejoin()
                } catch {
                    lastError = error
                    logger.warning("rejoin failed", metadata: ["group": "\(groupID)", "error": "\(error)"])
                    try? await Task.sleep(nanoseconds: UInt64(configuration.retryBackoff.nanoseconds))
                }
                continue
            }
            try? await Task.sleep(nanoseconds: UInt64(configuration.heartbeatInterval.nanoseconds))
            guard !isClosed && !Task.isCancelled else { return }
            do {
                let response = try await sendToCoordinator(HeartbeatRequest(groupID: groupID, generationID: generationID, memberID: memberID, groupInstanceID: nil))
                handleMembershipError(KafkaErrorCode(response.errorCode))
            } catch {
                lastError = error
                coordinator = nil
            }
        }
    }

    private func handleMembershipError(_ code: KafkaErrorCode) {
        switch code {
        case .none: return
        case .rebalanceInProgress:
            needsRejoin = true
        case .unknownMemberID, .illegalGeneration, .fencedInstanceID:
            memberID = code == .unknownMemberID ? "" : memberID
            needsRejoin = true
        case .notCoordinator, .coordinatorNotAvailable, .coordinatorLoadInProgress:
            coordinator = nil
        default:
            lastError = KafkaClientError.broker(code, context: "heartbeat of group \(groupID)")
        }
    }

    /// Revokes, joins, syncs, positions, assigns: one rebalance, retried until it completes.
    private func rejoin() async throws {
        if !assignment.isEmpty {
            let revoked = assignment
            await onRevoked?(revoked)
            assignment = []
            await consumer.assign([])
        }
        var attempts = 0
        while !isClosed {
            attempts += 1
            if attempts > 1 { try await Task.sleep(nanoseconds: UInt64(configuration.retryBackoff.nanoseconds)) }
            guard attempts <= 100 else { throw KafkaClientError.invalidState("group \(groupID): no stable generation after 100 attempts") }
            let join = try await sendToCoordinator(JoinGroupRequest(
                groupID: groupID,
                sessionTimeoutMs: Int32(configuration.sessionTimeout.nanoseconds / 1_000_000),
                rebalanceTimeoutMs: Int32(configuration.rebalanceTimeout.nanoseconds / 1_000_000),
                memberID: memberID, groupInstanceID: nil, protocolType: "consumer",
                protocols: [.init(name: configuration.assignor.rawValue, metadata: try ConsumerProtocolCodec.encodeSubscription(topics: topics))],
                reason: nil), extraTimeout: configuration.rebalanceTimeout)
            let joinError = KafkaErrorCode(join.errorCode)
            switch joinError {
            case .none: break
            case .memberIDRequired:
                memberID = join.memberID
                attempts = 0
                continue
            case .unknownMemberID:
                memberID = ""
                continue
            case .rebalanceInProgress, .illegalGeneration: continue
            case .notCoordinator, .coordinatorNotAvailable, .coordinatorLoadInProgress:
                coordinator = nil
                continue
            default:
                throw KafkaClientError.broker(joinError, context: "JoinGroup \(groupID)")
            }
            memberID = join.memberID
            generationID = join.generationID
            var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
            if join.leader == join.memberID {
                assignments = try await computeAssignments(join.members)
            }
            let sync = try await sendToCoordinator(SyncGroupRequest(
                groupID: groupID, generationID: generationID, memberID: memberID, groupInstanceID: nil,
                protocolType: "consumer", protocolName: join.protocolName ?? configuration.assignor.rawValue,
                assignments: assignments), extraTimeout: configuration.rebalanceTimeout)
            let syncError = KafkaErrorCode(sync.errorCode)
            switch syncError {
            case .none: break
            case .rebalanceInProgress: continue
            case .unknownMemberID, .illegalGeneration:
                if syncError == .unknownMemberID { memberID = "" }
                continue
            case .notCoordinator, .coordinatorNotAvailable:
                coordinator = nil
                continue
            default:
                throw KafkaClientError.broker(syncError, context: "SyncGroup \(groupID)")
            }
            let partitions = try ConsumerProtocolCodec.decodeAssignment(sync.assignment)
            await consumer.assign(partitions)
            if !partitions.isEmpty {
                let committed = try await committed(partitions)
                await consumer.seek(committed.filter { $0.value >= 0 })
            }
            assignment = partitions
            needsRejoin = false
            logger.debug("joined", metadata: ["group": "\(groupID)", "generation": "\(generationID)", "partitions": "\(partitions.count)"])
            await onAssigned?(GroupAssignment(generationID: generationID, memberID: memberID, partitions: partitions))
            return
        }
        throw KafkaClientError.closed
    }

    private func computeAssignments(_ members: [JoinGroupResponse.JoinGroupResponseMember]) async throws -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        var subscriptions: [String: [String]] = [:]
        for member in members {
            subscriptions[member.memberID] = try ConsumerProtocolCodec.decodeSubscription(member.metadata).topics
        }
        let allTopics = Array(Set(subscriptions.values.joined())).sorted()
        let cache = try await client.metadata(for: allTopics)
        var counts: [String: Int] = [:]
        for topic in allTopics { counts[topic] = cache.partitionCount(of: topic) }
        let plan = configuration.assignor.assign(subscriptions: subscriptions, partitionCounts: counts)
        return try plan.sorted { $0.key < $1.key }.map { member, partitions in
            .init(memberID: member, assignment: try ConsumerProtocolCodec.encodeAssignment(partitions))
        }
    }

    // MARK: Coordinator

    private func sendToCoordinator<Request: KafkaRequestMessage>(_ request: Request, extraTimeout: TimeAmount = .zero) async throws -> Request.Response {
        let node = try await findCoordinator()
        do {
            return try await client.send(request, to: node, extraTimeout: extraTimeout)
        } catch {
            coordinator = nil
            throw error
        }
    }

    private func findCoordinator() async throws -> Int32 {
        if let coordinator { return coordinator }
        var lastError: any Error = KafkaClientError.broker(.coordinatorNotAvailable, context: "FindCoordinator \(groupID)")
        for attempt in 0..<50 {
            if attempt > 0 { try await Task.sleep(nanoseconds: UInt64(configuration.retryBackoff.nanoseconds)) }
            let response: FindCoordinatorResponse
            do {
                response = try await client.sendToAny(FindCoordinatorRequest(key: groupID, keyType: 0, coordinatorKeys: [groupID]))
            } catch {
                lastError = error
                continue
            }
            let entry = response.coordinators.first
            let code = KafkaErrorCode(entry?.errorCode ?? response.errorCode)
            let nodeID = entry?.nodeID ?? response.nodeID
            guard code == .none, nodeID >= 0 else {
                lastError = KafkaClientError.broker(code, context: "FindCoordinator \(groupID)")
                if !code.isRetriable { throw lastError }
                continue
            }
            if await client.metadata.brokers[nodeID] == nil {
                _ = try? await client.refreshMetadata(topics: [])
            }
            coordinator = nodeID
            return nodeID
        }
        throw lastError
    }
}
