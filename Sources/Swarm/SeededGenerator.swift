import Foundation

/// A small, fast, reproducible random number generator (SplitMix64).
///
/// Every random decision in the swarm (watchlists, churn times, pauses, which
/// clients are slow) comes from one of these, derived from the run's `--seed`
/// and a stable identity (client index, purpose), so a run is reproducible
/// whatever the number of worker processes.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// A generator for one purpose of one client: independent streams from one seed.
    public init(seed: UInt64, stream: UInt64, purpose: UInt64 = 0) {
        var mixer = SeededGenerator(seed: seed ^ 0x5851_F42D_4C95_7F2D)
        let a = mixer.next()
        var second = SeededGenerator(seed: a ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        let b = second.next()
        state = b ^ (purpose &* 0xD6E8_FEB8_6659_FD93)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1).
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53))
    }

    /// An exponentially distributed wait with the given mean (for Poisson arrivals).
    public mutating func nextExponential(mean: Double) -> Double {
        -mean * Foundation.log(1 - nextUnit())
    }
}
