import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// The swarm's gateway transport: every simulated client is one WebSocket to the
/// gateway's `/ws`, a TCP connection of its own, as a phone would hold.
///
/// Built on NIO's WebSocket codec directly rather than HummingbirdWSClient: a client
/// is a channel pipeline (frame decoder + one handler) driven by callbacks on the
/// worker's shared event loops, with no task, async sequence or buffer per
/// connection, which is what holding thousands per process needs; and reading is
/// controlled per channel (pause a backgrounded app, pace a slow link) by holding
/// back the channel's `read`, so a client that stops reading exerts real TCP
/// back-pressure on the gateway, which conflates for it.
///
/// A fresh client sends `{"op":"subscribe","symbols":[…]}`; a reconnecting one
/// `{"op":"resume","token":"p:o,…","symbols":[…]}` with the last offset it saw per
/// partition (from the frames' tokens), so the gateway replays what it missed.
/// `update` frames become deliveries (partition and offset from the token, the quote
/// decoded by `Quote(jsonBuffer:)`, receive time stamped when the frame is read);
/// `snapshot` frames are baselines, not deliveries; `gap` and `stats` frames become
/// gap and conflation notices (see `SwarmDeliverySink`).
public final class WebSocketSwarmTransport: SwarmTransport {
    /// The HTTP upgrade request handler's name in a client's pipeline, removed once upgraded.
    static let upgradeRequestHandlerName = "tickstream.ws-upgrade-request"

    /// Settings of the transport.
    public struct Configuration: Sendable {
        /// The gateway's address, `host:port`.
        public var host: String
        public var port: Int
        /// The gateway's WebSocket path; `batch=1` asks for several frames per message,
        /// the efficient form (docs/gateway-protocol.md).
        public var path = "/ws?batch=1"
        public var connectTimeout: TimeAmount = .seconds(10)
        /// How long the TCP connect plus the upgrade may take.
        public var upgradeTimeout: TimeAmount = .seconds(15)
        /// Largest frame accepted from the gateway.
        public var maxFrameSize = 1 << 20

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port` (e.g. `127.0.0.1:8080`).
        public init(gateway: String) throws(WebSocketSwarmError) {
            guard let colon = gateway.lastIndex(of: ":"), let port = Int(gateway[gateway.index(after: colon)...]),
                  (1...65535).contains(port), colon != gateway.startIndex
            else { throw .badAddress(gateway) }
            self.init(host: String(gateway[..<colon]), port: port)
        }
    }

    public let configuration: Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let sessions = Mutex<[Int: any Channel]>([:])

    public init(configuration: Configuration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "tickstream.swarm.ws")) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The transport with a constant partitioner: the worker does not need partitions
    /// for WebSocket clients, positions come from the frames' tokens.
    public var setup: SwarmTransportSetup {
        SwarmTransportSetup(transport: self, partition: { _ in 0 })
    }

    /// Clients with an open WebSocket.
    public var openClients: Int { sessions.withLock { $0.count } }

    /// The request a client sends once connected.
    static func request(for subscription: SwarmSubscription) -> String {
        let symbols = "[" + subscription.symbols.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        guard !subscription.resumeFrom.isEmpty else {
            return #"{"op":"subscribe","symbols":"# + symbols + "}"
        }
        // The token names the last offset seen; `resumeFrom` holds the next to read.
        let token = subscription.resumeFrom.keys.sorted().map { "\($0):\(subscription.resumeFrom[$0]! - 1)" }.joined(separator: ",")
        return #"{"op":"resume","token":""# + token + #"","symbols":"# + symbols + "}"
    }

    // MARK: SwarmTransport

    public func connect(_ subscription: SwarmSubscription, sink: any SwarmDeliverySink) async throws {
        if let previous = sessions.withLock({ $0.removeValue(forKey: subscription.client) }) {
            await Self.close(previous)
        }
        let eventLoop = eventLoopGroup.next()
        let waiter = UpgradeWaiter(eventLoop: eventLoop)
        let configuration = self.configuration
        let logger = self.logger
        let client = subscription.client
        let request = Self.request(for: subscription)
        let bytesPerSecond = subscription.maxBytesPerSecond
        let hostHeader = "\(configuration.host):\(configuration.port)"
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: configuration.maxFrameSize) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        let aggregator = NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                            maxAccumulatedFrameSize: configuration.maxFrameSize)
                        try channel.pipeline.syncOperations.addHandler(aggregator)
                        try channel.pipeline.syncOperations.addHandler(WebSocketSwarmHandler(
                            client: client, request: request, bytesPerSecond: bytesPerSecond, sink: sink, ready: waiter,
                            logger: logger))
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    let requestHandler = WebSocketUpgradeRequestHandler(host: hostHeader, path: configuration.path, waiter: waiter)
                    let upgrade: NIOHTTPClientUpgradeSendableConfiguration = (
                        upgraders: [upgrader],
                        completionHandler: { context in
                            context.pipeline.removeHandler(name: Self.upgradeRequestHandlerName, promise: nil)
                        }
                    )
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(withClientUpgrade: upgrade)
                    try channel.pipeline.syncOperations.addHandler(requestHandler, name: Self.upgradeRequestHandlerName)
                }
            }
        let timeout = eventLoop.scheduleTask(in: configuration.upgradeTimeout) {
            waiter.fail(WebSocketSwarmError.upgradeTimedOut(seconds: configuration.upgradeTimeout.nanoseconds / 1_000_000_000))
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            timeout.cancel()
            waiter.fail(error)
            throw error
        }
        do {
            try await waiter.futureResult.get()
            timeout.cancel()
        } catch {
            timeout.cancel()
            try? await channel.close()
            throw error
        }
        sessions.withLock { $0[client] = channel }
    }

    public func pause(client: Int) async {
        guard let channel = sessions.withLock({ $0[client] }) else { return }
        try? await channel.triggerUserOutboundEvent(WebSocketSwarmControl.pause).get()
    }

    public func resume(client: Int) async {
        guard let channel = sessions.withLock({ $0[client] }) else { return }
        try? await channel.triggerUserOutboundEvent(WebSocketSwarmControl.resume).get()
    }

    public func disconnect(client: Int) async {
        guard let channel = sessions.withLock({ $0.removeValue(forKey: client) }) else { return }
        await Self.close(channel)
    }

    public func shutdown() async {
        let all = sessions.withLock { sessions in
            defer { sessions.removeAll() }
            return Array(sessions.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for channel in all { group.addTask { await Self.close(channel) } }
        }
    }

    /// Closes deliberately (close frame, then the socket) and waits until the channel
    /// is closed, so nothing more is delivered.
    private static func close(_ channel: any Channel) async {
        channel.triggerUserOutboundEvent(WebSocketSwarmControl.close, promise: nil)
        // A channel already closed by the peer still completes its close future.
        try? await channel.closeFuture.get()
    }
}
