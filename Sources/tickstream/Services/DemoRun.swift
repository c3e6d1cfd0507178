import ArgumentParser
import Broker
import Foundation
import Gateway
import History
import KafkaClient
import Logging
import Market
import Swarm
import Synchronization

/// One run of `tickstream demo`: starts every service in process (the swarm's workers
/// as child processes), shows one combined status line, and on stop shuts them down in
/// the order that loses nothing — pricer first, then the sink once it has stored every
/// acknowledged quote, then the swarm, gateway and broker — and checks the result.
final class DemoRun: Sendable {
    struct Verdict {
        var passed: Bool
        var text: String
    }

    private let options: DemoCommand
    private let logger: Logger
    private let broker: KafkaBroker
    private let bootstrap: String
    private let pricer: PricerService
    private let pricerTask: Task<Void, any Error>
    private let sink: HistorySink
    private let sinkTask: Task<Void, any Error>
    private let gateway: GatewayRuntime
    private let swarmTask: Task<SwarmSummary?, any Error>?
    private let supervisor: SupervisorSlot
    private let stopRequested = Atomic<Bool>(false)
    private let started = ContinuousClock.now

    private init(options: DemoCommand, logger: Logger, broker: KafkaBroker, bootstrap: String, pricer: PricerService,
                 pricerTask: Task<Void, any Error>, sink: HistorySink, sinkTask: Task<Void, any Error>,
                 gateway: GatewayRuntime, swarmTask: Task<SwarmSummary?, any Error>?, supervisor: SupervisorSlot) {
        self.options = options
        self.logger = logger
        self.broker = broker
        self.bootstrap = bootstrap
        self.pricer = pricer
        self.pricerTask = pricerTask
        self.sink = sink
        self.sinkTask = sinkTask
        self.gateway = gateway
        self.swarmTask = swarmTask
        self.supervisor = supervisor
    }

    static func start(options: DemoCommand, logger: Logger) async throws -> DemoRun {
        // The demo starts from a clean slate: the pricer's seq starts at 1 each run, and the
        // history keeps each (symbol, seq) once. Run the services one by one to keep history.
        for leftover in ["/broker", "/history.sqlite", "/history.sqlite-wal", "/history.sqlite-shm"] {
            try? FileManager.default.removeItem(atPath: options.dataDir + leftover)
        }
        try FileManager.default.createDirectory(atPath: options.dataDir, withIntermediateDirectories: true)
        var configuration = BrokerConfiguration(host: "127.0.0.1", port: options.port, dataDirectory: options.dataDir + "/broker")
        configuration.groupInitialRebalanceDelayMs = 0
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let broker = try await KafkaBroker.start(configuration: configuration, logger: quiet)
        let bootstrap = "127.0.0.1:\(broker.port)"

        var settings = PricerSettings()
        settings.bootstrap = bootstrap
        settings.latestTopic = "prices.latest"
        settings.rate = options.rate
        settings.seed = options.seed
        settings.symbols = try SymbolCatalog.loadDefault().first(options.symbols)
        settings.liveStatus = false
        let pricer = PricerService(settings: settings, logger: quiet)
        let pricerTask = Task { try await pricer.run() }

        var sinkConfiguration = HistorySinkConfiguration(bootstrap: bootstrap)
        sinkConfiguration.databasePath = options.dataDir + "/history.sqlite"
        sinkConfiguration.progress = .none
        let sink = HistorySink(configuration: sinkConfiguration, logger: quiet)
        let sinkTask = Task { try await sink.run() }

        let gateway = try await GatewayRuntime.start(bootstrap: bootstrap, httpPort: options.httpPort,
                                                  historyPath: sinkConfiguration.databasePath, logger: quiet)

        let supervisor = SupervisorSlot()
        var swarmTask: Task<SwarmSummary?, any Error>?
        if options.clients > 0 {
            swarmTask = try startSwarm(options: options, bootstrap: bootstrap, supervisor: supervisor, gateway: gateway)
        }
        print("""
            tickstream demo — broker \(bootstrap), data in \(options.dataDir)
              live page:  http://127.0.0.1:\(gateway.port)/
              pricer:     \(Int(options.rate)) quotes/s over \(options.symbols) symbols → topic prices (+ prices.latest)
              sink:       \(sinkConfiguration.databasePath)
              swarm:      \(options.clients) clients in \(options.processes) processes
            Ctrl-C stops everything and prints the report.
            """)
        return DemoRun(options: options, logger: logger, broker: broker, bootstrap: bootstrap, pricer: pricer,
                       pricerTask: pricerTask, sink: sink, sinkTask: sinkTask, gateway: gateway,
                       swarmTask: swarmTask, supervisor: supervisor)
    }

