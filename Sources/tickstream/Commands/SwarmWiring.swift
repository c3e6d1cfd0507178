import Logging
import Market
import NIOPosix
import Swarm

/// The two things `swarm` needs from the rest of tickstream, in one place: the
/// pricer's symbol list and a transport per worker process.
enum SwarmWiring {
    /// The symbol universe, most popular first: the first `count` tickers of the
    /// default catalog (`fixtures/symbols.csv`), the same list the pricer publishes.
    static func symbols(count: Int) throws -> [String] {
        let catalog = try SymbolCatalog.loadDefault()
        guard count <= catalog.count else {
            throw SwarmError.invalidConfiguration("--symbols \(count) is more than the \(catalog.count) symbols in the catalog")
        }
        return catalog.first(count).map(\.ticker)
    }

    /// A ready transport for one worker (`configuration.via` is `kafka` or `ws`).
    /// For Kafka: one metadata lookup of `configuration.topic` on `configuration.bootstrap`,
    /// shared by the worker's consumers, each with a connection of its own; murmur2 of
    /// the ticker as the partitioner. For WebSocket: one connection per client to the
    /// gateway's `/ws` at `configuration.gateway`, on the process's shared event loops.
    static func transport(for configuration: SwarmWorkerConfiguration, logger: Logger) async throws -> SwarmTransportSetup {
        switch configuration.via {
        case "kafka":
            var settings = KafkaSwarmTransport.Configuration(topic: configuration.topic)
            settings.minBytes = configuration.fetchMinBytes
            settings.maxWait = .milliseconds(configuration.fetchMaxWaitMillis)
            let transport = try await KafkaSwarmTransport.connect(
                bootstrap: configuration.bootstrap, configuration: settings,
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
            return transport.setup
        case "ws":
            let settings = try WebSocketSwarmTransport.Configuration(gateway: configuration.gateway)
            let transport = WebSocketSwarmTransport(configuration: settings, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                                                    logger: logger)
            return transport.setup
        default:
            throw SwarmError.transportUnavailable(configuration.via)
        }
    }
}
