import KafkaClient
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The swarm's Kafka transport: every simulated client is a real `KafkaConsumer`
/// with a connection of its own, as a phone has its own socket (a broker answers
/// one connection's requests in order, so long-polls through a shared connection
/// would wait for each other).
///
/// What is safe to share is shared: one event-loop group and one metadata lookup
/// per worker (partition count and leaders), seeded into each client's own
/// `KafkaClusterClient`, so connecting a client costs a TCP connection and
/// ApiVersions, plus one ListOffsets for a fresh client — no Metadata request.
///
/// A client fetches only the partitions holding its watchlist, from the log end
/// (fresh) or exactly from the offsets it resumes at. Records are told apart by
/// key (the ticker): watched ones are decoded and delivered, the others are passed
/// over undecoded. Pause and resume pause the consumer's partitions on an open
/// connection; disconnect closes the consumer and its connection. A slow client
/// fetches small and paces its polls to its bandwidth, on its own connection.
public final class KafkaSwarmTransport: SwarmTransport {
    /// Settings of the transport.
    public struct Configuration: Sendable {
        public var topic: String
        /// How long the broker may hold a client's fetch waiting for data.
        public var maxWait: TimeAmount = .milliseconds(500)
        /// How many bytes the broker waits for (up to `maxWait`) before answering a fetch.
        public var minBytes: Int32 = 1
        /// A fetch's size limits, phone-sized: they bound what a lagging client holds,
        /// since records are slices of the fetch answer they came in.
        public var maxBytes: Int32 = 128 * 1024
        public var partitionMaxBytes: Int32 = 32 * 1024
        /// The next fetch starts while fewer records than this are waiting to be read.
        public var prefetchRecords = 100
        public var clientID = "tickstream-swarm"
        /// How long `connect(...)` waits for the topic to appear (the pricer creates it).
        public var topicWait: Duration = .seconds(30)

        public init(topic: String) {
            self.topic = topic
        }
    }

    public let configuration: Configuration
    /// The shared lookup every client's cluster client starts from.
    public let metadata: MetadataCache
    public let partitionCount: Int
    private let bootstrap: [BrokerAddress]
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let sessions = Mutex<[Int: KafkaSwarmSession]>([:])

