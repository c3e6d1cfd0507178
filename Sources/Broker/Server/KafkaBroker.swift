import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A single-node broker that speaks the Apache Kafka wire protocol.
///
/// ```swift
/// let broker = try await KafkaBroker.start(configuration: BrokerConfiguration(port: 0, dataDirectory: dir))
/// print(broker.port)          // the bound port
/// try await broker.shutdown() // flushes and closes every log
/// ```
///
/// It is also a swift-service-lifecycle `Service`: in a `ServiceGroup` it runs until
/// graceful shutdown (SIGTERM, Ctrl-C) and then shuts down cleanly.
public final class KafkaBroker: Service, Sendable {
    let cluster: Cluster
    private let serverChannel: any Channel
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>
    private let tasks: NIOLockedValueBox<[RepeatedTask]>
    private let threadPool: NIOThreadPool
    private let stopped = NIOLockedValueBox(false)
    private let logger: Logger

    /// The port the listener is bound to.
    public let port: Int
    public var clusterID: String { cluster.clusterID }
    public var host: String { cluster.configuration.host }

    private init(cluster: Cluster, serverChannel: any Channel, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>,
                 threadPool: NIOThreadPool, logger: Logger) {
        self.cluster = cluster
        self.serverChannel = serverChannel
        self.connections = connections
        self.threadPool = threadPool
        self.logger = logger
        self.port = serverChannel.localAddress?.port ?? cluster.configuration.port
        self.tasks = NIOLockedValueBox([])
    }

    /// Opens the data directory (recovering each partition's tail segment), binds the
    /// listener and starts the background work (retention, periodic flush, metrics).
    public static func start(
        configuration: BrokerConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "tickstream.broker")
    ) async throws -> KafkaBroker {
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let cluster = try Cluster(configuration: configuration, logger: logger, threadPool: threadPool)
        cluster.groups.start(eventLoop: eventLoopGroup.next())
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let maximumFrameSize = configuration.maximumRequestSize
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                connections.withLockedValue { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = connections.withLockedValue { $0.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maximumFrameSize)))
                    try channel.pipeline.syncOperations.addHandler(KafkaConnectionHandler(cluster: cluster))
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let broker = KafkaBroker(cluster: cluster, serverChannel: channel, connections: connections,
                                 threadPool: threadPool, logger: logger)
        cluster.bound(port: broker.port)
        broker.startBackgroundWork(on: eventLoopGroup.next())
        logger.info("broker listening", metadata: [
            "address": "\(configuration.host):\(broker.port)",
            "advertised": "\(cluster.advertisedEndpoint.host):\(cluster.advertisedEndpoint.port)",
            "data-dir": "\(configuration.dataDirectory)",
            "topics": "\(cluster.topics.all.count)",
        ])
        return broker
    }

    /// Runs until graceful shutdown, then shuts down (swift-service-lifecycle).
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Stops listening, closes every connection, flushes and closes every log.
    public func shutdown() async throws {
        let first = stopped.withLockedValue { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        for task in tasks.withLockedValue({ $0 }) { task.cancel() }
        try? await serverChannel.close()
        let open = connections.withLockedValue { Array($0.values) }
        for channel in open { try? await channel.close() }
        cluster.groups.stop()
        cluster.topics.closeAll()
        try await threadPool.shutdownGracefully()
        logger.info("broker stopped; logs flushed and closed")
    }

    private func startBackgroundWork(on eventLoop: any EventLoop) {
        let cluster = self.cluster
        let threadPool = self.threadPool
        let retention = eventLoop.scheduleRepeatedTask(
            initialDelay: .milliseconds(cluster.configuration.retentionCheckIntervalMs),
            delay: .milliseconds(cluster.configuration.retentionCheckIntervalMs)
        ) { _ in
            threadPool.submit { _ in cluster.runLogMaintenance() }
        }
        let flush = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            threadPool.submit { _ in cluster.flushDuePartitions(now: Cluster.nowMilliseconds()) }
        }
        let metrics = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(5)) { _ in
            cluster.publishPartitionMetrics()
        }
        tasks.withLockedValue { $0 = [retention, flush, metrics] }
    }
}

extension Cluster {
    /// Retention (and, for compacted topics, cleaning) over every partition. Runs on the thread pool.
    func runLogMaintenance() {
        let now = Cluster.nowMilliseconds()
        for topic in topics.all {
            for partition in topic.partitions {
                do {
                    if topic.logConfig.cleanupPolicy.contains(.compact), let result = try partition.compact(now: now) {
                        logger.info("compacted", metadata: [
                            "topic": "\(topic.name)", "partition": "\(partition.index)",
                            "records": "\(result.recordsBefore) → \(result.recordsAfter)",
                        ])
                    }
                    let deleted = try partition.applyRetention(now: now)
                    if deleted > 0 {
                        logger.info("retention deleted segments", metadata: [
                            "topic": "\(topic.name)", "partition": "\(partition.index)", "segments": "\(deleted)",
                        ])
                    }
                } catch {
                    logger.error("retention failed", metadata: ["topic": "\(topic.name)", "error": "\(error)"])
                }
            }
        }
    }

    /// Fsyncs partitions whose `flush.ms` interval has passed. Runs on the thread pool.
    func flushDuePartitions(now: Int64) {
        do {
            try groups.offsets.flush()
        } catch {
            logger.error("committed offsets flush failed", metadata: ["error": "\(error)"])
        }
        for topic in topics.all {
            guard case .interval(let interval) = topic.logConfig.durability else { continue }
            for partition in topic.partitions where partition.flushIsDue(now: now, interval: interval) {
                do {
                    _ = try partition.flush()
                } catch {
                    logger.error("flush failed", metadata: ["topic": "\(topic.name)", "error": "\(error)"])
                }
            }
        }
    }

    func publishPartitionMetrics() {
        for topic in topics.all {
            for partition in topic.partitions {
                let offsets = partition.offsets
                metrics.recordOffsets(topic: topic.name, partition: partition.index,
                                      logStart: offsets.logStartOffset, logEnd: offsets.highWatermark)
            }
        }
    }
}
