import ArgumentParser
import Foundation
import Logging
import Swarm

/// `tickstream swarm-worker` (hidden): one worker process of `swarm`. Reads its
/// plan from `--plan` (JSON) and writes line-delimited JSON reports to stdout;
/// logs go to stderr. Exits non-zero if it cannot run.
struct SwarmWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm-worker",
        abstract: "One worker process of `tickstream swarm` (started by it).",
        shouldDisplay: false
    )

    @Option(help: "The worker's plan, as JSON (written by `swarm`).") var plan: String
    @OptionGroup var common: CommonOptions

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "tickstream.swarm.worker")
        let configuration: SwarmWorkerConfiguration
        do {
            configuration = try JSONDecoder().decode(SwarmWorkerConfiguration.self, from: Data(plan.utf8))
        } catch {
            throw ValidationError("--plan is not a worker plan: \(error)")
        }
        let setup: SwarmTransportSetup
        do {
            setup = try await SwarmWiring.transport(for: configuration, logger: logger)
        } catch {
            writeReport(.error(worker: configuration.worker, message: "\(error)"))
            logger.error("worker \(configuration.worker): \(error)")
            throw ExitCode(2)
        }
        let worker = SwarmWorker(configuration: configuration, partition: setup.partition, logger: logger)
        writeReport(.hello(worker: configuration.worker, clients: configuration.clientCount, pid: ProcessInfo.processInfo.processIdentifier))
        let signals = SignalForwarder { worker.stop() }
        await worker.run(transport: setup.transport) { writeReport($0) }
        signals.cancel()
    }
}

/// One report line to stdout, written at once (no buffering between processes).
private func writeReport(_ report: WorkerReport) {
    FileHandle.standardOutput.write(Data((report.line() + "\n").utf8))
}
