/// Paces a producer at a target rate without drift.
///
/// The number of quotes due is computed from the start reading and the rate
/// (`floor(elapsed × rate)`), never by adding up intervals, so rounding errors do
/// not accumulate: over exactly `t` seconds exactly `rate × t` quotes are released
/// (for rates with at most three decimals). When the producer falls behind by
/// more than `maxCatchUp`, the excess is dropped (counted in ``skipped``) rather
/// than sent in one burst, and the schedule stays anchored at the start.
public struct RatePacer: Sendable {
    /// The target rate, quotes per second (negative or NaN rates are taken as 0).
    public let ratePerSecond: Double
    /// The most quotes one call to ``due(now:)`` releases; nil releases the whole backlog.
    public let maxCatchUp: Int?
    /// The clock reading at which the schedule starts.
    public let startNanoseconds: UInt64
    /// Quotes released by ``due(now:)`` so far.
    public private(set) var released: UInt64 = 0
    /// Quotes dropped because the backlog exceeded ``maxCatchUp``.
    public private(set) var skipped: UInt64 = 0
    /// The rate in quotes per 1000 s, an integer so the schedule is exact.
    private let ratePerKilosecond: UInt64
    private static let nanosecondsPerKilosecond: UInt64 = 1_000_000_000_000

    public init(ratePerSecond: Double, startNanoseconds: UInt64, maxCatchUp: Int? = nil) {
        let rate = ratePerSecond.isFinite ? min(max(ratePerSecond, 0), 1e9) : 0
        self.ratePerSecond = rate
        self.ratePerKilosecond = UInt64((rate * 1000).rounded())
        self.startNanoseconds = startNanoseconds
        self.maxCatchUp = maxCatchUp.map { max(0, $0) }
    }

    /// Quotes that the schedule has made due by `now`, released or not.
    public func scheduledCount(at now: UInt64) -> UInt64 {
        guard now > startNanoseconds, ratePerKilosecond > 0 else { return 0 }
        let product = (now - startNanoseconds).multipliedFullWidth(by: ratePerKilosecond)
        guard product.high < Self.nanosecondsPerKilosecond else { return .max }
        return Self.nanosecondsPerKilosecond.dividingFullWidth(product).quotient
    }

    /// How many quotes to send now; marks them released.
    public mutating func due(now: UInt64) -> Int {
        let scheduled = scheduledCount(at: now)
        let accounted = released + skipped
        guard scheduled > accounted else { return 0 }
        var backlog = scheduled - accounted
        if let cap = maxCatchUp, backlog > UInt64(cap) {
            skipped += backlog - UInt64(cap)
            backlog = UInt64(cap)
        }
        released += backlog
        return Int(clamping: backlog)
    }

    /// Reads `clock` and returns how many quotes to send now.
    public mutating func due(clock: some NanosecondClock) -> Int {
        due(now: clock.nanoseconds())
    }

    /// Nanoseconds from `now` until the next quote falls due (0 if one is due already;
    /// `UInt64.max` when the rate is 0).
    public func nanosecondsUntilNextDue(now: UInt64) -> UInt64 {
        guard ratePerKilosecond > 0 else { return .max }
        let next = released + skipped + 1
        // The first instant at which floor(elapsed × rate / 10^12) reaches `next`.
        let product = next.multipliedFullWidth(by: Self.nanosecondsPerKilosecond)
        guard product.high < ratePerKilosecond else { return .max }
        let division = ratePerKilosecond.dividingFullWidth(product)
        let offset = division.quotient + (division.remainder == 0 ? 0 : 1)
        let dueAt = startNanoseconds.addingReportingOverflow(offset)
        guard !dueAt.overflow else { return .max }
        return dueAt.partialValue > now ? dueAt.partialValue - now : 0
    }

    /// Released quotes per second since the start (0 before any time has passed).
    public func achievedRate(now: UInt64) -> Double {
        guard now > startNanoseconds else { return 0 }
        return Double(released) / (Double(now - startNanoseconds) / 1e9)
    }
}

/// Counts events and reports the rate over the window since the previous sample:
/// the "quotes/s" of a status line.
public struct RateMeter: Sendable {
    /// Events recorded since creation.
    public private(set) var total: UInt64 = 0
    private var windowStart: UInt64
    private var windowStartTotal: UInt64 = 0

    public init(startNanoseconds: UInt64) {
        windowStart = startNanoseconds
    }

    public mutating func record(_ count: Int = 1) {
        total += UInt64(max(0, count))
    }

    /// Events per second since the previous sample (or the start), then opens a new window.
    public mutating func sampleRate(now: UInt64) -> Double {
        guard now > windowStart else { return 0 }
        let rate = Double(total - windowStartTotal) / (Double(now - windowStart) / 1e9)
        windowStart = now
        windowStartTotal = total
        return rate
    }
}
