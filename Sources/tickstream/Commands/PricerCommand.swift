import ArgumentParser
import Foundation
import KafkaClient
import Logging
import Market
import ServiceLifecycle

/// `tickstream pricer`: the price calculator publishing quotes keyed by symbol.
struct PricerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pricer",
        abstract: "The price calculator: a seedable market publishing quotes keyed by symbol.",
        discussion: """
            Quotes go to --topic as JSON ({"sym","seq","bid","ask","last","vol","ts"}), keyed by
            ticker, through an idempotent producer. The same --seed gives the same prices in the
            same order. Runs until --duration, --count or Ctrl-C, then prints a summary.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Kafka bootstrap servers (host:port, comma-separated).")
    var bootstrap = "127.0.0.1:9092"

    @Option(help: "Topic the quotes are published to.")
    var topic = "prices"

    @Option(help: "Partitions of --topic when the pricer creates it.")
    var partitions: Int32 = 8

    @Option(help: "Also keep this compacted topic up to date with each symbol's latest quote (e.g. prices.latest).")
    var latestTopic: String?

    @Option(help: "How many symbols, the first N of the list (the most traded first).")
    var symbols = 500

    @Option(help: "A CSV of symbols to use instead of fixtures/symbols.csv (same columns).")
    var symbolsFile: String?

    @Option(help: "Quotes per second in total, spread over symbols by their activity.")
    var rate: Double = 1000

    @Option(help: "Seed of the market model: the same seed gives the same quotes.")
    var seed: UInt64 = 42

    @Option(help: "Stop after this long (e.g. 60s, 10m).")
    var duration: DurationArgument?

    @Option(help: "Stop after this many quotes.")
    var count: UInt64?

    @Option(help: "Acks: all (idempotent), 1 or 0.")
    var acks: String = "all"

    @Option(help: ArgumentHelp("Trading hours in UTC, HH:MM-HH:MM (or us: 14:30-21:00); outside them no quotes.", valueName: "hours"))
    var session: String?

    @Option(help: "Chance per update that a random symbol is halted (e.g. 0.0001); 0: never.")
    var haltProbability: Double = 0

    @Option(help: "How long a halt lasts.")
    var haltDuration = DurationArgument(milliseconds: 30_000)

    @Flag(help: "No live status line or periodic status logs.")
    var quiet = false

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "tickstream.pricer")
        let settings = try makeSettings()
        let pricer = PricerService(settings: settings, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: pricer, successTerminationBehavior: .gracefullyShutdownGroup)],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        if pricer.counters.errors.load(ordering: .relaxed) > 0 || pricer.counters.latestErrors.load(ordering: .relaxed) > 0 {
            if let error = pricer.counters.lastError.withLock({ $0 }) { logger.error("last send error: \(error)") }
            throw ExitCode(1)
        }
    }

    func makeSettings() throws -> PricerSettings {
        var settings = PricerSettings()
        settings.bootstrap = bootstrap
        settings.topic = topic
        settings.partitions = partitions
        settings.latestTopic = latestTopic
        settings.rate = rate
        settings.seed = seed
        settings.duration = duration?.duration
        settings.count = count
        settings.liveStatus = !quiet
        switch acks {
        case "all", "-1": settings.acks = .all
        case "1": settings.acks = .leader
        case "0": settings.acks = .none
        default: throw ValidationError("--acks must be all, 1 or 0")
        }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard (0...1).contains(haltProbability) else { throw ValidationError("--halt-probability must be between 0 and 1") }
        settings.haltProbability = haltProbability
        settings.haltSeconds = haltDuration.seconds
        if let session {
            guard let hours = Self.parseSession(session) else {
                throw ValidationError("--session must be HH:MM-HH:MM (UTC) or us")
            }
            settings.session = hours
        }
        let catalog: SymbolCatalog
        if let symbolsFile {
            catalog = try SymbolCatalog(contentsOf: URL(fileURLWithPath: symbolsFile))
        } else {
            catalog = try SymbolCatalog.loadDefault()
        }
        guard symbols > 0 else { throw ValidationError("--symbols must be at least 1") }
        settings.symbols = catalog.first(symbols)
        return settings
    }

    /// `HH:MM-HH:MM` in UTC (a window past midnight allowed), or `us` for US regular hours.
    static func parseSession(_ text: String) -> TradingSession? {
        if text == "us" { return .usRegularHoursUTC }
        func seconds(_ part: Substring) -> Int64? {
            let fields = part.split(separator: ":")
            guard fields.count == 2, let hours = Int64(fields[0]), let minutes = Int64(fields[1]),
                  (0...24).contains(hours), (0..<60).contains(minutes), hours * 60 + minutes <= 24 * 60 else { return nil }
            return (hours * 60 + minutes) * 60
        }
        let ends = text.split(separator: "-")
        guard ends.count == 2, let open = seconds(ends[0]), let close = seconds(ends[1]), open != close else { return nil }
        return TradingSession(opensAtSecondOfDay: open, closesAtSecondOfDay: close)
    }
}
