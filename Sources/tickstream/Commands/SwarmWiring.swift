import Swarm

/// The two things `swarm` needs from the rest of tickstream, in one place.
///
/// Lead: plug the Kafka transport in here (and the WebSocket one via the
/// gateway), and return the pricer's symbol list; the coordinator, workers,
/// accounting and reports need nothing else. Until then `swarm` stops with a
/// clear message instead of pretending.
enum SwarmWiring {
    /// The symbol universe, most popular first: the same list the pricer publishes.
    static func symbols(count: Int) throws -> [String] {
        throw SwarmError.notWired("the symbol list (Market's symbol universe)")
    }

    /// A ready transport for one worker (`configuration.via` is `kafka` or `ws`).
    /// For Kafka: connect to `configuration.bootstrap`, read the `configuration.topic`
    /// partition count from metadata and return murmur2 as the partitioner.
    static func transport(for configuration: SwarmWorkerConfiguration) async throws -> SwarmTransportSetup {
        throw SwarmError.notWired("the \(configuration.via == "ws" ? "gateway WebSocket" : "Kafka") transport (--via \(configuration.via))")
    }
}
