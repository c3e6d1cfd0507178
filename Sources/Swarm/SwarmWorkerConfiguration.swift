/// Everything one worker process needs, handed over by the coordinator as one
/// JSON argument of the hidden `swarm-worker` subcommand.
public struct SwarmWorkerConfiguration: Codable, Sendable, Equatable {
    public var worker: Int
    /// Global index of this worker's first client; its clients are consecutive.
    public var firstClient: Int
    public var clientCount: Int
    /// The symbol universe in popularity order (the pricer's list).
    public var symbols: [String]
    public var watchlistSize: Int
    public var watchlistSkew: Double = WatchlistGenerator.defaultSkew
    public var seed: UInt64
    public var durationMillis: Int64
    /// The run's common start, Unix nanoseconds: seconds are counted from it by every worker.
    public var epochNanos: Int64
    public var behaviour: BehaviourSettings
    /// Transport selection and addresses, as given to `swarm` (`kafka` or `ws`).
    public var via: String = "kafka"
    public var bootstrap: String = "127.0.0.1:9092"
    public var gateway: String = "127.0.0.1:8080"
    public var topic: String = "prices"
    /// Kafka fetch settings of every client (`fetch.min.bytes`, `fetch.max.wait.ms`):
    /// the broker answers a client's long-poll once this many bytes are there or the
    /// wait is over. 1 byte answers at once (lowest latency, most round trips).
    public var fetchMinBytes: Int32 = 1
    public var fetchMaxWaitMillis: Int64 = 500
    /// After the duration, how long clients may keep reading until each has read its
    /// partitions to the end offsets of that moment (0: stop at once). Paused clients
    /// resume and churned ones reconnect for it, so every client ends having seen every
    /// quote of its watchlist since it first connected.
    public var drainMillis: Int64 = 0

    public init(worker: Int, firstClient: Int, clientCount: Int, symbols: [String], watchlistSize: Int, seed: UInt64,
                durationMillis: Int64, epochNanos: Int64, behaviour: BehaviourSettings) {
        self.worker = worker
        self.firstClient = firstClient
        self.clientCount = clientCount
        self.symbols = symbols
        self.watchlistSize = watchlistSize
        self.seed = seed
        self.durationMillis = durationMillis
        self.epochNanos = epochNanos
        self.behaviour = behaviour
    }

    /// Splits `clients` over `processes` workers as evenly as possible (the first
    /// `clients % processes` workers take one more).
    public static func split(clients: Int, processes: Int) -> [(first: Int, count: Int)] {
        let processes = max(1, processes)
        var ranges: [(Int, Int)] = []
        var first = 0
        for worker in 0..<processes {
            let count = clients / processes + (worker < clients % processes ? 1 : 0)
            ranges.append((first, count))
            first += count
        }
        return ranges
    }
}
