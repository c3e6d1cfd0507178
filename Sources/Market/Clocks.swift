#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A source of nanosecond readings. ``RatePacer`` and ``RateMeter`` take plain
/// readings, so tests drive them with a fake clock and production with
/// ``SystemMonotonicClock``.
public protocol NanosecondClock: Sendable {
    /// The current reading in nanoseconds.
    func nanoseconds() -> UInt64
}

/// `CLOCK_MONOTONIC`: never jumps backwards, unrelated to the calendar; use it for pacing.
public struct SystemMonotonicClock: NanosecondClock {
    public init() {}

    public func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}

/// `CLOCK_REALTIME` as Unix nanoseconds: what a quote's `ts` holds.
public struct SystemWallClock: NanosecondClock {
    public init() {}

    public func nanoseconds() -> UInt64 {
        UInt64(clamping: unixNanoseconds())
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public func unixNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}
