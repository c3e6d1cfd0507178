import Broker
import Foundation
import KafkaClient
import Logging
import NIOCore
import NIOPosix

/// A broker on an ephemeral loopback port with its own temporary data directory.
struct TestBroker {
    let broker: KafkaBroker
    let dataDirectory: String
    var bootstrap: String { "127.0.0.1:\(broker.port)" }

    static func start(configure: (inout BrokerConfiguration) -> Void = { _ in }) async throws -> TestBroker {
        let directory = NSTemporaryDirectory() + "/tickstream-client-\(UUID().uuidString)"
        var configuration = BrokerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory)
        configuration.groupInitialRebalanceDelayMs = 0
        configure(&configuration)
        var logger = Logger(label: "client-tests.broker")
        logger.logLevel = .warning
        let broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
        return TestBroker(broker: broker, dataDirectory: directory)
    }

    func stop() async throws {
        try await broker.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

extension ByteBuffer {
    var text: String { String(buffer: self) }
}

/// Resident set size of this process in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A TCP proxy in front of the broker that drops connections mid-stream: each of the
/// first `drops` connections is closed right after it has forwarded `dropAfterBytes`
/// bytes towards the broker, so requests reach the broker but their responses are lost.
final class DroppingProxy: @unchecked Sendable {
    private let lock = NSLock()
    private var dropsLeft: Int
    private var dropped = 0
    let dropAfterBytes: Int
    private var channel: (any Channel)?
    /// Set before the first client connects (the broker is started after the proxy binds,
    /// so that it can advertise the proxy's port).
    var upstreamPort = 0
    var port: Int { channel?.localAddress?.port ?? 0 }

    init(drops: Int, dropAfterBytes: Int) {
        self.dropsLeft = drops
        self.dropAfterBytes = dropAfterBytes
    }

    func start(group: any EventLoopGroup) async throws {
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                let upstream = self.upstreamPort
                return ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: upstream).flatMap { outbound in
                    inbound.eventLoop.makeCompletedFuture {
                        let shouldDrop = self.takeDrop()
                        try outbound.pipeline.syncOperations.addHandler(GlueHandler(partner: inbound, dropAfter: nil, proxy: self))
                        try inbound.pipeline.syncOperations.addHandler(GlueHandler(partner: outbound, dropAfter: shouldDrop ? self.dropAfterBytes : nil, proxy: self))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    private func takeDrop() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard dropsLeft > 0 else { return false }
        dropsLeft -= 1
        return true
    }

    fileprivate func noteDrop() {
        lock.lock(); defer { lock.unlock() }
        dropped += 1
    }

    var dropCount: Int {
        lock.lock(); defer { lock.unlock() }
        return dropped
    }

    func stop() async throws {
        try await channel?.close()
    }
}

private final class GlueHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let partner: any Channel
    let dropAfter: Int?
    let proxy: DroppingProxy
    var forwarded = 0
    var droppedAlready = false

    init(partner: any Channel, dropAfter: Int?, proxy: DroppingProxy) {
        self.partner = partner
        self.dropAfter = dropAfter
        self.proxy = proxy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !droppedAlready else { return }
        let buffer = unwrapInboundIn(data)
        forwarded += buffer.readableBytes
        partner.writeAndFlush(buffer, promise: nil)
        if let dropAfter, forwarded >= dropAfter {
            droppedAlready = true
            proxy.noteDrop()
            // The client loses this connection now; the broker gets what was forwarded, then EOF.
            context.close(promise: nil)
            let partner = self.partner
            partner.eventLoop.scheduleTask(in: .milliseconds(50)) { partner.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !droppedAlready { partner.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A broker on an ephemeral loopback port that can be stopped and started again on the
/// same port and data directory (a broker restart as clients see it).
struct RestartableBroker {
    private(set) var broker: KafkaBroker
    private var configuration: BrokerConfiguration
    private let logger: Logger
    var port: Int { configuration.port }
    var bootstrap: String { "127.0.0.1:\(configuration.port)" }

    static func start(name: String, logLevel: Logger.Level = .warning) async throws -> RestartableBroker {
        let directory = NSTemporaryDirectory() + "/tickstream-\(name)-\(UUID().uuidString)"
        var configuration = BrokerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory)
        configuration.groupInitialRebalanceDelayMs = 0
        var logger = Logger(label: "client-tests.broker")
        logger.logLevel = logLevel
        let broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
        configuration.port = broker.port
        return RestartableBroker(broker: broker, configuration: configuration, logger: logger)
    }

    /// Stops the broker; its data stays for `restart()`.
    func shutdown() async throws {
        try await broker.shutdown()
    }

    /// Starts the broker again on the same port and data directory.
    mutating func restart() async throws {
        broker = try await KafkaBroker.start(configuration: configuration, logger: logger)
    }

    /// Removes the data directory (after the last shutdown).
    func removeData() {
        try? FileManager.default.removeItem(atPath: configuration.dataDirectory)
    }
}
