import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// SASL/PLAIN credentials.
public struct SASLPlainCredentials: Hashable, Sendable {
    /// The SASL/PLAIN authentication identity (UTF-8).
    public var username: String
    /// The password, sent as-is: this client has no TLS, so use SASL/PLAIN only on trusted networks.
    public var password: String

    /// Credentials for SASL/PLAIN (RFC 4616, authorization identity empty).
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// How connections are opened and how long requests may take.
public struct ConnectionConfiguration: Sendable {
    /// The `client.id` put in every request header; brokers log it and may apply quotas by it. Default "tickstream".
    public var clientID: String = "tickstream"
    /// How long a request may wait for its response (`request.timeout.ms`); long-polling
    /// fetches add their max wait on top.
    public var requestTimeout: TimeAmount = .seconds(30)
    /// How long a TCP connect may take (default 10 s) before it fails with `KafkaClientError.connectFailed`.
    public var connectTimeout: TimeAmount = .seconds(10)
    /// SASL/PLAIN credentials used right after version negotiation; nil (the default) means no authentication.
    public var sasl: SASLPlainCredentials?
    /// The largest response frame accepted, in bytes (default 100 MiB); a larger one closes the connection
    /// with `KafkaClientError.connectionClosed` for every request in flight.
    public var maximumResponseSize: Int32 = KafkaFrameDecoder.defaultMaximumFrameSize

    /// Defaults: client id "tickstream", no SASL, 30 s request timeout, 10 s connect timeout.
    public init(clientID: String = "tickstream", sasl: SASLPlainCredentials? = nil) {
        self.clientID = clientID
        self.sasl = sasl
    }
}

/// One TCP connection to one broker: frames, correlation ids, pipelining (many requests
/// in flight, answered in order), ApiVersions negotiation at connect, optional SASL/PLAIN.
///
/// Thread-safe: requests may be sent from any task; the pipeline state lives in the
/// channel handler on the channel's event loop.
public final class BrokerConnection: Sendable {
    /// The broker this connection was opened to.
    public let address: BrokerAddress
    /// The version of each API used on this connection: the highest both sides speak.
    public let versions: [APIKey: Int16]
    let channel: any Channel
    private let handler: NIOLoopBound<KafkaClientHandler>
    private let configuration: ConnectionConfiguration

    private init(address: BrokerAddress, channel: any Channel, handler: NIOLoopBound<KafkaClientHandler>, versions: [APIKey: Int16], configuration: ConnectionConfiguration) {
        self.address = address
        self.channel = channel
        self.handler = handler
        self.versions = versions
        self.configuration = configuration
    }

