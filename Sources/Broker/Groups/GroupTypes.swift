import KafkaProtocol
import NIOCore

/// The classic group protocol's states (Kafka's `GroupState` names, as DescribeGroups
/// and ListGroups report them). Kafka's fifth state, Dead, belongs to deleted or migrated
/// groups; this broker deletes no groups, so it appears only as `unknownGroupStateName`.
enum GroupState: String, Sendable, CaseIterable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"

    /// What DescribeGroups reports for a group the coordinator does not know (as Kafka does).
    static let unknownGroupStateName = "Dead"
}

/// One protocol a member offers in JoinGroup (for consumers: an assignor name and
/// the serialized subscription).
struct GroupProtocol: Hashable, Sendable {
    var name: String
    var metadata: ByteBuffer
}

/// Identifies a request the state machine answers later (a parked JoinGroup or
/// SyncGroup). The runtime maps tokens to promises.
typealias RequestToken = UInt64

/// A member of a consumer group, as the coordinator sees it.
struct GroupMember: Sendable {
    var memberID: String
    var groupInstanceID: String?
    var clientID: String
    var clientHost: String
    var sessionTimeoutMs: Int64
    var rebalanceTimeoutMs: Int64
    var protocolType: String
    var protocols: [GroupProtocol]
    var assignment: ByteBuffer = ByteBuffer()
    /// When the member last proved it is alive (join, sync, heartbeat).
    var lastSeenMs: Int64
    /// A JoinGroup waiting for the rebalance to complete.
    var pendingJoin: RequestToken?
    /// A SyncGroup waiting for the leader's assignment.
    var pendingSync: RequestToken?

    func metadata(for protocolName: String) -> ByteBuffer? {
        protocols.first { $0.name == protocolName }?.metadata
    }

    func sameProtocols(as other: [GroupProtocol]) -> Bool { protocols == other }
}

/// What a JoinGroup asks, already stripped of wire concerns.
struct JoinGroupInput: Sendable {
    var memberID: String
    var groupInstanceID: String?
    var clientID: String
    var clientHost: String
    var sessionTimeoutMs: Int64
    var rebalanceTimeoutMs: Int64
    var protocolType: String
    var protocols: [GroupProtocol]
    /// JoinGroup v4+ (KIP-394): an unknown member first gets MEMBER_ID_REQUIRED.
    var requireKnownMemberID: Bool
    /// The id to hand out if this join creates a member (`clientID-UUID`, made by the runtime
    /// so the machine stays deterministic).
    var newMemberID: String
}

/// The answer to a JoinGroup.
struct JoinGroupOutcome: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var memberID: String
        var groupInstanceID: String?
        var metadata: ByteBuffer
    }

    var error: KafkaErrorCode
    var generation: Int32 = -1
    var protocolType: String?
    var protocolName: String?
    var leaderID: String = ""
    var memberID: String = ""
    /// Only the leader receives the members and their subscriptions.
    var members: [Member] = []
    /// KIP-814: a static leader that rejoined a stable group must not reassign.
    var skipAssignment = false

    static func failure(_ error: KafkaErrorCode, memberID: String = "") -> JoinGroupOutcome {
        JoinGroupOutcome(error: error, memberID: memberID)
    }
}

/// The answer to a SyncGroup.
struct SyncGroupOutcome: Sendable, Equatable {
    var error: KafkaErrorCode
    var protocolType: String?
    var protocolName: String?
    var assignment: ByteBuffer = ByteBuffer()

    static func failure(_ error: KafkaErrorCode) -> SyncGroupOutcome { SyncGroupOutcome(error: error) }
}

/// What the runtime must do after feeding an event to a group.
enum GroupAction: Sendable, Equatable {
    case completeJoin(RequestToken, JoinGroupOutcome)
    case completeSync(RequestToken, SyncGroupOutcome)
}

/// Limits the coordinator enforces (Kafka's group.* broker settings).
struct GroupLimits: Sendable {
    var minSessionTimeoutMs: Int64 = 6_000
    var maxSessionTimeoutMs: Int64 = 1_800_000
    /// group.initial.rebalance.delay.ms: the first rebalance of an empty group waits this
    /// long (extended per new joiner, up to the rebalance timeout) so a fleet starting
    /// together lands in one generation.
    var initialRebalanceDelayMs: Int64 = 3_000
    var maxGroupSize: Int = 10_000
}

/// A DescribeGroups view of one group.
struct GroupDescription: Sendable {
    struct Member: Sendable {
        var memberID: String
        var groupInstanceID: String?
        var clientID: String
        var clientHost: String
        var metadata: ByteBuffer
        var assignment: ByteBuffer
    }

    var state: GroupState
    var protocolType: String
    var protocolName: String
    var members: [Member]
}
