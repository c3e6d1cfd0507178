/// xoshiro256** (Blackman and Vigna, 2018): the generator behind every random
/// choice of the market model. Fast, 256 bits of state, and fully determined by
/// its seed, so the same seed always yields the same quote sequence.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Seeds the 256-bit state from one 64-bit seed through ``SplitMix64``, as the
    /// authors recommend (this never yields the forbidden all-zero state in practice).
    public init(seed: UInt64) {
        var expander = SplitMix64(seed: seed)
        s0 = expander.next()
        s1 = expander.next()
        s2 = expander.next()
        s3 = expander.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, by: 45)
        return result
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}