    private init(configuration: Configuration, metadata: MetadataCache, partitionCount: Int, bootstrap: [BrokerAddress],
                 eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.metadata = metadata
        self.partitionCount = partitionCount
        self.bootstrap = bootstrap
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Looks the topic up once (waiting up to `configuration.topicWait` for it to
    /// exist) and returns a transport whose clients share that lookup.
    public static func connect(
        bootstrap: String,
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "tickstream.swarm.kafka")
    ) async throws -> KafkaSwarmTransport {
        let addresses = try BrokerAddress.list(bootstrap)
        let lookup = KafkaClusterClient(bootstrap: addresses, eventLoopGroup: eventLoopGroup,
                                        configuration: clientConfiguration(configuration), logger: logger)
        do {
            let (cache, count) = try await waitForTopic(configuration, lookup: lookup, bootstrap: bootstrap, logger: logger)
            await lookup.close()
            return KafkaSwarmTransport(configuration: configuration, metadata: cache, partitionCount: count,
                                       bootstrap: addresses, eventLoopGroup: eventLoopGroup, logger: logger)
        } catch {
            await lookup.close()
            throw error
        }
    }

    private static func waitForTopic(_ configuration: Configuration, lookup: KafkaClusterClient, bootstrap: String,
                                     logger: Logger) async throws -> (MetadataCache, Int) {
        let deadline = ContinuousClock.now + configuration.topicWait
        var announced = false
        while true {
            let cache = try await lookup.refreshMetadata(topics: [configuration.topic])
            if let count = cache.partitionCount(of: configuration.topic), !cache.needsRefresh(for: [configuration.topic]) {
                return (cache, count)
            }
            guard ContinuousClock.now < deadline else {
                throw SwarmError.invalidConfiguration(
                    "topic '\(configuration.topic)' does not exist on \(bootstrap) (waited \(configuration.topicWait)); start the pricer first")
            }
            if !announced {
                logger.info("waiting for topic '\(configuration.topic)' on \(bootstrap) (the pricer creates it)")
                announced = true
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    private static func clientConfiguration(_ configuration: Configuration) -> ClientConfiguration {
        var client = ClientConfiguration()
        client.allowAutoTopicCreation = false
        client.connection.clientID = configuration.clientID
        return client
    }

    /// The partition of a symbol, as the pricer's producer chose it: murmur2 of the ticker.
    public func partition(of symbol: String) -> Int32 {
        Murmur2.partition(forKey: ByteBuffer(string: symbol), partitionCount: partitionCount)
    }

    /// The transport and its partitioner, for `SwarmWorker`.
    public var setup: SwarmTransportSetup {
        SwarmTransportSetup(transport: self, partition: { [partitionCount] symbol in
            Murmur2.partition(forKey: ByteBuffer(string: symbol), partitionCount: partitionCount)
        })
    }

    /// Clients with an open consumer.
    public var openClients: Int { sessions.withLock { $0.count } }

    // MARK: SwarmTransport

    public func connect(_ subscription: SwarmSubscription, sink: any SwarmDeliverySink) async throws {
        if let previous = sessions.withLock({ $0.removeValue(forKey: subscription.client) }) {
            await previous.close()
        }
        let topic = configuration.topic
        let partitions = subscription.partitions.sorted().map { TopicPartition(topic, $0) }
        let client = KafkaClusterClient(bootstrap: bootstrap, eventLoopGroup: eventLoopGroup,
                                        configuration: Self.clientConfiguration(configuration), logger: logger, metadata: metadata)
        let pacing = subscription.maxBytesPerSecond.map { max(1, $0) }
        let consumer = KafkaConsumer(client: client, configuration: consumerConfiguration(pacing: pacing), closesClient: true)
        do {
            await consumer.assign(partitions)
            var resume: [TopicPartition: Int64] = [:]
            for partition in partitions {
                if let offset = subscription.resumeFrom[partition.partition] { resume[partition] = offset }
            }
            await consumer.seek(resume)
            let fresh = partitions.filter { resume[$0] == nil }
            if !fresh.isEmpty {
                let ends = try await client.listOffsets(Dictionary(uniqueKeysWithValues: fresh.map { ($0, KafkaClusterClient.latestTimestamp) }))
                await consumer.seek(ends)
                for partition in fresh {
                    guard let end = ends[partition] else { throw KafkaClientError.leaderNotAvailable(topic: topic, partition: partition.partition) }
                    sink.startedReading(client: subscription.client, partition: partition.partition, at: end)
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        let reader = KafkaSwarmReader(client: subscription.client, keys: WatchedKeys(subscription.symbols),
                                      bytesPerSecond: pacing, sink: sink, logger: logger)
        let task = Task { await reader.run(consumer) }
        let session = KafkaSwarmSession(consumer: consumer, partitions: partitions, reader: task)
        sessions.withLock { $0[subscription.client] = session }
    }

    private func consumerConfiguration(pacing bytesPerSecond: Int?) -> ConsumerConfiguration {
        var consumer = ConsumerConfiguration()
        consumer.maxWait = configuration.maxWait
        consumer.minBytes = max(1, configuration.minBytes)
        consumer.autoOffsetReset = .latest
        consumer.maxBytes = configuration.maxBytes
        consumer.partitionMaxBytes = configuration.partitionMaxBytes
        consumer.prefetchRecords = configuration.prefetchRecords
        // Thousands of phones re-checking the CRC of the same batches would cost a
        // sixth of a worker's CPU; the broker checked each batch once, when produced.
        consumer.checkCRCs = false
        if let bytesPerSecond {
            // Fetch about a quarter second's worth at a time, and only when the last is read.
            let quarter = Int32(clamping: max(1024, bytesPerSecond / 4))
            consumer.maxBytes = quarter
            consumer.partitionMaxBytes = max(512, quarter / 4)
            consumer.prefetchRecords = 1
            consumer.maxPollRecords = 100
        }
        return consumer
    }

    public func pause(client: Int) async {
        guard let session = sessions.withLock({ $0[client] }) else { return }
        await session.consumer.pause(session.partitions)
    }

    public func resume(client: Int) async {
        guard let session = sessions.withLock({ $0[client] }) else { return }
        await session.consumer.resume(session.partitions)
    }

    public func disconnect(client: Int) async {
        guard let session = sessions.withLock({ $0.removeValue(forKey: client) }) else { return }
        await session.close()
    }

    public func endOffsets() async throws -> [Int32: Int64]? {
        let client = KafkaClusterClient(bootstrap: bootstrap, eventLoopGroup: eventLoopGroup,
                                        configuration: Self.clientConfiguration(configuration), logger: logger, metadata: metadata)
        defer { Task { await client.close() } }
        let partitions = (0..<Int32(partitionCount)).map { TopicPartition(configuration.topic, $0) }
        let ends = try await client.listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaClusterClient.latestTimestamp) }))
        return Dictionary(uniqueKeysWithValues: ends.map { ($0.key.partition, $0.value) })
    }

    public func shutdown() async {
        let all = sessions.withLock { sessions in
            defer { sessions.removeAll() }
            return Array(sessions.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for session in all { group.addTask { await session.close() } }
        }
    }
}

/// One connected client: its consumer (which owns its connection) and the task reading it.
final class KafkaSwarmSession: Sendable {
    let consumer: KafkaConsumer
    let partitions: [TopicPartition]
    let reader: Task<Void, Never>

    init(consumer: KafkaConsumer, partitions: [TopicPartition], reader: Task<Void, Never>) {
        self.consumer = consumer
        self.partitions = partitions
        self.reader = reader
    }

    /// Stops reading and closes the connection; returns once nothing more will be delivered.
    func close() async {
        reader.cancel()
        await consumer.close()
        await reader.value
    }
}