    /// The event loop of the connection's channel (futures of `sendFuture` complete on it).
    public var eventLoop: any EventLoop { channel.eventLoop }
    /// False once the connection has closed. A closed connection is never reopened: ask the cluster client
    /// (`connection(to:)`) for a new one.
    public var isActive: Bool { channel.isActive }
    /// Completes when the connection closes, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Opens a connection, negotiates API versions and authenticates.
    public static func connect(
        to address: BrokerAddress,
        eventLoopGroup: any EventLoopGroup,
        configuration: ConnectionConfiguration = ConnectionConfiguration(),
        logger: Logger = Logger(label: "tickstream.client")
    ) async throws -> BrokerConnection {
        let name = address.description
        let maximumResponseSize = configuration.maximumResponseSize
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(configuration.connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maximumResponseSize)))
                        try channel.pipeline.syncOperations.addHandler(KafkaClientHandler(brokerName: name))
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            throw KafkaClientError.connectFailed(broker: name, reason: "\(error)")
        }
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: KafkaClientHandler.self), eventLoop: channel.eventLoop)
        }.get()
        let bootstrapConnection = BrokerConnection(address: address, channel: channel, handler: handler, versions: [:], configuration: configuration)
        do {
            let versions = try await bootstrapConnection.negotiateVersions()
            let connection = BrokerConnection(address: address, channel: channel, handler: handler, versions: versions, configuration: configuration)
            if let sasl = configuration.sasl {
                try await connection.authenticate(sasl)
            }
            logger.debug("connected", metadata: ["broker": "\(name)", "apis": "\(versions.count)"])
            return connection
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Sends `request` in the negotiated version and waits for its response.
    public func send<Request: KafkaRequestMessage>(_ request: Request, extraTimeout: TimeAmount = .zero) async throws -> Request.Response {
        let version = try version(of: Request.apiKey)
        return try await send(request, version: version, timeout: configuration.requestTimeout + extraTimeout)
    }

    /// Sends a request that gets no response (Produce with acks=0); returns once written.
    public func sendWithoutResponse<Request: KafkaRequestMessage>(_ request: Request) async throws {
        let version = try version(of: Request.apiKey)
        _ = try await write(request, version: version, expectsResponse: false, timeout: configuration.requestTimeout).get()
    }

    /// The negotiated version of `apiKey`; throws `KafkaClientError.unsupportedAPI` when the broker speaks none this client knows.
    public func version(of apiKey: APIKey) throws(KafkaClientError) -> Int16 {
        guard let version = versions[apiKey] else { throw .unsupportedAPI(broker: address.description, api: apiKey) }
        return version
    }

    /// Closes the connection; requests still in flight fail with `KafkaClientError.connectionClosed`. Idempotent.
    public func close() async {
        try? await channel.close()
    }

    func send<Request: KafkaRequestMessage>(_ request: Request, version: Int16, timeout: TimeAmount) async throws -> Request.Response {
        try await sendFuture(request, version: version, timeout: timeout).get()
    }

    /// Queues `request` on the connection at once (requests queued from one thread reach
    /// the broker in the order of the calls) and returns its decoded response.
    public func sendFuture<Request: KafkaRequestMessage>(_ request: Request, extraTimeout: TimeAmount = .zero) -> EventLoopFuture<Request.Response> {
        do {
            let version = try version(of: Request.apiKey)
            return sendFuture(request, version: version, timeout: configuration.requestTimeout + extraTimeout)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    /// Queues a request that gets no response (Produce with acks=0); completes once written.
    public func sendWithoutResponseFuture<Request: KafkaRequestMessage>(_ request: Request) -> EventLoopFuture<Void> {
        do {
            let version = try version(of: Request.apiKey)
            return write(request, version: version, expectsResponse: false, timeout: configuration.requestTimeout).map { _ in () }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func sendFuture<Request: KafkaRequestMessage>(_ request: Request, version: Int16, timeout: TimeAmount) -> EventLoopFuture<Request.Response> {
        let name = address.description
        return write(request, version: version, expectsResponse: true, timeout: timeout).flatMapThrowing { frame in
            var frame = frame
            do {
                _ = try KafkaFrame.readResponseHeader(from: &frame, apiKey: Request.apiKey, version: version)
                return try Request.Response(from: &frame, version: version)
            } catch {
                throw KafkaClientError.protocolViolation(broker: name, reason: "\(Request.apiKey) v\(version) response: \(error)")
            }
        }
    }

    private func write<Request: KafkaRequestMessage>(_ request: Request, version: Int16, expectsResponse: Bool, timeout: TimeAmount) -> EventLoopFuture<ByteBuffer> {
        let frame: ByteBuffer
        do {
            frame = try KafkaFrame.encodeRequest(request, version: version, correlationID: 0, clientID: configuration.clientID, allocator: channel.allocator)
        } catch {
            return channel.eventLoop.makeFailedFuture(KafkaClientError.codec(error))
        }
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            handler.value.enqueue(frame: frame, apiKey: Request.apiKey, expectsResponse: expectsResponse, timeout: timeout, promise: promise)
        } else {
            channel.eventLoop.execute {
                handler.value.enqueue(frame: frame, apiKey: Request.apiKey, expectsResponse: expectsResponse, timeout: timeout, promise: promise)
            }
        }
        return promise.futureResult
    }

    /// ApiVersions v3 first; a broker that does not speak it answers in v0 with
    /// UNSUPPORTED_VERSION and its list (KIP-511), which is enough to negotiate.
    private func negotiateVersions() async throws -> [APIKey: Int16] {
        let request = ApiVersionsRequest(clientSoftwareName: "tickstream-swift", clientSoftwareVersion: "1.0")
        var frame = try await write(request, version: 3, expectsResponse: true, timeout: configuration.requestTimeout).get()
        let response: ApiVersionsResponse
        do {
            _ = try KafkaFrame.readResponseHeader(from: &frame, apiKey: .apiVersions, version: 3)
            let errorCode = frame.getInteger(at: frame.readerIndex, as: Int16.self) ?? 0
            let bodyVersion: Int16 = errorCode == KafkaErrorCode.unsupportedVersion.rawValue ? 0 : 3
            response = try ApiVersionsResponse(from: &frame, version: bodyVersion)
        } catch {
            throw KafkaClientError.protocolViolation(broker: address.description, reason: "ApiVersions response: \(error)")
        }
        if response.errorCode != 0 && response.apiKeys.isEmpty {
            throw KafkaClientError.broker(KafkaErrorCode(response.errorCode), context: "ApiVersions from \(address)")
        }
        return Self.negotiate(response.apiKeys)
    }

    /// The highest common version of every API both sides know.
    public static func negotiate(_ peer: [ApiVersionsResponse.ApiVersion]) -> [APIKey: Int16] {
        var versions: [APIKey: Int16] = [:]
        for entry in peer {
            guard let key = APIKey(rawValue: entry.apiKey), entry.minVersion <= entry.maxVersion,
                  let version = SupportedAPIVersions.negotiate(key, peer: entry.minVersion...entry.maxVersion) else { continue }
            versions[key] = version
        }
        return versions
    }

    /// SASL/PLAIN (RFC 4616) framed in SaslAuthenticate requests (KIP-152).
    private func authenticate(_ credentials: SASLPlainCredentials) async throws {
        let name = address.description
        let handshake = try await send(SaslHandshakeRequest(mechanism: "PLAIN"))
        guard handshake.errorCode == 0 else {
            throw KafkaClientError.authenticationFailed(broker: name, reason: "handshake: \(KafkaErrorCode(handshake.errorCode).name), broker offers \(handshake.mechanisms)")
        }
        guard versions[.saslAuthenticate] != nil, (versions[.saslHandshake] ?? 0) >= 1 else {
            throw KafkaClientError.authenticationFailed(broker: name, reason: "broker does not support SaslAuthenticate (KIP-152)")
        }
        var token = ByteBuffer()
        token.writeInteger(UInt8(0))
        token.writeString(credentials.username)
        token.writeInteger(UInt8(0))
        token.writeString(credentials.password)
        let response = try await send(SaslAuthenticateRequest(authBytes: token))
        guard response.errorCode == 0 else {
            throw KafkaClientError.authenticationFailed(broker: name, reason: response.errorMessage ?? KafkaErrorCode(response.errorCode).name)
        }
    }
}
