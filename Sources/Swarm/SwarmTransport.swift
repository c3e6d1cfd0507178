/// The boundary between the swarm's accounting and the network.
///
/// A transport carries quotes to simulated clients: the Kafka transport (one
/// lightweight consumer per client, fetching the watchlist's partitions) or the
/// WebSocket transport through the gateway. It decodes each record, stamps the
/// receive time and pushes a `Delivery` to the `SwarmDeliverySink`; it never
/// counts anything itself. Calls for one client come in order (connect, then
/// pause/resume/disconnect); calls for different clients may overlap.
public protocol SwarmTransport: Sendable {
    /// Opens client `subscription.client`'s connection and starts delivering.
    /// With `resumeFrom` empty it starts at the log end and reports each
    /// partition's start offset through `SwarmDeliverySink.startedReading`.
    func connect(_ subscription: SwarmSubscription, sink: any SwarmDeliverySink) async throws
    /// Stops fetching for the client (backgrounded app) without closing the connection.
    func pause(client: Int) async
    /// Fetching again from where the client stopped.
    func resume(client: Int) async
    /// Closes the client's connection; deliveries still in flight are ignored by the accounting.
    func disconnect(client: Int) async
    /// Closes everything at the end of the run.
    func shutdown() async
    /// The next offset to be written per partition of the topic, for a drain: nil when
    /// the transport cannot tell (it then ends without draining).
    func endOffsets() async throws -> [Int32: Int64]?
}

extension SwarmTransport {
    public func endOffsets() async throws -> [Int32: Int64]? { nil }
}

/// What a client asks its transport for.
public struct SwarmSubscription: Sendable, Equatable {
    public var client: Int
    /// The watchlist; a WebSocket transport subscribes to these symbols.
    public var symbols: [String]
    /// The partitions holding the watchlist; a Kafka transport fetches these.
    public var partitions: [Int32]
    /// The next offset to read per partition when resuming; empty for a fresh client.
    public var resumeFrom: [Int32: Int64]
    /// A slow reader's bandwidth cap, a hint a transport may use to size its fetches;
    /// the cap's effect on delivery time is modelled by `SlowReaderLink` either way.
    public var maxBytesPerSecond: Int?

    public init(client: Int, symbols: [String], partitions: [Int32], resumeFrom: [Int32: Int64] = [:], maxBytesPerSecond: Int? = nil) {
        self.client = client
        self.symbols = symbols
        self.partitions = partitions
        self.resumeFrom = resumeFrom
        self.maxBytesPerSecond = maxBytesPerSecond
    }
}

/// Where a transport pushes what it receives. Thread-safe; called from any thread.
public protocol SwarmDeliverySink: Sendable {
    /// A quote arrived for `client`.
    func deliver(_ delivery: Delivery, to client: Int)
    /// A fresh subscription of `client` starts reading `partition` at `offset`.
    func startedReading(client: Int, partition: Int32, at offset: Int64)
    /// The connection of `client` broke without being asked to; the worker reconnects it.
    func connectionLost(client: Int, reason: String)
    /// `records` records of `partition` (`bytes` bytes of values), the last at `offset`,
    /// reached `client` but hold no watched symbol: a Kafka transport tells them by
    /// their key and skips them undecoded. The client's position advances past them.
    func passedOver(client: Int, partition: Int32, through offset: Int64, records: Int, bytes: Int)
    /// A WebSocket `snapshot` frame: the latest quote of a watched symbol, sent on
    /// subscribe and after a gap. It is not a delivery of a new quote; it sets the
    /// symbol's baseline (and the partition's position) for what follows.
    func snapshot(_ delivery: Delivery, to client: Int)
    /// The gateway sent `client` a `gap` frame: what it missed on `partitions` cannot
    /// be replayed (`reason` as the gateway gave it); fresh snapshots follow.
    func gatewayGap(client: Int, partitions: [Int32], reason: String)
    /// The gateway reports (in a `stats` frame) that it has conflated `quotes` more of
    /// `client`'s quotes: that many `seq` skips that follow are on purpose, not lost.
    func gatewayConflated(client: Int, quotes: Int)
}

extension SwarmDeliverySink {
    /// Sinks that only count deliveries ignore records passed over.
    public func passedOver(client: Int, partition: Int32, through offset: Int64, records: Int, bytes: Int) {}
    /// Sinks that only count deliveries ignore snapshots.
    public func snapshot(_ delivery: Delivery, to client: Int) {}
    /// Sinks that only count deliveries ignore gap notices.
    public func gatewayGap(client: Int, partitions: [Int32], reason: String) {}
    /// Sinks that only count deliveries ignore conflation notices.
    public func gatewayConflated(client: Int, quotes: Int) {}
}

/// A ready transport and the partitioner its topic uses (murmur2 over the symbol
/// for Kafka, as every producer and consumer agree; constant for WebSocket).
public struct SwarmTransportSetup: Sendable {
    public var transport: any SwarmTransport
    public var partition: @Sendable (String) -> Int32

    public init(transport: any SwarmTransport, partition: @escaping @Sendable (String) -> Int32) {
        self.transport = transport
        self.partition = partition
    }
}
