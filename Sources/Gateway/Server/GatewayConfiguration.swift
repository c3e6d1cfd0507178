/// Everything a `GatewayServer` needs to be told; every field has a default that
/// works on a laptop.
public struct GatewayConfiguration: Sendable {
    /// Address to bind; loopback by default.
    public var host: String
    /// TCP port; 0 picks a free one (tests).
    public var port: Int
    /// HS256 secret for access tokens; nil or empty disables authentication.
    public var tokenSecret: String?
    /// Fan-out tuning: queue bound, default per-symbol rate cap, resume limits.
    public var hub: HubConfiguration
    /// How often every client gets a `stats` heartbeat frame.
    public var heartbeatInterval: Duration
    /// How often rate-capped updates are released and stats rates are sampled.
    public var tickInterval: Duration
    /// Most rows one `/api/history` call returns.
    public var historyLimit: Int
    /// Largest client request frame accepted on the WebSocket.
    public var maxRequestBytes: Int
    /// Server name in logs and the `Server` header.
    public var serverName: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        tokenSecret: String? = nil,
        hub: HubConfiguration = HubConfiguration(),
        heartbeatInterval: Duration = .seconds(5),
        tickInterval: Duration = .milliseconds(50),
        historyLimit: Int = 5_000,
        maxRequestBytes: Int = 64 * 1024,
        serverName: String = "tickstream-gateway"
    ) {
        self.host = host
        self.port = port
        self.tokenSecret = tokenSecret
        self.hub = hub
        self.heartbeatInterval = heartbeatInterval
        self.tickInterval = tickInterval
        self.historyLimit = historyLimit
        self.maxRequestBytes = maxRequestBytes
        self.serverName = serverName
    }

    /// Default cap on updates per symbol per second per client (0 = none).
    public var maxRate: Int {
        get { hub.maxRate }
        set { hub.maxRate = newValue }
    }

    /// Quote frames queued per client before conflation.
    public var queueBound: Int {
        get { hub.queueBound }
        set { hub.queueBound = newValue }
    }
}
