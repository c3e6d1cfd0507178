import ArgumentParser
import Broker
import Foundation
import History
import KafkaClient
import Logging
import Market
import Swarm
import Synchronization

/// `tickstream demo`: the whole system on one machine — the embedded broker, the
/// pricer, the exactly-once history sink, the gateway with its live page and a swarm of
/// simulated phones — and, when it stops, the proof that nothing was lost: every quote
/// the pricer had acknowledged is in SQLite exactly once and the swarm saw no gap.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Everything at once: embedded broker, pricer, sink, gateway and a swarm, with a live web page.",
        discussion: """
            Open the printed address in a browser (or a phone on this machine) to watch prices
            tick. Stops after --duration or on Ctrl-C, then prints the swarm's latency report and
            checks the history: exit status 0 means every acknowledged quote is stored exactly
            once and no client saw a gap.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Simulated mobile clients in the swarm (0 for none).")
    var clients = 2000

    @Option(help: "Swarm worker processes.")
    var processes = 2

    @Option(help: "HTTP port of the gateway and its live page.")
    var httpPort = 8080

    @Option(help: "Port of the embedded Kafka-protocol broker.")
    var port = 9092

    @Option(help: "Where the broker's log and the SQLite history live.")
    var dataDir = "./data"

    @Option(help: "Quotes per second from the pricer.")
    var rate: Double = 1000

    @Option(help: "Symbols priced.")
    var symbols = 500

    @Option(help: "Seed of the market model.")
    var seed: UInt64 = 42

    @Option(help: "Stop after this long (e.g. 60s); default: until Ctrl-C.")
    var duration: DurationArgument?

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "tickstream.demo")
        let run = try await DemoRun.start(options: self, logger: logger)
        try await run.waitForStop(duration: duration?.duration)
        let verdict = try await run.stop()
        print(verdict.text)
        if !verdict.passed { throw ExitCode(1) }
    }
}
