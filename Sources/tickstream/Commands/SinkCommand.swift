import ArgumentParser
import History
import Logging
import ServiceLifecycle

/// `tickstream sink`: the exactly-once SQLite price history, fed by a consumer group.
struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink",
        abstract: "Exactly-once SQLite price history from a consumer group.",
        discussion: """
            Joins --group on --topic and writes every quote into --db once: each batch of rows
            and each partition's next offset commit in one SQLite transaction, and on every
            assignment the sink resumes from the offsets stored in SQLite. Kill it at any
            moment, or run several on one database file in one group: nothing is lost or
            stored twice. Ctrl-C or SIGTERM writes the pending batch and leaves the group.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "Kafka bootstrap servers (host:port, comma-separated).") var bootstrap = "127.0.0.1:9092"
    @Option(help: "Topic of quotes to store.") var topic = "prices"
    @Option(help: "The SQLite history database (created when missing).") var db = "./data/history.sqlite"
    @Option(help: "Consumer group; sinks in one group share the partitions.") var group = "history-sink"
    @Option(help: "Records per transaction at most.") var batchSize = 5000
    @Option(help: "Milliseconds a record may wait for its transaction at most.") var batchMs = 200
    @Option(help: "Group session timeout: how long a dead sink keeps its partitions (e.g. 10s).")
    var sessionTimeout = DurationArgument(milliseconds: 10_000)
    @Flag(help: "No live status line or periodic status logs.") var quiet = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard batchMs >= 1 else { throw ValidationError("--batch-ms must be at least 1") }
        guard sessionTimeout.milliseconds >= 1000 else { throw ValidationError("--session-timeout must be at least 1s") }
    }

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "tickstream.sink")
        try createParentDirectory(of: db)
        var settings = HistorySinkConfiguration(bootstrap: bootstrap, topic: topic, databasePath: db, groupID: group)
        settings.batchSize = batchSize
        settings.batchInterval = .milliseconds(batchMs)
        settings.sessionTimeout = sessionTimeout.duration
        settings.heartbeatInterval = .milliseconds(max(100, min(1000, sessionTimeout.milliseconds / 3)))
        settings.progress = quiet ? .none : .automatic
        let sink = HistorySink(configuration: settings, logger: logger)
        let serviceGroup = ServiceGroup(
            configuration: .init(services: [.init(service: sink, successTerminationBehavior: .gracefullyShutdownGroup)],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
        print(sink.statistics.summary)
    }
}
