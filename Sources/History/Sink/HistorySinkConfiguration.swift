/// Settings of a `HistorySink`; every field has a default that works on a laptop.
public struct HistorySinkConfiguration: Sendable, Hashable {
    /// Where the sink shows progress.
    public enum Progress: Sendable, Hashable {
        /// A refreshing status line when standard error is a terminal, else `.log`.
        case automatic
        /// A status line on standard error, redrawn in place every second.
        case statusLine
        /// A log line (info level) every `logInterval`.
        case log
        /// Nothing but warnings and errors (for `tickstream demo`).
        case none
    }

    /// Kafka bootstrap servers, `host:port[,host:port]`.
    public var bootstrap: String = "127.0.0.1:9092"
    /// The topic of quotes to store.
    public var topic: String = "prices"
    /// The SQLite history database (created when missing).
    public var databasePath: String = "./data/history.sqlite"
    /// The consumer group; every sink sharing this id and database splits the partitions.
    public var groupID: String = "history-sink"
    /// A transaction is written once this many records are pending...
    public var batchSize: Int = 5000
    /// ...or once the oldest pending record has waited this long.
    public var batchInterval: Duration = .milliseconds(200)
    /// The group session timeout: how long a dead sink keeps its partitions.
    public var sessionTimeout: Duration = .seconds(10)
    /// How often the member heartbeats (a third of the session timeout or less).
    public var heartbeatInterval: Duration = .seconds(1)
    public var progress: Progress = .automatic
    /// Interval of the `.log` progress lines.
    public var logInterval: Duration = .seconds(5)
    /// How long a write waits for another process's write transaction on the same file.
    public var busyTimeout: Duration = .seconds(10)

    public init(bootstrap: String = "127.0.0.1:9092", topic: String = "prices",
                databasePath: String = "./data/history.sqlite", groupID: String = "history-sink") {
        self.bootstrap = bootstrap
        self.topic = topic
        self.databasePath = databasePath
        self.groupID = groupID
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
