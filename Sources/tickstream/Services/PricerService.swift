import Foundation
import KafkaClient
import Logging
import Market
import NIOCore
import ServiceLifecycle
import Synchronization

/// What the price calculator does and where it publishes.
struct PricerSettings: Sendable {
    var bootstrap = "127.0.0.1:9092"
    var topic = "prices"
    /// Also keep the compacted "latest quote per symbol" topic up to date.
    var latestTopic: String?
    /// Partitions for `topic` when the pricer creates it.
    var partitions: Int32 = 8
    var symbols: [SymbolInfo] = []
    var rate: Double = 1000
    var seed: UInt64 = 42
    var duration: Duration?
    var count: UInt64?
    var acks: Acks = .all
    /// Trading hours (UTC): outside them no quotes are made. Nil: always open.
    var session: TradingSession?
    /// Chance per update that a random symbol is halted for `haltSeconds`.
    var haltProbability: Double = 0
    var haltSeconds: Double = 30
    /// Show a refreshing status line (a terminal) or log a line every five seconds.
    var liveStatus = true
}

/// Counters the status line and the summary read while the pricer runs.
final class PricerCounters: Sendable {
    let sent = Atomic<UInt64>(0)
    let acked = Atomic<UInt64>(0)
    let errors = Atomic<UInt64>(0)
    /// Sends to the latest-quote topic that failed (they are not part of `sent`).
    let latestErrors = Atomic<UInt64>(0)
    let lastError = Mutex<String?>(nil)

    func status(elapsed: Double, targetRate: Double?) -> PricerStatus {
        let sent = sent.load(ordering: .relaxed), acked = acked.load(ordering: .relaxed), errors = errors.load(ordering: .relaxed)
        return PricerStatus(elapsedSeconds: elapsed, sent: sent, acked: acked,
                            inFlight: Int(sent &- acked &- errors), errors: errors,
                            quotesPerSecond: elapsed > 0 ? Double(sent) / elapsed : 0, targetRate: targetRate)
    }
}

/// The price calculator as a service: a seeded `MarketModel` paced by a `RatePacer`,
/// each quote published keyed by ticker through the idempotent producer, with `ts`
/// stamped from the wall clock just before the send.
final class PricerService: Service, Sendable {
    let settings: PricerSettings
    let counters = PricerCounters()
    private let logger: Logger

    /// How long stopping waits for the broker to acknowledge what is queued.
    static let closeTimeout: TimeAmount = .seconds(10)

