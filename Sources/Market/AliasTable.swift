/// Walker's alias method (Vose's construction): O(n) to build, O(1) to draw an
/// index with probability proportional to its weight. The market model uses it to
/// pick which symbol ticks next, weighted by activity.
public struct AliasTable: Sendable {
    /// Probability of keeping column `i` rather than taking its alias.
    private var keep: [Double]
    private var alias: [Int]

    /// The number of outcomes.
    public var count: Int { keep.count }

    /// Builds the table; nil when `weights` is empty, holds a negative or non-finite
    /// weight, or sums to zero.
    public init?(weights: [Double]) {
        let n = weights.count
        guard n > 0 else { return nil }
        var total = 0.0
        for weight in weights {
            guard weight.isFinite, weight >= 0 else { return nil }
            total += weight
        }
        guard total > 0, total.isFinite else { return nil }

        var scaled = weights.map { $0 * Double(n) / total }
        keep = Array(repeating: 1, count: n)
        alias = Array(0..<n)
        var small: [Int] = []
        var large: [Int] = []
        small.reserveCapacity(n)
        large.reserveCapacity(n)
        for (index, value) in scaled.enumerated() {
            if value < 1 { small.append(index) } else { large.append(index) }
        }
        while let less = small.popLast(), let more = large.last {
            keep[less] = scaled[less]
            alias[less] = more
            scaled[more] = (scaled[more] + scaled[less]) - 1
            if scaled[more] < 1 {
                large.removeLast()
                small.append(more)
            }
        }
        // Whatever is left (rounding residue) keeps its own column with certainty.
        for index in large { keep[index] = 1 }
        for index in small { keep[index] = 1 }
    }

    /// Draws one index in `0..<count`.
    @inline(__always)
    public func sample(using random: inout MarketRandom) -> Int {
        let position = random.uniform() * Double(keep.count)
        var column = Int(position)
        if column >= keep.count { column = keep.count - 1 }
        let fraction = position - Double(column)
        return fraction < keep[column] ? column : alias[column]
    }

    /// The probability that ``sample(using:)`` returns `index` (for tests and reports).
    public func probability(of index: Int) -> Double {
        let n = Double(keep.count)
        var p = keep[index] / n
        for column in 0..<keep.count where alias[column] == index && column != index {
            p += (1 - keep[column]) / n
        }
        return p
    }
}
