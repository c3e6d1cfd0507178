import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// Settings shared by everything built on a `KafkaClusterClient`.
public struct ClientConfiguration: Sendable {
    /// How each broker connection is opened (client id, timeouts, SASL); the same for every broker.
    public var connection = ConnectionConfiguration()
    /// The shortest time between two metadata refreshes (`retry.backoff.ms` for metadata).
    public var metadataRefreshBackoff: TimeAmount = .milliseconds(100)
    /// Wait before retrying a failed request (`retry.backoff.ms`).
    public var retryBackoff: TimeAmount = .milliseconds(100)
    /// Whether Metadata requests may create unknown topics (producers want this, consumers not).
    public var allowAutoTopicCreation = true

    /// The defaults: 100 ms backoffs, auto topic creation allowed, `ConnectionConfiguration()`.
    public init() {}
}

/// Connections to every broker of one cluster and the metadata that routes requests to
/// partition leaders. Shared by producers, consumers and admin clients; an actor because
/// the connection table and metadata are shared mutable state.
public actor KafkaClusterClient {
    /// The addresses tried, in order, for the first connection and whenever no known broker answers.
    /// After the first Metadata response, requests go to the brokers it names (which may differ from these).
    public nonisolated let bootstrap: [BrokerAddress]
    /// The event loops every connection of this client runs on. Not owned: `close()` leaves it running.
    public nonisolated let eventLoopGroup: any EventLoopGroup
    /// The settings this client was created with.
    public nonisolated let configuration: ClientConfiguration
    let logger: Logger

    /// The latest merged Metadata responses (or the seed). May be stale: use `metadata(for:)` to get a view
    /// refreshed when it cannot route the topics you need.
    public private(set) var metadata = MetadataCache()
    private var connections: [Int32: Task<BrokerConnection, any Error>] = [:]
    private var bootstrapConnection: Task<BrokerConnection, any Error>?
    private var refreshInFlight: Task<MetadataCache, any Error>?
    private var lastRefresh: NIODeadline = .uptimeNanoseconds(0)
    private var isClosed = false

    /// `metadata` seeds the cache with a view obtained elsewhere (one lookup shared by
    /// many clients, each with connections of its own): requests are routed by it
    /// without a Metadata request until a routing error marks it stale.
    public init(
        bootstrap: [BrokerAddress],
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        configuration: ClientConfiguration = ClientConfiguration(),
        logger: Logger = Logger(label: "tickstream.client"),
        metadata seed: MetadataCache? = nil
    ) {
        self.bootstrap = bootstrap
        self.eventLoopGroup = eventLoopGroup
        self.configuration = configuration
        self.logger = logger
        if let seed {
            self.metadata = seed
            self.stale = false
            self.lastRefresh = .now()
        }
    }

    /// `bootstrap` is a comma-separated list of host:port.
    public init(
        bootstrap: String,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        configuration: ClientConfiguration = ClientConfiguration(),
        logger: Logger = Logger(label: "tickstream.client"),
        metadata seed: MetadataCache? = nil
    ) throws {
        self.init(bootstrap: try BrokerAddress.list(bootstrap), eventLoopGroup: eventLoopGroup, configuration: configuration,
                  logger: logger, metadata: seed)
    }

    // MARK: Connections

    /// The connection to broker `nodeID`, opened on first use and reopened after loss.
    public func connection(to nodeID: Int32) async throws -> BrokerConnection {
        guard !isClosed else { throw KafkaClientError.closed }
        if let task = connections[nodeID] {
            if let connection = try? await task.value, connection.isActive { return connection }
            if connections[nodeID] == task { connections[nodeID] = nil }
            if let existing = connections[nodeID] { return try await existing.value }
        }
        guard let address = metadata.brokers[nodeID] else {
            throw KafkaClientError.connectFailed(broker: "node \(nodeID)", reason: "not in metadata")
        }
        let task = makeConnectTask(address)
        connections[nodeID] = task
        do {
            return try await task.value
        } catch {
            if connections[nodeID] == task { connections[nodeID] = nil }
            throw error
        }
    }

    /// A connection to any broker: a known one, else the bootstrap list in order.
    public func anyConnection() async throws -> BrokerConnection {
        guard !isClosed else { throw KafkaClientError.closed }
        for task in connections.values {
            if let connection = try? await task.value, connection.isActive { return connection }
        }
        if let task = bootstrapConnection, let connection = try? await task.value, connection.isActive {
            return connection
        }
        let addresses = bootstrap + metadata.brokers.values.filter { !bootstrap.contains($0) }
        let group = eventLoopGroup
        let configuration = self.configuration.connection
        let logger = self.logger
        let task = Task<BrokerConnection, any Error> {
            var tried: [String] = []
            for address in addresses {
                do {
                    return try await BrokerConnection.connect(to: address, eventLoopGroup: group, configuration: configuration, logger: logger)
                } catch {
                    tried.append("\(address): \(error)")
                }
            }
            throw KafkaClientError.noBrokerAvailable(tried: tried)
        }
        bootstrapConnection = task
        return try await task.value
    }

    private func makeConnectTask(_ address: BrokerAddress) -> Task<BrokerConnection, any Error> {
        let group = eventLoopGroup
        let configuration = self.configuration.connection
        let logger = self.logger
        return Task {
            try await BrokerConnection.connect(to: address, eventLoopGroup: group, configuration: configuration, logger: logger)
        }
    }

    /// Sends a request to broker `nodeID`. A connection-level failure marks the metadata
    /// stale, so that the next routing decision refreshes it.
    public func send<Request: KafkaRequestMessage>(_ request: Request, to nodeID: Int32, extraTimeout: TimeAmount = .zero) async throws -> Request.Response {
        let connection = try await connection(to: nodeID)
        do {
            return try await connection.send(request, extraTimeout: extraTimeout)
        } catch let error as KafkaClientError where error.invalidatesMetadata {
            markStale()
            throw error
        }
    }

    /// Sends a request to any broker (Metadata, admin requests).
    public func sendToAny<Request: KafkaRequestMessage>(_ request: Request) async throws -> Request.Response {
        let connection = try await anyConnection()
        return try await connection.send(request)
    }

    // MARK: Metadata

    /// Forgets that the metadata is fresh: the next `metadata(for:)` refreshes.
    public func markStale() {
        lastRefresh = .uptimeNanoseconds(0)
        stale = true
    }

    private var stale = true

    /// Metadata covering `topics`, refreshed first when it lacks any of them, has no
    /// leader for one of their partitions, or was marked stale.
    public func metadata(for topics: [String]) async throws -> MetadataCache {
        if !stale && !metadata.needsRefresh(for: topics) { return metadata }
        return try await refreshMetadata(topics: topics)
    }

    /// Asks the cluster for metadata of `topics` (all topics when nil). Concurrent calls
    /// share one request; refreshes are at least `metadataRefreshBackoff` apart.
    @discardableResult
    public func refreshMetadata(topics: [String]?) async throws -> MetadataCache {
        if let running = refreshInFlight {
            _ = try? await running.value
            if !stale, let topics, !metadata.needsRefresh(for: topics) { return metadata }
        }
        let wait = lastRefresh + configuration.metadataRefreshBackoff - .now()
        if wait > .zero {
            try await Task.sleep(nanoseconds: UInt64(wait.nanoseconds))
        }
        let task = Task<MetadataCache, any Error> { try await self.fetchMetadata(topics: topics) }
        refreshInFlight = task
        defer { if refreshInFlight == task { refreshInFlight = nil } }
        return try await task.value
    }

    private func fetchMetadata(topics: [String]?) async throws -> MetadataCache {
        let connection = try await anyConnection()
        let request = MetadataRequest(
            topics: topics.map { $0.map { MetadataRequest.MetadataRequestTopic(topicID: .zero, name: $0) } },
            allowAutoTopicCreation: configuration.allowAutoTopicCreation
        )
        let response: MetadataResponse
        do {
            response = try await connection.send(request)
        } catch {
            bootstrapConnection = nil
            throw error
        }
        metadata.update(with: response)
        lastRefresh = .now()
        stale = false
        // Close connections to brokers that left the cluster.
        for (nodeID, task) in connections where metadata.brokers[nodeID] == nil {
            connections[nodeID] = nil
            Task { try? await task.value.close() }
        }
        return metadata
    }

    /// Forgets a topic's metadata (after deleting it).
    public func forget(topic: String) {
        metadata.remove(topic: topic)
    }

    /// Closes every connection: requests in flight fail with `KafkaClientError.connectionClosed`, and later calls
    /// that need a connection throw `KafkaClientError.closed`. Does not close producers or consumers built on this client
    /// (close those first) nor the event loop group. Calling it twice is harmless.
    public func close() async {
        isClosed = true
        let all = Array(connections.values) + (bootstrapConnection.map { [$0] } ?? [])
        connections.removeAll()
        bootstrapConnection = nil
        for task in all {
            if let connection = try? await task.value { await connection.close() }
        }
    }
}
