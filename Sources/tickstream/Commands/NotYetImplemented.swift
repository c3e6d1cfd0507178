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

struct GatewayCommand: PlannedCommand {
    static let configuration = CommandConfiguration(commandName: "gateway",
        abstract: "WebSocket and SSE push of live prices to browsers and phones. (planned)")
    static let plannedIn = "issue 10, gateway and demo"
}
