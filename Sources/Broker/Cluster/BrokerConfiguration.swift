/// Everything `tickstream broker` can be told. Defaults work on a laptop.
public struct BrokerConfiguration: Sendable {
    /// The address the listener binds. Loopback unless told otherwise.
    public var host: String = "127.0.0.1"
    /// The port to bind; 0 picks a free one (tests).
    public var port: Int = 9092
    /// The host clients are told to connect to in Metadata, when it differs from `host`
    /// (a broker bound to 0.0.0.0, or behind NAT).
    public var advertisedHost: String?
    /// The port advertised in Metadata; the bound port when nil.
    public var advertisedPort: Int?
    public var dataDirectory: String = "./data/broker"
    public var brokerID: Int32 = 0
    /// Partitions of topics created by Metadata auto-creation or with -1 partitions.
    public var defaultPartitions: Int32 = 8
    /// Metadata requests that allow it create unknown topics (`auto.create.topics.enable`).
    public var autoCreateTopics: Bool = true
    /// Topic defaults (`log.*` broker configs).
    public var logDefaults = LogConfig()
    /// The largest request accepted (`socket.request.max.bytes`).
    public var maximumRequestSize: Int32 = 100 * 1024 * 1024
    /// In-memory tail of each partition served without disk reads.
    public var tailCacheBytesPerPartition: Int = 4 << 20
    /// How often retention (and compaction) run (`log.retention.check.interval.ms`).
    public var retentionCheckIntervalMs: Int64 = 30_000
    /// How long a new group waits for more members before its first rebalance completes
    /// (`group.initial.rebalance.delay.ms`).
    public var groupInitialRebalanceDelayMs: Int64 = 3_000
    /// group.min.session.timeout.ms / group.max.session.timeout.ms: the session timeouts members may ask for.
    public var groupMinSessionTimeoutMs: Int64 = 6_000
    public var groupMaxSessionTimeoutMs: Int64 = 1_800_000

    var groupLimits: GroupLimits {
        GroupLimits(minSessionTimeoutMs: groupMinSessionTimeoutMs, maxSessionTimeoutMs: groupMaxSessionTimeoutMs,
                    initialRebalanceDelayMs: groupInitialRebalanceDelayMs)
    }
    /// SASL/PLAIN users (user → password). Nil leaves SASL off; when set, every request
    /// but ApiVersions, SaslHandshake and SaslAuthenticate needs an authenticated connection.
    public var saslPlainUsers: [String: String]?
    /// Pipelined requests a connection may have outstanding before the broker stops
    /// reading from it (Kafka processes one at a time; we allow a window).
    public var maxRequestsInFlightPerConnection: Int = 32

    public init() {}

    public init(host: String = "127.0.0.1", port: Int = 9092, dataDirectory: String = "./data/broker") {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
    }
}
