/// A daily trading window in UTC seconds of the day. Outside it the market model
/// produces no quotes. A window whose open is after its close spans midnight.
public struct TradingSession: Sendable, Hashable {
    /// Seconds after 00:00 UTC at which trading starts.
    public var opensAtSecondOfDay: Int64
    /// Seconds after 00:00 UTC at which trading stops (exclusive).
    public var closesAtSecondOfDay: Int64

    public init(opensAtSecondOfDay: Int64, closesAtSecondOfDay: Int64) {
        self.opensAtSecondOfDay = opensAtSecondOfDay
        self.closesAtSecondOfDay = closesAtSecondOfDay
    }

    /// US regular hours, 09:30–16:00 New York time, as 14:30–21:00 UTC (standard time; DST ignored).
    public static let usRegularHoursUTC = TradingSession(opensAtSecondOfDay: 14 * 3600 + 1800, closesAtSecondOfDay: 21 * 3600)

    /// True when trading is open at the given Unix time in nanoseconds.
    public func isOpen(atUnixNanos time: Int64) -> Bool {
        let secondsPerDay: Int64 = 86_400
        var second = (time / 1_000_000_000) % secondsPerDay
        if second < 0 { second += secondsPerDay }
        if opensAtSecondOfDay <= closesAtSecondOfDay {
            return second >= opensAtSecondOfDay && second < closesAtSecondOfDay
        }
        return second >= opensAtSecondOfDay || second < closesAtSecondOfDay
    }
}
