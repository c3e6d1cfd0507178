import ArgumentParser

/// Subcommands whose issue has not landed yet say so and exit non-zero, so that
/// `tickstream --help` lists the whole plan honestly.
protocol PlannedCommand: ParsableCommand {
    static var plannedIn: String { get }
}

extension PlannedCommand {
    func run() throws {
        print("tickstream \(Self.configuration.commandName ?? ""): not implemented yet (\(Self.plannedIn)).")
        throw ExitCode(2)
    }
}

struct DemoCommand: PlannedCommand {
    static let configuration = CommandConfiguration(commandName: "demo",
        abstract: "Everything at once: embedded broker, pricer, sink, gateway and a swarm, with a live web page. (planned)")
    static let plannedIn = "issue 10, gateway and demo"
}

struct SinkCommand: PlannedCommand {
    static let configuration = CommandConfiguration(commandName: "sink",
        abstract: "Exactly-once SQLite price history from a consumer group. (planned)")
    static let plannedIn = "issue 8, history"
}

struct ReplayCommand: PlannedCommand {
    static let configuration = CommandConfiguration(commandName: "replay",
        abstract: "Replay a time range of history at N× speed to a topic or stdout. (planned)")
    static let plannedIn = "issue 8, history"
}

struct GatewayCommand: PlannedCommand {
    static let configuration = CommandConfiguration(commandName: "gateway",
        abstract: "WebSocket and SSE push of live prices to browsers and phones. (planned)")
    static let plannedIn = "issue 10, gateway and demo"
}
