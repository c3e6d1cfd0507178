import NIOCore

/// The shards of a hub, one per event loop, found by the loop a channel lives on.
/// Built once at the hub's creation and never changed, so it is read without a lock.
final class ShardSet: Sendable {
    let all: [HubShard]
    private let byLoop: [ObjectIdentifier: HubShard]

    init(eventLoopGroup: any EventLoopGroup, configuration: HubConfiguration, logReader: (any QuoteLogReader)?,
         clock: HubClock) {
        var all: [HubShard] = []
        for loop in eventLoopGroup.makeIterator() {
            all.append(HubShard(eventLoop: loop, configuration: configuration, logReader: logReader, clock: clock))
        }
        self.all = all
        self.byLoop = Dictionary(uniqueKeysWithValues: all.map { (ObjectIdentifier($0.eventLoop), $0) })
    }

    /// The shard of `eventLoop`, if it is one of the group's.
    func shard(for eventLoop: any EventLoop) -> HubShard? { byLoop[ObjectIdentifier(eventLoop)] }

    /// Runs `body` with each shard on the shard's own loop (one hop per shard).
    func forEach(_ body: @escaping @Sendable (HubShard) -> Void) {
        for shard in all { shard.eventLoop.execute { body(shard) } }
    }
}

/// One event loop's share of the gateway's WebSocket clients: their bookkeeping
/// (a `HubBook`) and their connections, touched on that loop only.
///
/// The hub hands a shard each fetched batch once (`publish`); the book queues the
/// frames per client and the shard then gives every client with something due one
/// write of all of it and one flush (`PushConnection.push`). A client whose socket is
/// not writable is skipped: its outbox conflates until NIO reports it writable again.
///
/// `@unchecked Sendable`: every method must run on `eventLoop` (asserted in debug
/// builds); other threads reach a shard only through `eventLoop.execute`/`submit`.
final class HubShard: @unchecked Sendable {
    let eventLoop: any EventLoop
    let configuration: HubConfiguration
    let logReader: (any QuoteLogReader)?
    private var book: HubBook
    private var connections: [ClientID: PushConnection] = [:]
    private var isShutDown = false

    init(eventLoop: any EventLoop, configuration: HubConfiguration, logReader: (any QuoteLogReader)?, clock: HubClock) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logReader = logReader
        self.book = HubBook(configuration: configuration, clock: clock)
    }

    // MARK: From the hub

    /// A batch larger than half a client's queue bound goes in chunks, each handed to
    /// the sockets before the next: a writable client must never be conflated only
    /// because one fetch brought more quotes than its queue holds.
    func publish(_ quotes: [FeedQuote]) {
        eventLoop.assertInEventLoop()
        let chunk = max(1, configuration.queueBound / 2)
        var start = 0
        while start < quotes.count {
            let end = min(quotes.count, start + chunk)
            for index in start..<end { book.publish(quotes[index]) }
            flushDirty()
            start = end
        }
    }

    func loadLatest(_ quotes: [LatestQuote]) {
        eventLoop.assertInEventLoop()
        for quote in quotes { _ = book.loadLatest(quote) }
    }

    func tick() {
        eventLoop.assertInEventLoop()
        book.tick()
        flushDirty()
    }

    func heartbeat() {
        eventLoop.assertInEventLoop()
        book.heartbeat()
        flushDirty()
    }

    func shutdown() {
        eventLoop.assertInEventLoop()
        isShutDown = true
        for (id, connection) in connections {
            book.disconnect(id)
            connection.close(code: .goingAway)
        }
        connections.removeAll()
    }

    func counters() async -> HubCounters {
        do {
            return try await eventLoop.submit { self.book.currentCounters() }.get()
        } catch {
            return HubCounters()
        }
    }

    // MARK: From connections (on this loop)

    /// Registers a connection; nil when the hub is shutting down.
    func attach(_ connection: PushConnection, permission: SymbolPermission, maxRate: Int?) -> ClientID? {
        eventLoop.assertInEventLoop()
        guard !isShutDown else { return nil }
        let id = ClientID.next()
        book.connect(id, permission: permission, maxRate: maxRate)
        connections[id] = connection
        return id
    }

    func detach(_ id: ClientID) {
        eventLoop.assertInEventLoop()
        connections.removeValue(forKey: id)
        book.disconnect(id)
    }

    func subscribe(_ id: ClientID, symbols: [String]) {
        book.subscribe(id, symbols: symbols)
        flushDirty()
    }

    /// One request frame of a client; a malformed one is answered with an error frame.
    /// A resume reads the log off the loop and comes back to finish.
    func handle(requestBytes bytes: [UInt8], from id: ClientID) {
        eventLoop.assertInEventLoop()
        let request: ClientRequest
        do {
            request = try ClientRequest(parsing: bytes)
        } catch {
            book.refuse(error, from: id)
            flushDirty()
            return
        }
        switch request {
        case .subscribe(let symbols):
            book.subscribe(id, symbols: symbols)
        case .unsubscribe(let symbols):
            book.unsubscribe(id, symbols: symbols)
        case .resume(let token, let symbols):
            if let plan = book.beginResume(id, token: token, symbols: symbols) {
                let reader = logReader
                let configuration = configuration
                let finished = eventLoop.makeFutureWithTask {
                    await HubBook.readMissed(plan, reader: reader, configuration: configuration)
                }
                finished.whenSuccess { outcomes in
                    self.book.finishResume(plan, outcomes: outcomes)
                    self.flushDirty()
                }
            }
        }
        flushDirty()
    }

    /// Writes what is due for `id` if its socket takes writes (also called when it
    /// becomes writable again).
    func flush(_ id: ClientID) {
        eventLoop.assertInEventLoop()
        guard let connection = connections[id], connection.isWritable, !book.isIdle(id),
              let frames = book.drain(id)
        else { return }
        connection.push(frames)
        if book.hasOverflowed(id) {
            detach(id)
            connection.close(code: .policyViolation, reason: "requests sent faster than answers are read")
        }
    }

    private func flushDirty() {
        for id in book.takeDirty() { flush(id) }
    }
}
