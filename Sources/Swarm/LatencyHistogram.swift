import Histogram

/// End-to-end latency in microseconds, in an HdrHistogram covering 1 µs … 60 s
/// with 3 significant digits.
///
/// Values above 60 s are recorded as 60 s and counted in `clamped`; negative
/// latencies (clock skew between hosts) are recorded as 0. Histograms from
/// different workers merge exactly: bucket counts are added, percentiles are
/// never averaged.
public struct LatencyHistogram: Sendable, Equatable {
    public static let lowestMicros: UInt64 = 1
    public static let highestMicros: UInt64 = 60_000_000
    public static let significantDigits = SignificantDigits.three

    public private(set) var histogram: Histogram<UInt64>
    /// How many recorded values were above the 60 s ceiling.
    public private(set) var clamped: UInt64 = 0

    public init() {
        histogram = Histogram(lowestDiscernibleValue: Self.lowestMicros, highestTrackableValue: Self.highestMicros,
                              numberOfSignificantValueDigits: Self.significantDigits)
    }

    public var count: UInt64 { histogram.totalCount }
    public var isEmpty: Bool { histogram.totalCount == 0 }

    /// Records a latency given in nanoseconds.
    public mutating func record(nanos: Int64) {
        record(micros: nanos <= 0 ? 0 : UInt64(nanos / 1000))
    }

    /// Records `count` latencies of `micros` microseconds.
    public mutating func record(micros: UInt64, count: UInt64 = 1) {
        guard count > 0 else { return }
        if micros > Self.highestMicros {
            clamped += count
            histogram.record(Self.highestMicros, count: count)
        } else {
            histogram.record(micros, count: count)
        }
    }

    /// Adds every count of `other` (exact merge).
    public mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
        clamped += other.clamped
    }

    /// The latency at a percentile (0…100), microseconds; 0 when empty.
    public func micros(atPercentile percentile: Double) -> UInt64 {
        isEmpty ? 0 : histogram.valueAtPercentile(percentile)
    }

    /// The largest recorded latency (its bucket's highest equivalent value), microseconds.
    public var maxMicros: UInt64 { isEmpty ? 0 : histogram.max }

    public var meanMicros: Double { histogram.mean }

    /// The percentile distribution (HdrHistogram's percentile iteration, 5 ticks
    /// per half distance), as plotted in reports.
    public func distribution(ticksPerHalfDistance: Int = 5) -> [PercentilePoint] {
        guard !isEmpty else { return [] }
        return histogram.percentiles(ticksPerHalfDistance: ticksPerHalfDistance).map {
            PercentilePoint(percentile: $0.percentileLevelIteratedTo, micros: $0.value, totalCount: $0.totalCountToThisValue)
        }
    }

    /// The non-empty buckets, for shipping to the coordinator.
    public func serialized() -> SerializedHistogram {
        var buckets: [[UInt64]] = []
        for value in histogram.recordedValues() {
            buckets.append([value.value, value.count])
        }
        let minimum = histogram.min
        return SerializedHistogram(totalCount: count, clamped: clamped, buckets: buckets,
                                   minValue: minimum > 0 ? minimum : nil, maxValue: isEmpty ? nil : histogram.maxRecorded)
    }

    /// Rebuilds a histogram from its shipped buckets; each bucket's value lands in the
    /// same bucket it came from, so the counts are exactly the sender's. The exact
    /// extremes, when shipped, are recorded in their own buckets so the rebuilt
    /// histogram reports the same minimum and maximum as the sender's.
    public init(_ serialized: SerializedHistogram) throws(SwarmError) {
        self.init()
        var total: UInt64 = 0
        for bucket in serialized.buckets {
            guard bucket.count == 2 else { throw .malformedHistogram("bucket of \(bucket.count) numbers, expected [value, count]") }
            guard bucket[0] <= Self.highestMicros * 2 else { throw .malformedHistogram("value \(bucket[0]) µs is out of range") }
            var value = bucket[0]
            var count = bucket[1]
            if let minimum = serialized.minValue, count > 0, histogram.valuesAreEquivalent(value, minimum) {
                histogram.record(minimum)
                count -= 1
            }
            if let maximum = serialized.maxValue, count > 0, histogram.valuesAreEquivalent(value, maximum) {
                histogram.record(maximum)
                count -= 1
                if count > 0 { value = maximum }
            }
            if count > 0 { histogram.record(value, count: count) }
            total += bucket[1]
        }
        guard total == serialized.totalCount else {
            throw .malformedHistogram("buckets add up to \(total), total says \(serialized.totalCount)")
        }
        clamped = serialized.clamped
    }
}

/// A histogram as it travels in a worker report: `[value µs, count]` per non-empty bucket.
public struct SerializedHistogram: Codable, Sendable, Equatable {
    public var totalCount: UInt64
    public var clamped: UInt64
    public var buckets: [[UInt64]]
    /// The exact smallest non-zero and largest values recorded (optional).
    public var minValue: UInt64?
    public var maxValue: UInt64?

    public init(totalCount: UInt64, clamped: UInt64, buckets: [[UInt64]], minValue: UInt64? = nil, maxValue: UInt64? = nil) {
        self.totalCount = totalCount
        self.clamped = clamped
        self.buckets = buckets
        self.minValue = minValue
        self.maxValue = maxValue
    }
}

/// One step of a percentile distribution.
public struct PercentilePoint: Sendable, Equatable, Codable {
    public var percentile: Double
    public var micros: UInt64
    public var totalCount: UInt64
}
