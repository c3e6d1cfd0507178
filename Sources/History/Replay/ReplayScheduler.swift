/// How fast a replay runs: a factor of real time, or as fast as possible.
public enum ReplaySpeed: Sendable, Hashable, CustomStringConvertible {
    /// `factor` seconds of history per second of wall time (10 = ten times faster).
    case factor(Double)
    /// No pacing at all.
    case max

    /// Parses `10`, `0.5`, `10x` or `max`; nil for anything else, zero or a negative factor.
    public init?(parsing text: String) {
        let lowered = text.trimmingWhitespace().lowercased()
        if lowered == "max" {
            self = .max
            return
        }
        let number = lowered.hasSuffix("x") ? String(lowered.dropLast()) : lowered
        guard let factor = Double(number), factor.isFinite, factor > 0 else { return nil }
        self = .factor(factor)
    }

    public var description: String {
        switch self {
        case .max: return "max"
        case .factor(let factor): return "\(factor)x"
        }
    }
}

/// When each quote of a replay is due: `start + (ts − firstTs) / speed`.
///
/// A value with no clock of its own: the first quote pins `start` (the wall time it was
/// scheduled at) and `firstTs`; every later quote's deadline follows from its `ts`. A quote
/// whose ts is older than one before it is due at once rather than before its predecessor.
/// Times are nanoseconds, the wall time on any monotonic scale (see `ReplayClock`).
public struct ReplayScheduler: Sendable, Hashable {
    public let speed: ReplaySpeed
    /// Wall time of the first quote, once scheduled.
    public private(set) var start: Int64?
    /// `ts` of the first quote, once scheduled.
    public private(set) var firstTimestamp: Int64?
    private var lastDeadline = Int64.min

    public init(speed: ReplaySpeed) {
        self.speed = speed
    }

    /// The wall time at which the quote with `timestamp` should be sent; `now` is the
    /// current wall time, used for the first quote only.
    public mutating func deadline(forTimestamp timestamp: Int64, now: Int64) -> Int64 {
        guard let start, let firstTimestamp else {
            self.start = now
            self.firstTimestamp = timestamp
            lastDeadline = now
            return now
        }
        let deadline: Int64
        switch speed {
        case .max:
            deadline = start
        case .factor(let factor):
            let offset = (Double(timestamp) - Double(firstTimestamp)) / factor
            deadline = start + Int64(offset.rounded(.toNearestOrEven).clamped(to: -9e18...9e18))
        }
        lastDeadline = Swift.max(lastDeadline, deadline)
        return lastDeadline
    }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double {
        Swift.min(Swift.max(self, range.lowerBound), range.upperBound)
    }
}

/// The time source of a replay, injectable so pacing is tested without waiting.
public protocol ReplayClock: Sendable {
    /// Current time in nanoseconds on a monotonic scale.
    func now() -> Int64
    /// Suspends until `now() >= deadline`.
    func sleep(until deadline: Int64) async throws
}

/// The real clock: `ContinuousClock`, in nanoseconds since this value was made.
public struct SystemReplayClock: ReplayClock {
    private let origin = ContinuousClock.now

    public init() {}

    public func now() -> Int64 {
        let elapsed = ContinuousClock.now - origin
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    public func sleep(until deadline: Int64) async throws {
        try await ContinuousClock().sleep(until: origin.advanced(by: .nanoseconds(deadline)))
    }
}

/// A `ReplayScheduler` driven by a `ReplayClock`: call `wait(forTimestamp:)` before sending
/// each quote, in ts order.
public struct ReplayPacer<Clock: ReplayClock>: Sendable {
    public private(set) var scheduler: ReplayScheduler
    public let clock: Clock

    public init(speed: ReplaySpeed, clock: Clock) {
        scheduler = ReplayScheduler(speed: speed)
        self.clock = clock
    }

    /// Sleeps until the quote with `timestamp` is due (not at all at `.max` speed or when
    /// late); returns its deadline.
    @discardableResult
    public mutating func wait(forTimestamp timestamp: Int64) async throws -> Int64 {
        let now = clock.now()
        let deadline = scheduler.deadline(forTimestamp: timestamp, now: now)
        if deadline > now {
            try await clock.sleep(until: deadline)
        }
        return deadline
    }
}
