/// How a simulated client behaves over a run, beyond reading its watchlist.
///
/// Every client may churn (disconnect, reconnect after a delay and resume from
/// its last offsets). On top of that a client is one of:
/// - `steady`: reads continuously;
/// - `background`: now and then the app is backgrounded — reading pauses for a
///   while, then resumes and catches up;
/// - `slowReader`: reads through a capped, high-latency link (`SlowReaderLink`).
public enum ClientBehaviour: Sendable, Equatable {
    case steady
    case background
    case slowReader(bytesPerSecond: Int, addedLatencyMillis: Int)
}

/// The knobs of the fleet's behaviour, from the command line.
public struct BehaviourSettings: Sendable, Equatable, Codable {
    /// Disconnects per minute across the whole fleet (`--churn-per-min`); each
    /// client disconnects as a Poisson process of rate `churnPerMinute / fleetClients`.
    public var churnPerMinute: Double = 0
    /// Clients in the whole fleet (all workers), for the per-client churn rate.
    public var fleetClients: Int = 1
    /// Share of clients that background now and then (`--background-fraction`).
    public var backgroundFraction: Double = 0
    /// Share of clients on a slow link (`--slow-fraction`).
    public var slowFraction: Double = 0
    /// How long a churned client stays away before reconnecting, milliseconds.
    public var reconnectDelayMillis: ClosedRange<Int64> = 1000...5000
    /// Mean time between background periods, milliseconds.
    public var backgroundEveryMillis: Double = 30_000
    /// How long a background period lasts, milliseconds.
    public var backgroundForMillis: ClosedRange<Int64> = 5000...20_000
    /// A slow reader's link.
    public var slowBytesPerSecond: Int = 16 * 1024
    public var slowAddedLatencyMillis: Int = 150

    public init() {}
}

/// One scheduled change of a client's connection, at a time from the run's start.
public struct ScheduledAction: Sendable, Equatable, Comparable {
    public enum Action: Int, Sendable, Equatable {
        case disconnect, reconnect, pause, resume
    }

    public var atMillis: Int64
    public var client: Int
    public var action: Action

    public init(atMillis: Int64, client: Int, action: Action) {
        self.atMillis = atMillis
        self.client = client
        self.action = action
    }

    public static func < (lhs: ScheduledAction, rhs: ScheduledAction) -> Bool {
        (lhs.atMillis, lhs.client, lhs.action.rawValue) < (rhs.atMillis, rhs.client, rhs.action.rawValue)
    }
}

/// Decides each client's behaviour and timeline from the seed: the same seed and
/// client index give the same plan whatever the number of workers.
public struct BehaviourPlanner: Sendable {
    public let settings: BehaviourSettings
    public let seed: UInt64

    public init(settings: BehaviourSettings, seed: UInt64) {
        self.settings = settings
        self.seed = seed
    }

    public func behaviour(forClient client: Int) -> ClientBehaviour {
        var generator = SeededGenerator(seed: seed, stream: UInt64(client), purpose: 2)
        let u = generator.nextUnit()
        if u < settings.backgroundFraction { return .background }
        if u < settings.backgroundFraction + settings.slowFraction {
            return .slowReader(bytesPerSecond: settings.slowBytesPerSecond, addedLatencyMillis: settings.slowAddedLatencyMillis)
        }
        return .steady
    }

    /// The client's disconnects/reconnects and pauses/resumes within `durationMillis`,
    /// in time order. Every disconnect planned has its reconnect planned (possibly
    /// after the end, then dropped with it); the same holds for pause and resume.
    public func actions(forClient client: Int, durationMillis: Int64) -> [ScheduledAction] {
        var actions: [ScheduledAction] = []
        if settings.churnPerMinute > 0 {
            var generator = SeededGenerator(seed: seed, stream: UInt64(client), purpose: 3)
            let meanMillis = 60_000 * Double(max(1, settings.fleetClients)) / settings.churnPerMinute
            var t: Int64 = 0
            while true {
                t += Int64(generator.nextExponential(mean: meanMillis).rounded()) + 1
                guard t < durationMillis else { break }
                let away = uniform(settings.reconnectDelayMillis, &generator)
                actions.append(ScheduledAction(atMillis: t, client: client, action: .disconnect))
                guard t + away < durationMillis else { break }
                actions.append(ScheduledAction(atMillis: t + away, client: client, action: .reconnect))
                t += away
            }
        }
        if behaviour(forClient: client) == .background {
            var generator = SeededGenerator(seed: seed, stream: UInt64(client), purpose: 4)
            var t: Int64 = 0
            while true {
                t += Int64(generator.nextExponential(mean: settings.backgroundEveryMillis).rounded()) + 1
                guard t < durationMillis else { break }
                let away = uniform(settings.backgroundForMillis, &generator)
                actions.append(ScheduledAction(atMillis: t, client: client, action: .pause))
                guard t + away < durationMillis else { break }
                actions.append(ScheduledAction(atMillis: t + away, client: client, action: .resume))
                t += away
            }
        }
        return actions.sorted()
    }

    private func uniform(_ range: ClosedRange<Int64>, _ generator: inout SeededGenerator) -> Int64 {
        let span = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int64(generator.next() % span)
    }
}
