import ArgumentParser
import Broker
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "A single-node broker speaking the Apache Kafka wire protocol, with a durable partitioned log."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 9092
    @Option(help: "Host clients are told to connect to, when it differs from --host.") var advertisedHost: String?
    @Option(help: "Port clients are told to connect to, when it differs from --port.") var advertisedPort: Int?
    @Option(help: "Directory for the log, topic metadata and committed offsets.") var dataDir = "./data/broker"
    @Option(help: "Partitions of auto-created topics.") var defaultPartitions: Int32 = 8
    @Flag(inversion: .prefixedNo, help: "Create unknown topics when a client's Metadata request allows it.")
    var autoCreateTopics = true
    @Option(help: "Default durability: 'batch' (fsync every batch before the ack), 'interval:MS' (fsync every MS ms), or 'os'.")
    var flush = "interval:1000"
    @Option(help: "Default segment size in bytes.") var segmentBytes = 256 * 1024 * 1024
    @Option(help: "Default retention (e.g. 7d, 12h; -1 keeps forever).") var retention = "7d"
    @Option(help: "Default retention by size per partition in bytes; -1 is no limit.") var retentionBytes: Int64 = -1
    @Option(help: "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics.") var metricsPort: Int?
    @Option(help: "Enable SASL/PLAIN with these users: a file of user:password lines.") var saslUsersFile: String?
    @Option(help: "Enable SASL/PLAIN with this user (user:password); repeatable.") var saslUser: [String] = []
    @OptionGroup var common: CommonOptions

    func validate() throws {
        _ = try parseDurability()
        _ = try parseRetention()
    }

    private func parseDurability() throws -> LogConfig.Durability {
        if flush == "batch" { return .everyBatch }
        if flush == "os" { return .operatingSystem }
        if flush.hasPrefix("interval:"), let milliseconds = Int64(flush.dropFirst("interval:".count)), milliseconds > 0 {
            return .interval(milliseconds: milliseconds)
        }
        throw ValidationError("--flush must be batch, interval:MS or os")
    }

    private func parseRetention() throws -> Int64 {
        if retention == "-1" { return -1 }
        guard let duration = DurationArgument(argument: retention) else { throw ValidationError("--retention must be a duration like 7d or -1") }
        return duration.milliseconds
    }

    private func saslUsers() throws -> [String: String]? {
        var users: [String: String] = [:]
        var lines = saslUser
        if let saslUsersFile {
            lines += try String(contentsOfFile: saslUsersFile, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { throw ValidationError("SASL user entries are user:password") }
            users[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return users.isEmpty ? nil : users
    }

    func run() async throws {
        common.bootstrapLogging()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "tickstream.broker")

        var configuration = BrokerConfiguration(host: host, port: port, dataDirectory: dataDir)
        configuration.advertisedHost = advertisedHost
        configuration.advertisedPort = advertisedPort
        configuration.defaultPartitions = defaultPartitions
        configuration.autoCreateTopics = autoCreateTopics
        configuration.logDefaults.durability = try parseDurability()
        configuration.logDefaults.segmentBytes = segmentBytes
        configuration.logDefaults.retentionMs = try parseRetention()
        configuration.logDefaults.retentionBytes = retentionBytes
        configuration.saslPlainUsers = try saslUsers()

        let broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
        var services: [any Service] = [broker]
        if let metricsPort {
            services.append(MetricsServer(host: "127.0.0.1", port: metricsPort, registry: registry, logger: logger))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