    /// The swarm's workers are this binary's `swarm-worker`, planned exactly as `tickstream swarm` plans them.
    private static func startSwarm(options: DemoCommand, bootstrap: String, supervisor: SupervisorSlot,
                                   gateway: GatewayRuntime) throws -> Task<SwarmSummary?, any Error> {
        let swarm = try SwarmCommand.parse([
            "--bootstrap", bootstrap, "--clients", String(options.clients), "--processes", String(options.processes),
            "--symbols", String(options.symbols), "--seed", String(options.seed),
            "--duration", options.duration.map { "\($0.milliseconds + 5_000)ms" } ?? "1d",
        ])
        guard let executable = Bundle.main.executablePath else {
            throw SwarmError.invalidConfiguration("cannot find this program's path to start workers")
        }
        let universe = try SwarmWiring.symbols(count: options.symbols)
        let epochNanos = WallClock.nowNanos() + 3_000_000_000
        let plans = swarm.workerConfigurations(symbols: universe, epochNanos: epochNanos)
        let launches = try plans.map { plan in
            WorkerSupervisor.Launch(executable: executable, arguments: [
                "swarm-worker", "--plan", String(decoding: try JSONEncoder().encode(plan), as: UTF8.self), "--log-level", "warning",
            ])
        }
        let running = try WorkerSupervisor(launches: launches)
        supervisor.set(running)
        let stats = gateway.stats
        return Task {
            var coordinator = SwarmCoordinator(clientsPerWorker: plans.map(\.clientCount))
            await running.supervise(&coordinator) { progress in
                stats.setSwarmLatency(p50Millis: Double(progress.p50Micros) / 1000, p99Millis: Double(progress.p99Micros) / 1000)
            }
            let elapsed = Double(max(0, WallClock.nowNanos() - epochNanos)) / 1e9
            return coordinator.summary(durationSeconds: elapsed, configuration: ["clients": "\(options.clients)", "via": "kafka"])
        }
    }

    /// Returns after `duration`, on SIGINT/SIGTERM, or when a service fails; shows status meanwhile.
    func waitForStop(duration: Duration?) async throws {
        let signals = SignalForwarder { [self] in stopRequested.store(true, ordering: .relaxed) }
        defer { signals.cancel() }
        let isTerminal = isatty(STDERR_FILENO) != 0
        var lastLog = ContinuousClock.now
        while !stopRequested.load(ordering: .relaxed) {
            if let duration, ContinuousClock.now - started >= duration { break }
            try? await Task.sleep(for: .milliseconds(500))
            let line = statusLine()
            if isTerminal {
                FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
            } else if ContinuousClock.now - lastLog >= .seconds(5) {
                lastLog = .now
                logger.info("\(line)")
            }
        }
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func statusLine() -> String {
        let elapsed = (ContinuousClock.now - started).seconds
        let status = pricer.counters.status(elapsed: elapsed, targetRate: options.rate)
        let sink = sink.statistics
        let swarm = gateway.stats.snapshot
        gateway.stats.setSinkLag(sink.lag)
        var line = "t=\(Int(elapsed))s · quotes \(StatusFormat.grouped(status.acked)) (\(Int(status.quotesPerSecond))/s)"
            + " · stored \(StatusFormat.grouped(UInt64(sink.stored))) (lag \(sink.lag))"
        if let p50 = swarm.swarmP50Millis, let p99 = swarm.swarmP99Millis {
            line += " · swarm p50 \(StatusFormat.fixed(p50, decimals: 1))ms p99 \(StatusFormat.fixed(p99, decimals: 1))ms"
        }
        return line + " · http://127.0.0.1:\(gateway.port)/"
    }

    /// Stops everything in the order that loses nothing, then checks the history.
    func stop() async throws -> Verdict {
        pricerTask.cancel()
        let pricerResult = await pricerTask.result
        let acked = pricer.counters.acked.load(ordering: .relaxed)
        // The sink stores what remains in the log; wait until it has caught up.
        let deadline = ContinuousClock.now + .seconds(60)
        while sink.statistics.stored < Int(acked) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(200))
        }
        try? await Task.sleep(for: .milliseconds(500))
        sinkTask.cancel()
        _ = await sinkTask.result
        supervisor.terminateAll()
        logger.debug("demo: pricer and sink stopped; waiting for the swarm's reports")
        let swarmSummary = try? await swarmTask?.value
        logger.debug("demo: stopping the gateway")
        await gateway.stop()
        logger.debug("demo: stopping the broker")
        try await broker.shutdown()
        return try verdict(acked: acked, pricerResult: pricerResult, swarm: swarmSummary)
    }

    private func verdict(acked: UInt64, pricerResult: Result<Void, any Error>, swarm: SwarmSummary?) throws -> Verdict {
        var lines: [String] = []
        var passed = true
        if case .failure(let error) = pricerResult, !(error is CancellationError) {
            lines.append("pricer failed: \(error)")
            passed = false
        }
        let store = try HistoryStore.openExisting(path: options.dataDir + "/history.sqlite")
        let stored = try store.count()
        var gapFree = true
        for symbol in try store.symbols() {
            if let range = try store.seqRange(symbol: symbol), !range.isGapFree { gapFree = false }
        }
        lines.append("pricer: \(StatusFormat.grouped(acked)) quotes acknowledged by the broker")
        lines.append("history: \(StatusFormat.grouped(UInt64(stored))) quotes in SQLite"
                     + (gapFree ? ", every symbol's seq gap-free" : ", GAPS in some symbol's seq"))
        if UInt64(stored) < acked || !gapFree {
            passed = false
            lines.append("✗ the history does not hold every acknowledged quote exactly once")
        } else {
            lines.append("✓ every acknowledged quote is stored exactly once")
        }
        if let swarm {
            lines.append("")
            lines.append(swarm.text())
            if swarm.totals.gaps > 0 || swarm.totals.duplicates > 0 {
                passed = false
                lines.append("✗ the swarm saw gaps or duplicates")
            } else {
                lines.append("✓ no client saw a gap or a duplicate")
            }
        }
        return Verdict(passed: passed, text: lines.joined(separator: "\n"))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The swarm's supervisor, once started, so that `stop()` can end the workers.
final class SupervisorSlot: Sendable {
    private let supervisor = Mutex<WorkerSupervisor?>(nil)

    func set(_ running: WorkerSupervisor) { supervisor.withLock { $0 = running } }
    func terminateAll() { supervisor.withLock { $0 }?.terminateAll() }
}
