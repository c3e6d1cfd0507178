import ArgumentParser

/// The `tickstream` command: one subcommand per service.
@main
struct Tickstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickstream",
        abstract: "Real-time market data: a Kafka-protocol broker, a price calculator, a client swarm, history and a gateway.",
        discussion: """
            Every service speaks the Apache Kafka protocol: point it at the embedded broker
            (the default, 127.0.0.1:9092) or at any Kafka or Redpanda cluster with --bootstrap.
            """,
        subcommands: [
            DemoCommand.self,
            BrokerCommand.self,
            PricerCommand.self,
            SwarmCommand.self,
            SwarmWorkerCommand.self,
            SinkCommand.self,
            HistoryCommand.self,
            ReplayCommand.self,
            GatewayCommand.self,
            PerfCommand.self,
        ]
    )
}
