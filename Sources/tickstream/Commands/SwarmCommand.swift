import ArgumentParser
import Foundation
import Logging
import Swarm

/// `tickstream swarm`: thousands of simulated mobile consumers spread over worker
/// processes, with live progress and an end-to-end latency report.
struct SwarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm",
        abstract: "Thousands of simulated mobile consumers with an end-to-end latency report.",
        discussion: """
            Re-runs this binary as `swarm-worker` processes, each holding a share of the
            clients, and merges their reports: deliveries, gaps, duplicates, reconnects and
            the exact merged latency histogram. Quotes sent while a client was deliberately
            away (backgrounded or churned) are counted as catch-up, with their own latency.
            """
    )

    enum Via: String, ExpressibleByArgument, CaseIterable {
        case kafka, ws
    }

    @Option(help: "Kafka bootstrap address (--via kafka).") var bootstrap = "127.0.0.1:9092"
    @Option(help: "Topic to read.") var topic = "prices"
    @Option(help: "Simulated clients in total.") var clients = 2000
    @Option(help: "Worker processes (default: one per core).") var processes = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Symbols per client watchlist.") var watchlist = 20
    @Option(help: "Symbols in the universe (as given to the pricer).") var symbols = 500
    @Option(help: "How long to run (e.g. 60s, 5m).") var duration = DurationArgument(milliseconds: 60_000)
    @Option(help: "Write every figure, the full histogram and the timeline to this JSON file.") var report: String?
    @Option(help: "Write a self-contained HTML report with charts to this file.") var html: String?
    @Option(help: "Seed for watchlists and behaviour timing (same seed, same run).") var seed: UInt64 = 42
    @Option(help: "Client disconnects per minute across the fleet; each resumes from its last offsets.")
    var churnPerMin: Double = 0
    @Option(help: "Share of clients that go to the background now and then and catch up (0…1).")
    var backgroundFraction: Double = 0
    @Option(help: "Share of clients on a slow, capped link (0…1).") var slowFraction: Double = 0
    @Option(help: "Transport: kafka (consumers against --bootstrap) or ws (WebSocket via --gateway).") var via = Via.kafka
    @Option(help: "Gateway address for --via ws (host:port of `tickstream gateway`).") var gateway = "127.0.0.1:8080"
    @Option(help: "Kafka fetch.min.bytes of each client: the broker holds a fetch until this many bytes are there.")
    var fetchMinBytes: Int32 = 1
    @Option(help: "Kafka fetch.max.wait of each client: the longest the broker holds a fetch (e.g. 500ms).")
    var fetchMaxWait = DurationArgument(milliseconds: 500)
    @Option(help: ArgumentHelp("After --duration, let clients read on (up to this long) until each has read to the end offsets; churned clients reconnect for it (e.g. 60s).",
                               discussion: "Makes totals exact: every client then saw every quote of its watchlist published since it connected."))
    var drain = DurationArgument(milliseconds: 0)
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard clients > 0 else { throw ValidationError("--clients must be positive") }
        guard processes > 0 else { throw ValidationError("--processes must be positive") }
        guard watchlist > 0, symbols > 0 else { throw ValidationError("--watchlist and --symbols must be positive") }
        guard fetchMinBytes > 0, fetchMaxWait.milliseconds > 0, fetchMaxWait.milliseconds <= Int64(Int32.max) else {
            throw ValidationError("--fetch-min-bytes and --fetch-max-wait must be positive")
        }
        guard churnPerMin >= 0 else { throw ValidationError("--churn-per-min cannot be negative") }
        for (name, value) in [("--background-fraction", backgroundFraction), ("--slow-fraction", slowFraction)] {
            guard (0...1).contains(value) else { throw ValidationError("\(name) must be between 0 and 1") }
        }
        guard backgroundFraction + slowFraction <= 1 else {
            throw ValidationError("--background-fraction plus --slow-fraction cannot exceed 1")
        }
        if via == .ws {
            do { _ = try WebSocketSwarmTransport.Configuration(gateway: gateway) } catch {
                throw ValidationError("--gateway: \(error)")
            }
        }
    }

    /// The worker plans, one per process.
    func workerConfigurations(symbols universe: [String], epochNanos: Int64) -> [SwarmWorkerConfiguration] {
        var behaviour = BehaviourSettings()
        behaviour.churnPerMinute = churnPerMin
        behaviour.fleetClients = clients
        behaviour.backgroundFraction = backgroundFraction
        behaviour.slowFraction = slowFraction
        let ranges = SwarmWorkerConfiguration.split(clients: clients, processes: min(processes, clients))
        return ranges.enumerated().map { worker, range in
            var configuration = SwarmWorkerConfiguration(
                worker: worker, firstClient: range.first, clientCount: range.count, symbols: universe,
                watchlistSize: watchlist, seed: seed, durationMillis: duration.milliseconds,
                epochNanos: epochNanos, behaviour: behaviour)
            configuration.via = via.rawValue
            configuration.bootstrap = bootstrap
            configuration.gateway = gateway
            configuration.topic = topic
            configuration.fetchMinBytes = fetchMinBytes
            configuration.fetchMaxWaitMillis = fetchMaxWait.milliseconds
            configuration.drainMillis = drain.milliseconds
            return configuration
        }
    }

    private var settingsForReport: [String: String] {
        [
            "bootstrap": bootstrap, "topic": topic, "clients": "\(clients)", "processes": "\(processes)",
            "watchlist": "\(watchlist)", "symbols": "\(symbols)", "duration": duration.description, "seed": "\(seed)",
            "churnPerMin": "\(churnPerMin)", "backgroundFraction": "\(backgroundFraction)",
            "slowFraction": "\(slowFraction)", "via": via.rawValue, "gateway": gateway,
            "fetchMinBytes": "\(fetchMinBytes)", "fetchMaxWait": fetchMaxWait.description, "drain": drain.description,
        ]
    }

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "tickstream.swarm")
        let universe = try SwarmWiring.symbols(count: symbols)
        guard let executable = Bundle.main.executablePath else {
            throw SwarmError.invalidConfiguration("cannot find this program's path to start workers")
        }
        // Workers start counting seconds together, once they have had time to start.
        let epochNanos = WallClock.nowNanos() + 2_000_000_000
        let plans = workerConfigurations(symbols: universe, epochNanos: epochNanos)
        let launches = try plans.map { plan in
            let json = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
            return WorkerSupervisor.Launch(executable: executable,
                                           arguments: ["swarm-worker", "--plan", json, "--log-level", common.logLevel.rawValue])
        }
        logger.info("swarm: \(clients) clients in \(plans.count) worker process(es) for \(duration), via \(via.rawValue)")
        let supervisor = try WorkerSupervisor(launches: launches)
        let signals = SignalForwarder { supervisor.terminateAll() }
        var coordinator = SwarmCoordinator(clientsPerWorker: plans.map(\.clientCount))
        let display = ProgressDisplay(logger: logger)
        await supervisor.supervise(&coordinator) { display.show($0) }
        display.finish()
        signals.cancel()

        let elapsed = Double(max(0, WallClock.nowNanos() - epochNanos)) / 1e9
        // Rates are over the run. A run longer than asked (a drain, or a fleet so large
        // that connecting it outlasted the duration while connected clients already read)
        // counts its whole length; otherwise the duration, not the few hundred ms of
        // stopping workers.
        let overran = drain.milliseconds > 0 || elapsed > duration.seconds + 2
        let runSeconds = overran ? elapsed : min(elapsed, duration.seconds)
        let summary = coordinator.summary(durationSeconds: max(runSeconds, 0), configuration: settingsForReport)
        print(summary.text())
        if let report {
            try summary.jsonData().write(to: URL(fileURLWithPath: report))
            print("report written to \(report)")
        }
        if let html {
            try Data(SwarmHTMLReport.render(summary).utf8).write(to: URL(fileURLWithPath: html))
            print("HTML report written to \(html)")
        }
        if !summary.lostWorkers.isEmpty { throw ExitCode(1) }
    }
}