    init(settings: PricerSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    func run() async throws {
        let client = try KafkaClusterClient(bootstrap: settings.bootstrap, logger: logger)
        try await createTopics(client: client)
        var producerConfiguration = ProducerConfiguration(acks: settings.acks, idempotent: settings.acks == .all)
        producerConfiguration.linger = .milliseconds(2)
        let producer = KafkaProducer(client: client, configuration: producerConfiguration)
        var modelConfiguration = MarketModelConfiguration(seed: settings.seed, updatesPerSecond: max(settings.rate, 1))
        modelConfiguration.startTimestamp = SystemWallClock().unixNanoseconds()
        modelConfiguration.session = settings.session
        modelConfiguration.haltProbability = settings.haltProbability
        modelConfiguration.haltSeconds = settings.haltSeconds
        var model = try MarketModel(symbols: settings.symbols, configuration: modelConfiguration)

        let monotonic = SystemMonotonicClock()
        let wall = SystemWallClock()
        let start = monotonic.nanoseconds()
        var pacer = RatePacer(ratePerSecond: settings.rate, startNanoseconds: start, maxCatchUp: max(Int(settings.rate), 100))
        let deadline = settings.duration.map { start + UInt64($0.components.seconds) * 1_000_000_000
            + UInt64($0.components.attoseconds / 1_000_000_000) }
        let limit = settings.count ?? .max
        let status = StatusReporter(counters: counters, targetRate: settings.rate, start: start, live: settings.liveStatus, logger: logger)
        let keys = settings.symbols.map { ByteBuffer(string: $0.ticker) }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(160)

        logger.info("pricer started", metadata: [
            "bootstrap": "\(settings.bootstrap)", "topic": "\(settings.topic)", "symbols": "\(settings.symbols.count)",
            "rate": "\(settings.rate)", "seed": "\(settings.seed)",
        ])
        await withGracefulShutdownHandler {
            var sent: UInt64 = 0
            while !Task.isCancelled && !Task.isShuttingDownGracefully && sent < limit {
                let now = monotonic.nanoseconds()
                if let deadline, now >= deadline { break }
                status.tick(now: now)
                let due = min(UInt64(pacer.due(now: now)), limit - sent)
                for _ in 0..<due {
                    guard let update = model.nextUpdate(timestamp: wall.unixNanoseconds()) else { continue }
                    await publish(update, key: keys[update.symbolIndex], buffer: &encoded, producer: producer)
                    sent += 1
                }
                let wait = min(pacer.nanosecondsUntilNextDue(now: monotonic.nanoseconds()), 50_000_000)
                if wait > 200_000 { try? await Task.sleep(nanoseconds: wait) } else { await Task.yield() }
            }
        } onGracefulShutdown: {
            // A send waiting for buffer memory (the broker is slow or gone) must not hold
            // the stop: the bounded close releases it.
            Task { await producer.close(timeout: Self.closeTimeout) }
        }
        // What is queued gets `closeTimeout` to be acknowledged; after that it is counted
        // as failed, so a pricer whose broker died still stops and says what was lost.
        await producer.close(timeout: Self.closeTimeout)
        await client.close()
        let elapsed = Double(monotonic.nanoseconds() - start) / 1e9
        status.finish()
        let summary = counters.status(elapsed: elapsed, targetRate: settings.rate).summary(symbols: settings.symbols.count)
        print(summary)
        let latestErrors = counters.latestErrors.load(ordering: .relaxed)
        if let latest = settings.latestTopic, latestErrors > 0 {
            logger.error("quotes not stored in the latest-quote topic", metadata: ["topic": "\(latest)", "failed": "\(latestErrors)"])
        }
        if pacer.skipped > 0 {
            logger.warning("the pricer fell behind its schedule", metadata: ["skipped": "\(pacer.skipped)"])
        }
    }

    private func publish(_ update: MarketUpdate, key: ByteBuffer, buffer: inout [UInt8], producer: KafkaProducer) async {
        buffer.removeAll(keepingCapacity: true)
        do {
            try update.quote.encodeJSON(into: &buffer)
        } catch {
            counters.errors.add(1, ordering: .relaxed)
            counters.lastError.withLock { $0 = "\(error)" }
            return
        }
        let value = ByteBuffer(bytes: buffer)
        let timestamp = update.quote.timestamp / 1_000_000
        counters.sent.add(1, ordering: .relaxed)
        let counters = self.counters
        do {
            try await producer.send(topic: settings.topic, key: key, value: value, timestamp: timestamp) { result in
                switch result {
                case .success: counters.acked.add(1, ordering: .relaxed)
                case .failure(let error):
                    counters.errors.add(1, ordering: .relaxed)
                    counters.lastError.withLock { $0 = "\(error)" }
                }
            }
            if let latest = settings.latestTopic {
                try await producer.send(topic: latest, key: key, value: value, timestamp: timestamp) { result in
                    if case .failure(let error) = result {
                        counters.latestErrors.add(1, ordering: .relaxed)
                        counters.lastError.withLock { $0 = "\(latest): \(error)" }
                    }
                }
            }
        } catch {
            counters.errors.add(1, ordering: .relaxed)
            counters.lastError.withLock { $0 = "\(error)" }
        }
    }

    /// `prices` with the configured partitions; `prices.latest` compacted. Existing topics are kept.
    private func createTopics(client: KafkaClusterClient) async throws {
        var topics = [NewTopic(name: settings.topic, partitions: settings.partitions)]
        if let latest = settings.latestTopic {
            topics.append(NewTopic(name: latest, partitions: settings.partitions,
                                   configs: ["cleanup.policy": "compact", "segment.bytes": "8388608"]))
        }
        try await KafkaAdmin(client: client).createTopics(topics, ignoreExisting: true)
    }
}

/// The pricer's feedback: a refreshing line on a terminal, a log line every five
/// seconds otherwise.
private final class StatusReporter: Sendable {
    private let counters: PricerCounters
    private let targetRate: Double
    private let start: UInt64
    private let live: Bool
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let logger: Logger
    private let lastShown = Atomic<UInt64>(0)

    init(counters: PricerCounters, targetRate: Double, start: UInt64, live: Bool, logger: Logger) {
        self.counters = counters
        self.targetRate = targetRate
        self.start = start
        self.live = live
        self.logger = logger
    }

    func tick(now: UInt64) {
        guard live else { return }
        let interval: UInt64 = isTerminal ? 500_000_000 : 5_000_000_000
        let last = lastShown.load(ordering: .relaxed)
        guard now &- max(last, start) >= interval else { return }
        lastShown.store(now, ordering: .relaxed)
        let line = counters.status(elapsed: Double(now - start) / 1e9, targetRate: targetRate).statusLine
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
        } else {
            logger.info("\(line)")
        }
    }

    func finish() {
        if live && isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
