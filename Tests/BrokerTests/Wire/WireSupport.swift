import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import Broker

/// An in-process broker on an ephemeral 127.0.0.1 port with its own temporary data directory.
struct WireTestBroker {
    let broker: KafkaBroker
    let directory: TemporaryDirectory
    var port: Int { broker.port }
    var cluster: Cluster { broker.cluster }

    static func start(configure: (inout BrokerConfiguration) -> Void = { _ in }) async throws -> WireTestBroker {
        let directory = TemporaryDirectory("tickstream-wire")
        var configuration = BrokerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory.path)
        configuration.groupInitialRebalanceDelayMs = 0
        configure(&configuration)
        var logger = Logger(label: "wire-tests.broker")
        logger.logLevel = .warning
        let broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
        return WireTestBroker(broker: broker, directory: directory)
    }

    func stop() async throws {
        try await broker.shutdown()
        directory.cleanUp()
    }

    func partition(_ topic: String, _ index: Int32) throws -> Partition {
        guard let partition = cluster.topics[topic]?.partition(index) else { throw WireTestError("no partition \(topic)-\(index)") }
        return partition
    }
}

struct WireTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Response frames (payloads without the size prefix) as they arrive, for one waiting reader.
final class FrameInbox: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.
    private let lock = NIOLock()
    private var frames: [ByteBuffer] = []
    private var closed = false
    private var waiter: CheckedContinuation<ByteBuffer?, Never>?
    private var waiterID = 0

    func push(_ frame: ByteBuffer) {
        let resume: CheckedContinuation<ByteBuffer?, Never>? = lock.withLock {
            if let waiter {
                self.waiter = nil
                return waiter
            }
            frames.append(frame)
            return nil
        }
        resume?.resume(returning: frame)
    }

    func close() {
        let resume = lock.withLock { () -> CheckedContinuation<ByteBuffer?, Never>? in
            closed = true
            defer { waiter = nil }
            return waiter
        }
        resume?.resume(returning: nil)
    }

    /// The next frame; nil when the connection closed or nothing came within `timeout` seconds.
    func next(timeout: Double) async -> ByteBuffer? {
        await withCheckedContinuation { continuation in
            let id: Int? = lock.withLock {
                if !frames.isEmpty {
                    continuation.resume(returning: frames.removeFirst())
                    return nil
                }
                if closed {
                    continuation.resume(returning: nil)
                    return nil
                }
                waiterID += 1
                waiter = continuation
                return waiterID
            }
            guard let id else { return }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let expired = lock.withLock { () -> CheckedContinuation<ByteBuffer?, Never>? in
                    guard waiterID == id, let waiter else { return nil }
                    self.waiter = nil
                    return waiter
                }
                expired?.resume(returning: nil)
            }
        }
    }
}

private final class FrameInboxHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let inbox: FrameInbox

    init(inbox: FrameInbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.push(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.close()
        context.fireChannelInactive()
    }
}

/// A bare Kafka connection: requests encoded with KafkaProtocol (or raw bytes), responses
/// read frame by frame, nothing in between that could reorder or retry.
final class WireConnection: @unchecked Sendable {
    // @unchecked: the mutable fields are only used from the one test task that owns the connection.
    let channel: any Channel
    private let inbox: FrameInbox
    private var nextCorrelationID: Int32 = 1
    /// Bytes written to the broker and read from it (frames with their size prefixes).
    private(set) var bytesSent = 0
    private(set) var bytesReceived = 0

    private init(channel: any Channel, inbox: FrameInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    static func connect(port: Int) async throws -> WireConnection {
        let inbox = FrameInbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameInboxHandler(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return WireConnection(channel: channel, inbox: inbox)
    }

    func takeCorrelationID() -> Int32 {
        defer { nextCorrelationID += 1 }
        return nextCorrelationID
    }

    /// One socket write of `bytes`, flushed.
    func write(_ bytes: ByteBuffer) async throws {
        bytesSent += bytes.readableBytes
        try await channel.writeAndFlush(bytes)
    }

    func encode<Request: KafkaRequestMessage>(_ request: Request, version: Int16, correlationID: Int32) throws -> ByteBuffer {
        try KafkaFrame.encodeRequest(request, version: version, correlationID: correlationID, clientID: "wire-test")
    }

    /// The next response frame (correlation id first); throws when none arrives within `timeout` seconds.
    func nextFrame(timeout: Double = 30) async throws -> ByteBuffer {
        guard let frame = await inbox.next(timeout: timeout) else {
            throw WireTestError("no response within \(timeout) s or the connection closed")
        }
        bytesReceived += 4 + frame.readableBytes
        return frame
    }

    /// Sends `request` and decodes its response, checking the correlation id.
    func send<Request: KafkaRequestMessage>(_ request: Request, version: Int16, timeout: Double = 30) async throws -> Request.Response {
        let id = takeCorrelationID()
        try await write(try encode(request, version: version, correlationID: id))
        var frame = try await nextFrame(timeout: timeout)
        return try Self.decode(Request.Response.self, from: &frame, version: version, correlationID: id)
    }

    /// Decodes a response frame of `Response`'s API in `version`, insisting on `correlationID`.
    static func decode<Response: KafkaResponseMessage>(_ type: Response.Type, from frame: inout ByteBuffer, version: Int16,
                                                         correlationID: Int32) throws -> Response {
        let header = try KafkaFrame.readResponseHeader(from: &frame, apiKey: Response.apiKey, version: version)
        guard header.correlationID == correlationID else {
            throw WireTestError("correlation id \(header.correlationID), expected \(correlationID)")
        }
        return try Response(decoding: frame, version: version)
    }

    func close() async {
        try? await channel.close()
    }
}

// MARK: - Requests the tests build

enum Wire {
    static func createTopic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) -> CreateTopicsRequest {
        CreateTopicsRequest(topics: [.init(
            name: name, numPartitions: partitions, replicationFactor: 1,
            configs: configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
        )])
    }

    static func produce(_ topic: String, acks: Int16 = 1, _ partitions: [(Int32, ByteBuffer)]) -> ProduceRequest {
        ProduceRequest(acks: acks, timeoutMs: 30_000, topicData: [.init(
            name: topic, partitionData: partitions.map { .init(index: $0.0, records: $0.1) }
        )])
    }

    static func fetch(_ topic: String, partition: Int32 = 0, offset: Int64, maxWaitMs: Int32 = 0, minBytes: Int32 = 1) -> FetchRequest {
        FetchRequest(maxWaitMs: maxWaitMs, minBytes: minBytes, maxBytes: 1 << 20, topics: [.init(
            topic: topic, partitions: [.init(partition: partition, fetchOffset: offset, partitionMaxBytes: 1 << 20)]
        )])
    }

    static func listLatestOffset(_ topic: String, partition: Int32 = 0) -> ListOffsetsRequest {
        ListOffsetsRequest(replicaID: -1, topics: [.init(name: topic, partitions: [.init(partitionIndex: partition, timestamp: -1)])])
    }

    static func metadata(_ topic: String) -> MetadataRequest {
        MetadataRequest(topics: [.init(name: topic)], allowAutoTopicCreation: false)
    }
}

extension WireConnection {
    /// Creates a topic and insists it was created.
    func createTopic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) async throws {
        let response = try await send(Wire.createTopic(name, partitions: partitions, configs: configs), version: 7)
        guard response.topics.count == 1, response.topics[0].errorCode == 0 else {
            throw WireTestError("CreateTopics \(name): \(response.topics)")
        }
    }
}
