import ArgumentParser
import Foundation
import Gateway
import Logging

/// `tickstream gateway`: WebSocket and SSE push of live prices, fed by one Kafka consumer.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "WebSocket and SSE push of live prices to browsers and phones, with the live page.",
        discussion: """
            One Kafka consumer of --topic fans out to every WebSocket (/ws) and SSE (/sse) client;
            snapshots come from --latest-topic, /api/history from the sink's --db. Protocol:
            docs/gateway-protocol.md. `tickstream gateway token` mints an access token.
            """,
        subcommands: [Serve.self, Token.self],
        defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway (the default).")

        @OptionGroup var common: CommonOptions
        @Option(help: "Kafka bootstrap servers.") var bootstrap = "127.0.0.1:9092"
        @Option(help: "Address the HTTP server binds.") var host = "127.0.0.1"
        @Option(help: "HTTP port.") var httpPort = 8080
        @Option(help: "Topic of live quotes.") var topic = "prices"
        @Option(help: "Compacted topic with each symbol's latest quote, for snapshots.") var latestTopic = "prices.latest"
        @Option(help: "The sink's SQLite database, for /api/history.") var db = "./data/history.sqlite"
        @Option(help: "HS256 secret (32+ bytes): clients must present a token signed with it.") var tokenSecret: String?
        @Option(help: "Most updates per symbol per second sent to one client (0: no cap).") var maxRate = 0
        @Option(help: "Quote frames queued per client before it gets only the latest per symbol.") var queueBound = 256

        func run() async throws {
            common.bootstrapLogging()
            let logger = Logger(label: "tickstream.gateway")
            var configuration = GatewayConfiguration(host: host, port: httpPort, tokenSecret: tokenSecret)
            configuration.maxRate = maxRate
            configuration.queueBound = queueBound
            let runtime = try await GatewayRuntime.start(
                bootstrap: bootstrap, httpPort: httpPort, historyPath: db, logger: logger,
                topic: topic, latestTopic: latestTopic, configuration: configuration)
            print("gateway: http://\(host):\(runtime.port)/ (ws /ws, sse /sse, /api/quotes/latest, /api/history, /metrics)")
            let (stop, continuation) = AsyncStream.makeStream(of: Void.self)
            let signals = SignalForwarder { continuation.yield() }
            for await _ in stop { break }
            signals.cancel()
            await runtime.stop()
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "token", abstract: "Mint an access token for clients.")
        @Option(help: "The gateway's --token-secret.") var secret: String
        @Option(help: "Symbols the holder may watch, comma-separated, or * for all.") var symbols = "*"
        @Option(help: "Validity.") var ttl = DurationArgument(milliseconds: 3_600_000)

        func run() async throws {
            let list = symbols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let token = try await GatewayAuth.mintToken(secret: secret, symbols: list,
                                                        expiresAt: Date().addingTimeInterval(ttl.seconds))
            print(token)
        }
    }
}
