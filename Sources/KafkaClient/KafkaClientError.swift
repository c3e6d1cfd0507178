import KafkaProtocol

/// Everything the client can fail with. Each case carries enough context to say which
/// broker, API or partition was involved.
public enum KafkaClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection to `broker` closed (or could not be opened) while requests were outstanding.
    case connectionClosed(broker: String, reason: String)
    /// Connecting to `broker` failed.
    case connectFailed(broker: String, reason: String)
    /// A request got no response within its timeout; the connection was closed.
    case requestTimedOut(broker: String, api: APIKey, timeoutMs: Int64)
    /// The broker does not speak any version of `api` that this client speaks.
    case unsupportedAPI(broker: String, api: APIKey)
    /// A response could not be decoded, or did not match the request it answered.
    case protocolViolation(broker: String, reason: String)
    /// Encoding or decoding failed in the protocol layer.
    case codec(KafkaProtocolError)
    /// SASL authentication was refused.
    case authenticationFailed(broker: String, reason: String)
    /// The broker answered with an error code.
    case broker(KafkaErrorCode, context: String)
    /// A fetched batch is compressed with a codec this client does not read.
    case compressedBatch(topic: String, partition: Int32, codec: Int8)
    /// No broker in the bootstrap list (or the metadata) could be reached.
    case noBrokerAvailable(tried: [String])
    /// The topic is not in the cluster's metadata.
    case unknownTopic(String)
    /// The partition has no leader in the current metadata.
    case leaderNotAvailable(topic: String, partition: Int32)
    /// An address of the form host:port could not be parsed.
    case invalidBootstrap(String)
    /// The client, producer or consumer was closed.
    case closed
    /// An operation was used in a state where it makes no sense (e.g. commit without a group).
    case invalidState(String)

    /// A one-line message naming the broker, API or partition involved.
    public var description: String {
        switch self {
        case let .connectionClosed(broker, reason): return "connection to \(broker) closed: \(reason)"
        case let .connectFailed(broker, reason): return "could not connect to \(broker): \(reason)"
        case let .requestTimedOut(broker, api, timeoutMs): return "\(api) request to \(broker) timed out after \(timeoutMs) ms"
        case let .unsupportedAPI(broker, api): return "\(broker) speaks no version of \(api) this client knows"
        case let .protocolViolation(broker, reason): return "protocol violation from \(broker): \(reason)"
        case let .codec(error): return "codec: \(error)"
        case let .authenticationFailed(broker, reason): return "SASL authentication with \(broker) failed: \(reason)"
        case let .broker(code, context): return "\(context): \(code.name) (\(code.rawValue))"
        case let .compressedBatch(topic, partition, codec):
            return "\(topic)-\(partition): record batch compressed with codec \(codec); this client reads uncompressed batches only"
        case let .noBrokerAvailable(tried): return "no broker reachable (tried \(tried.joined(separator: ", ")))"
        case let .unknownTopic(topic): return "unknown topic \(topic)"
        case let .leaderNotAvailable(topic, partition): return "no leader for \(topic)-\(partition)"
        case let .invalidBootstrap(address): return "invalid bootstrap address \(address) (expected host:port)"
        case .closed: return "closed"
        case let .invalidState(what): return "invalid state: \(what)"
        }
    }

    /// Whether retrying (after a metadata refresh and a backoff) may succeed.
    public var isRetriable: Bool {
        switch self {
        case .connectionClosed, .connectFailed, .requestTimedOut, .noBrokerAvailable, .leaderNotAvailable, .unknownTopic:
            return true
        case let .broker(code, _):
            return code.isRetriable
        default:
            return false
        }
    }

    /// Whether the caller should refresh metadata before retrying.
    public var invalidatesMetadata: Bool {
        switch self {
        case .connectionClosed, .connectFailed, .requestTimedOut, .leaderNotAvailable, .unknownTopic:
            return true
        case let .broker(code, _):
            return code.invalidatesMetadata
        default:
            return false
        }
    }
}

/// A topic and partition number.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The topic name.
    public var topic: String
    /// The partition index, from 0.
    public var partition: Int32

    /// A partition of `topic`; nothing is checked against the cluster.
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// The same as `init(_:_:)`, with labels.
    public init(topic: String, partition: Int32) {
        self.init(topic, partition)
    }

    /// Orders by topic name, then partition number (the order of `assignment` and assignor results).
    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        lhs.topic == rhs.topic ? lhs.partition < rhs.partition : lhs.topic < rhs.topic
    }

    /// `topic-partition`, as Kafka tools print it.
    public var description: String { "\(topic)-\(partition)" }
}

/// A broker's address.
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    /// Host name or IP address (tests and examples use 127.0.0.1).
    public var host: String
    /// TCP port, 1...65535.
    public var port: Int

    /// An address as given; `init(parsing:)` is the checked form.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`.
    public init(parsing text: some StringProtocol) throws(KafkaClientError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), port > 0, port < 65536 else {
            throw .invalidBootstrap(String(text))
        }
        self.init(host: String(text[..<colon]), port: port)
    }

    /// Parses a comma-separated bootstrap list.
    public static func list(_ text: String) throws(KafkaClientError) -> [BrokerAddress] {
        var result: [BrokerAddress] = []
        for part in text.split(separator: ",") {
            result.append(try BrokerAddress(parsing: part.trimmingCharacters(in: .whitespaces)))
        }
        guard !result.isEmpty else { throw .invalidBootstrap(text) }
        return result
    }

    /// `host:port`.
    public var description: String { "\(host):\(port)" }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: WhitespaceSet) -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}

fileprivate enum WhitespaceSet { case whitespaces }
