/// Kafka's error codes as they travel on the wire (the protocol guide's error table).
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public init(_ rawValue: Int16) { self.rawValue = rawValue }

    public static let unknownServerError = KafkaErrorCode(-1)
    public static let none = KafkaErrorCode(0)
    public static let offsetOutOfRange = KafkaErrorCode(1)
    public static let corruptMessage = KafkaErrorCode(2)
    public static let unknownTopicOrPartition = KafkaErrorCode(3)
    public static let invalidFetchSize = KafkaErrorCode(4)
    public static let leaderNotAvailable = KafkaErrorCode(5)
    public static let notLeaderOrFollower = KafkaErrorCode(6)
    public static let requestTimedOut = KafkaErrorCode(7)
    public static let brokerNotAvailable = KafkaErrorCode(8)
    public static let replicaNotAvailable = KafkaErrorCode(9)
    public static let messageTooLarge = KafkaErrorCode(10)
    public static let offsetMetadataTooLarge = KafkaErrorCode(12)
    public static let networkException = KafkaErrorCode(13)
    public static let coordinatorLoadInProgress = KafkaErrorCode(14)
    public static let coordinatorNotAvailable = KafkaErrorCode(15)
    public static let notCoordinator = KafkaErrorCode(16)
    public static let invalidTopicException = KafkaErrorCode(17)
    public static let recordListTooLarge = KafkaErrorCode(18)
    public static let notEnoughReplicas = KafkaErrorCode(19)
    public static let notEnoughReplicasAfterAppend = KafkaErrorCode(20)
    public static let invalidRequiredAcks = KafkaErrorCode(21)
    public static let illegalGeneration = KafkaErrorCode(22)
    public static let inconsistentGroupProtocol = KafkaErrorCode(23)
    public static let invalidGroupID = KafkaErrorCode(24)
    public static let unknownMemberID = KafkaErrorCode(25)
    public static let invalidSessionTimeout = KafkaErrorCode(26)
    public static let rebalanceInProgress = KafkaErrorCode(27)
    public static let invalidCommitOffsetSize = KafkaErrorCode(28)
    public static let topicAuthorizationFailed = KafkaErrorCode(29)
    public static let groupAuthorizationFailed = KafkaErrorCode(30)
    public static let clusterAuthorizationFailed = KafkaErrorCode(31)
    public static let invalidTimestamp = KafkaErrorCode(32)
    public static let unsupportedSASLMechanism = KafkaErrorCode(33)
    public static let illegalSASLState = KafkaErrorCode(34)
    public static let unsupportedVersion = KafkaErrorCode(35)
    public static let topicAlreadyExists = KafkaErrorCode(36)
    public static let invalidPartitions = KafkaErrorCode(37)
    public static let invalidReplicationFactor = KafkaErrorCode(38)
    public static let invalidReplicaAssignment = KafkaErrorCode(39)
    public static let invalidConfig = KafkaErrorCode(40)
    public static let notController = KafkaErrorCode(41)
    public static let invalidRequest = KafkaErrorCode(42)
    public static let unsupportedForMessageFormat = KafkaErrorCode(43)
    public static let policyViolation = KafkaErrorCode(44)
    public static let outOfOrderSequenceNumber = KafkaErrorCode(45)
    public static let duplicateSequenceNumber = KafkaErrorCode(46)
    public static let invalidProducerEpoch = KafkaErrorCode(47)
    public static let invalidTransactionState = KafkaErrorCode(48)
    public static let invalidProducerIDMapping = KafkaErrorCode(49)
    public static let invalidTransactionTimeout = KafkaErrorCode(50)
    public static let concurrentTransactions = KafkaErrorCode(51)
    public static let transactionalIDAuthorizationFailed = KafkaErrorCode(53)
    public static let securityDisabled = KafkaErrorCode(54)
    public static let operationNotAttempted = KafkaErrorCode(55)
    public static let kafkaStorageError = KafkaErrorCode(56)
    public static let saslAuthenticationFailed = KafkaErrorCode(58)
    public static let unknownProducerID = KafkaErrorCode(59)
    public static let nonEmptyGroup = KafkaErrorCode(68)
    public static let groupIDNotFound = KafkaErrorCode(69)
    public static let fetchSessionIDNotFound = KafkaErrorCode(70)
    public static let invalidFetchSessionEpoch = KafkaErrorCode(71)
    public static let topicDeletionDisabled = KafkaErrorCode(73)
    public static let fencedLeaderEpoch = KafkaErrorCode(74)
    public static let unknownLeaderEpoch = KafkaErrorCode(75)
    public static let unsupportedCompressionType = KafkaErrorCode(76)
    public static let offsetNotAvailable = KafkaErrorCode(78)
    public static let memberIDRequired = KafkaErrorCode(79)
    public static let groupMaxSizeReached = KafkaErrorCode(81)
    public static let fencedInstanceID = KafkaErrorCode(82)
    public static let invalidRecord = KafkaErrorCode(87)
    public static let unstableOffsetCommit = KafkaErrorCode(88)
    public static let throttlingQuotaExceeded = KafkaErrorCode(89)
    public static let producerFenced = KafkaErrorCode(90)
    public static let resourceNotFound = KafkaErrorCode(91)
    public static let unknownTopicID = KafkaErrorCode(100)

    /// Whether a client may retry the same request after this error (Kafka's RetriableException set).
    public var isRetriable: Bool {
        switch self.rawValue {
        case 2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 56, 70, 71, 74, 75, 78, 88, 89, 100: return true
        default: return false
        }
    }

    /// Errors after which a client should refresh its view of partition leaders.
    public var invalidatesMetadata: Bool {
        switch self.rawValue {
        case 3, 5, 6, 74, 75, 100: return true
        default: return false
        }
    }

    public var name: String {
        switch self.rawValue {
        case -1: return "UNKNOWN_SERVER_ERROR"
        case 0: return "NONE"
        case 1: return "OFFSET_OUT_OF_RANGE"
        case 2: return "CORRUPT_MESSAGE"
        case 3: return "UNKNOWN_TOPIC_OR_PARTITION"
        case 4: return "INVALID_FETCH_SIZE"
        case 5: return "LEADER_NOT_AVAILABLE"
        case 6: return "NOT_LEADER_OR_FOLLOWER"
        case 7: return "REQUEST_TIMED_OUT"
        case 8: return "BROKER_NOT_AVAILABLE"
        case 9: return "REPLICA_NOT_AVAILABLE"
        case 10: return "MESSAGE_TOO_LARGE"
        case 12: return "OFFSET_METADATA_TOO_LARGE"
        case 13: return "NETWORK_EXCEPTION"
        case 14: return "COORDINATOR_LOAD_IN_PROGRESS"
        case 15: return "COORDINATOR_NOT_AVAILABLE"
        case 16: return "NOT_COORDINATOR"
        case 17: return "INVALID_TOPIC_EXCEPTION"
        case 18: return "RECORD_LIST_TOO_LARGE"
        case 19: return "NOT_ENOUGH_REPLICAS"
        case 20: return "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
        case 21: return "INVALID_REQUIRED_ACKS"
        case 22: return "ILLEGAL_GENERATION"
        case 23: return "INCONSISTENT_GROUP_PROTOCOL"
        case 24: return "INVALID_GROUP_ID"
        case 25: return "UNKNOWN_MEMBER_ID"
        case 26: return "INVALID_SESSION_TIMEOUT"
        case 27: return "REBALANCE_IN_PROGRESS"
        case 28: return "INVALID_COMMIT_OFFSET_SIZE"
        case 29: return "TOPIC_AUTHORIZATION_FAILED"
        case 30: return "GROUP_AUTHORIZATION_FAILED"
        case 31: return "CLUSTER_AUTHORIZATION_FAILED"
        case 32: return "INVALID_TIMESTAMP"
        case 33: return "UNSUPPORTED_SASL_MECHANISM"
        case 34: return "ILLEGAL_SASL_STATE"
        case 35: return "UNSUPPORTED_VERSION"
        case 36: return "TOPIC_ALREADY_EXISTS"
        case 37: return "INVALID_PARTITIONS"
        case 38: return "INVALID_REPLICATION_FACTOR"
        case 39: return "INVALID_REPLICA_ASSIGNMENT"
        case 40: return "INVALID_CONFIG"
        case 41: return "NOT_CONTROLLER"
        case 42: return "INVALID_REQUEST"
        case 43: return "UNSUPPORTED_FOR_MESSAGE_FORMAT"
        case 44: return "POLICY_VIOLATION"
        case 45: return "OUT_OF_ORDER_SEQUENCE_NUMBER"
        case 46: return "DUPLICATE_SEQUENCE_NUMBER"
        case 47: return "INVALID_PRODUCER_EPOCH"
        case 48: return "INVALID_TXN_STATE"
        case 49: return "INVALID_PRODUCER_ID_MAPPING"
        case 50: return "INVALID_TRANSACTION_TIMEOUT"
        case 51: return "CONCURRENT_TRANSACTIONS"
        case 53: return "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"
        case 54: return "SECURITY_DISABLED"
        case 55: return "OPERATION_NOT_ATTEMPTED"
        case 56: return "KAFKA_STORAGE_ERROR"
        case 58: return "SASL_AUTHENTICATION_FAILED"
        case 59: return "UNKNOWN_PRODUCER_ID"
        case 68: return "NON_EMPTY_GROUP"
        case 69: return "GROUP_ID_NOT_FOUND"
        case 70: return "FETCH_SESSION_ID_NOT_FOUND"
        case 71: return "INVALID_FETCH_SESSION_EPOCH"
        case 73: return "TOPIC_DELETION_DISABLED"
        case 74: return "FENCED_LEADER_EPOCH"
        case 75: return "UNKNOWN_LEADER_EPOCH"
        case 76: return "UNSUPPORTED_COMPRESSION_TYPE"
        case 78: return "OFFSET_NOT_AVAILABLE"
        case 79: return "MEMBER_ID_REQUIRED"
        case 81: return "GROUP_MAX_SIZE_REACHED"
        case 82: return "FENCED_INSTANCE_ID"
        case 87: return "INVALID_RECORD"
        case 88: return "UNSTABLE_OFFSET_COMMIT"
        case 89: return "THROTTLING_QUOTA_EXCEEDED"
        case 90: return "PRODUCER_FENCED"
        case 91: return "RESOURCE_NOT_FOUND"
        case 100: return "UNKNOWN_TOPIC_ID"
        default: return "ERROR_\(self.rawValue)"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }
}
