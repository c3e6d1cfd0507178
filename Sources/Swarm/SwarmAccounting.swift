import Synchronization

/// A worker's clients and measurements, shared between the transport's threads
/// (deliveries) and the worker's run loop (connection changes, seconds).
///
/// A `Mutex` guards it: deliveries are short critical sections, and an actor hop
/// per delivery would cost more than the lock.
public final class SwarmAccounting: SwarmDeliverySink {
    struct State {
        var clients: [MobileClient]
        var links: [Int: SlowReaderLink]
        var stats: SwarmStats
        var lostConnections: [Int] = []
    }

    public let firstClient: Int
    private let state: Mutex<State>

    /// `clients` are consecutive global indexes starting at `firstClient`.
    public init(clients: [MobileClient], firstClient: Int, links: [Int: SlowReaderLink] = [:], startSecond: Int = 0) {
        self.firstClient = firstClient
        state = Mutex(State(clients: clients, links: links, stats: SwarmStats(startSecond: startSecond)))
    }

    private func local(_ client: Int) -> Int? {
        let index = client - firstClient
        return index >= 0 ? index : nil
    }

    public func deliver(_ delivery: Delivery, to client: Int) {
        guard let index = local(client) else { return }
        state.withLock { state in
            guard index < state.clients.count else { return }
            var delivery = delivery
            if state.links[client] != nil { delivery = state.links[client]!.shape(delivery) }
            let outcome = state.clients[index].accept(delivery)
            let catchUp = state.clients[index].isCatchUp(timestampNanos: delivery.timestampNanos)
            state.stats.record(outcome, delivery: delivery, catchUp: catchUp)
        }
    }

    public func snapshot(_ delivery: Delivery, to client: Int) {
        guard let index = local(client) else { return }
        state.withLock { state in
            guard index < state.clients.count else { return }
            let outcome = state.clients[index].acceptSnapshot(delivery)
            state.stats.record(outcome, delivery: delivery, catchUp: false)
        }
    }

    public func gatewayGap(client: Int, partitions: [Int32], reason: String) {
        guard let index = local(client) else { return }
        state.withLock { state in
            guard index < state.clients.count else { return }
            let status = state.clients[index].state
            guard status == .connected || status == .paused else { return }
            state.stats.recordGatewayGap()
        }
    }

    public func gatewayConflated(client: Int, quotes: Int) {
        guard let index = local(client), quotes > 0 else { return }
        state.withLock { state in
            guard index < state.clients.count else { return }
            state.clients[index].gatewayConflated(UInt64(quotes))
            state.stats.recordGatewayConflated(UInt64(quotes))
        }
    }

    public func startedReading(client: Int, partition: Int32, at offset: Int64) {
        guard let index = local(client) else { return }
        state.withLock { state in
            guard index < state.clients.count else { return }
            state.clients[index].startedReading(partition: partition, at: offset)
        }
    }

    public func passedOver(client: Int, partition: Int32, through offset: Int64, records: Int, bytes: Int) {
        guard let index = local(client) else { return }
        state.withLock { state in
            guard index < state.clients.count, state.clients[index].passedOver(partition: partition, through: offset) else { return }
            state.stats.recordPassedOver(records: records, bytes: bytes)
        }
    }

    public func connectionLost(client: Int, reason: String) {
        guard let index = local(client) else { return }
        state.withLock { state in
            guard index < state.clients.count, state.clients[index].state != .disconnected else { return }
            state.clients[index].disconnected()
            state.lostConnections.append(client)
        }
    }

    /// Runs `body` on one client's state; nil for a client not in this worker.
    private func withClient<T>(_ client: Int, _ body: (inout MobileClient, inout SwarmStats) -> T) -> T? {
        guard let index = local(client) else { return nil }
        return state.withLock { state in
            guard index < state.clients.count else { return nil }
            return body(&state.clients[index], &state.stats)
        }
    }

    public func client(_ client: Int) -> MobileClient? {
        withClient(client) { client, _ in client }
    }

    /// Marks a (re)connect; returns the offsets to resume from (empty for a first connect).
    @discardableResult
    public func markConnected(_ client: Int, atNanos now: Int64) -> [Int32: Int64] {
        withClient(client) { client, stats in
            let reconnecting = client.state == .disconnected
            client.connected(atNanos: now)
            if reconnecting { stats.recordReconnect() }
            return reconnecting ? client.resumeOffsets : [:]
        } ?? [:]
    }

    /// Marks a deliberate disconnect; false if the client was not connected.
    public func markDisconnected(_ client: Int) -> Bool {
        withClient(client) { client, _ in
            guard client.state == .connected || client.state == .paused else { return false }
            client.disconnected()
            return true
        } ?? false
    }

    /// Marks a pause; false if the client was not reading.
    public func markPaused(_ client: Int) -> Bool {
        withClient(client) { client, stats in
            guard client.state == .connected else { return false }
            client.paused()
            stats.recordPause()
            return true
        } ?? false
    }

    /// Marks a resume; false if the client was not paused.
    public func markResumed(_ client: Int, atNanos now: Int64) -> Bool {
        withClient(client) { client, _ in
            guard client.state == .paused else { return false }
            client.resumed(atNanos: now)
            return true
        } ?? false
    }

    /// Clients whose connection broke since the last call.
    public func takeLostConnections() -> [Int] {
        state.withLock { state in
            defer { state.lostConnections.removeAll() }
            return state.lostConnections
        }
    }

    /// Connected clients that have not yet read their partitions up to `ends`;
    /// `partitions(client)` names the partitions a client reads.
    public func clientsBehind(_ ends: [Int32: Int64], partitions: (Int) -> [Int32]) -> [Int] {
        state.withLock { state in
            state.clients.filter { $0.state == .connected && !$0.hasRead(partitions($0.id), upTo: ends) }.map(\.id)
        }
    }

    /// Clients holding a connection (reading or paused).
    public var connectedClients: Int {
        state.withLock { state in state.clients.reduce(0) { $0 + ($1.state == .connected || $1.state == .paused ? 1 : 0) } }
    }

    /// Closes the current second, starting `next`.
    public func closeSecond(next: Int) -> SecondSnapshot {
        state.withLock { state in
            let connected = state.clients.reduce(0) { $0 + ($1.state == .connected || $1.state == .paused ? 1 : 0) }
            return state.stats.closeSecond(connectedClients: connected, next: next)
        }
    }

    public var currentSecond: Int { state.withLock { $0.stats.currentSecond } }

    public var stats: SwarmStats { state.withLock { $0.stats } }
}
