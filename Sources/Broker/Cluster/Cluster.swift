import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The broker's shared state — topics, identity, producer ids, groups — and the one
/// place every request handler (Handlers/NN_Name.swift, each an extension of this
/// type) reaches it from. Safe to use from any event loop.
final class Cluster: Sendable {
    let configuration: BrokerConfiguration
    let topics: TopicRegistry
    let clusterID: String
    let logger: Logger
    let metrics: BrokerMetrics
    /// Runs blocking file work (fsync) away from the event loops.
    let threadPool: NIOThreadPool
    let producerIDs: ProducerIDAllocator
    let groups: GroupCoordinator
    private let advertised: NIOLockedValueBox<(host: String, port: Int32)>

    init(configuration: BrokerConfiguration, logger: Logger, threadPool: NIOThreadPool) throws {
        self.configuration = configuration
        self.logger = logger
        self.threadPool = threadPool
        try FileSystem.makeDirectory(configuration.dataDirectory)
        self.clusterID = try Self.loadOrCreateClusterID(dataDirectory: configuration.dataDirectory)
        self.topics = try TopicRegistry(dataDirectory: configuration.dataDirectory, defaults: configuration.logDefaults,
                                        cacheBytes: configuration.tailCacheBytesPerPartition, logger: logger)
        self.producerIDs = try ProducerIDAllocator(path: configuration.dataDirectory + "/producer-id-block")
        self.metrics = BrokerMetrics()
        let offsets = try OffsetStore(directory: configuration.dataDirectory + "/__group_offsets",
                                      syncEveryCommit: configuration.logDefaults.durability == .everyBatch)
        self.groups = GroupCoordinator(limits: configuration.groupLimits, offsets: offsets, logger: logger)
        self.advertised = NIOLockedValueBox((configuration.advertisedHost ?? configuration.host,
                                             Int32(configuration.advertisedPort ?? configuration.port)))
    }

    var brokerID: Int32 { configuration.brokerID }

    /// Group membership lives as long as its sessions; nothing to do when a connection closes
    /// (a consumer that reconnects keeps its member id, one that vanished times out).
    func connectionClosed(eventLoop: any EventLoop, connection: ConnectionState?) {}

    /// Where clients are told to connect: the advertised host, the bound port unless told otherwise.
    var advertisedEndpoint: (host: String, port: Int32) { advertised.withLockedValue { $0 } }

    func bound(port: Int) {
        if configuration.advertisedPort == nil {
            advertised.withLockedValue { $0.port = Int32(port) }
        }
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// `<data-dir>/meta.properties` holds `cluster.id`, generated once: Kafka's form,
    /// 22 characters of URL-safe base64.
    private static func loadOrCreateClusterID(dataDirectory: String) throws -> String {
        let path = dataDirectory + "/meta.properties"
        if let bytes = try? FileSystem.readFile(path) {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("cluster.id=") {
                return String(line.dropFirst("cluster.id=".count))
            }
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let id = String((0..<22).map { _ in alphabet.randomElement()! })
        try FileSystem.writeAtomically(Array("version=1\ncluster.id=\(id)\n".utf8), to: path)
        return id
    }
}

/// Hands out producer ids (InitProducerId), unique across restarts: ids are reserved in
/// blocks whose end is written to disk before any id of the block is used.
final class ProducerIDAllocator: Sendable {
    private struct State {
        var next: Int64
        var reservedUpTo: Int64
    }

    private let path: String
    private let state: NIOLockedValueBox<State>
    private static let blockSize: Int64 = 1000

    init(path: String) throws {
        self.path = path
        var start: Int64 = 0
        if let bytes = try? FileSystem.readFile(path),
           let saved = Int64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }) {
            start = saved
        }
        self.state = NIOLockedValueBox(State(next: start, reservedUpTo: start))
    }

    func next() throws -> Int64 {
        try state.withLockedValue { state in
            if state.next >= state.reservedUpTo {
                let end = state.next + Self.blockSize
                try FileSystem.writeAtomically(Array(String(end).utf8), to: path)
                state.reservedUpTo = end
            }
            defer { state.next += 1 }
            return state.next
        }
    }
}
