/// The random draws the market model needs, built on ``Xoshiro256StarStar`` with
/// fixed algorithms (uniform from the top 53 bits, Gaussian by the Marsaglia polar
/// method, Lemire's bounded integers) so results never depend on the stdlib version.
public struct MarketRandom: RandomNumberGenerator, Sendable {
    private var generator: Xoshiro256StarStar
    /// The second normal deviate of the last polar-method pair, if not yet used.
    private var spareGaussian: Double?

    public init(seed: UInt64) {
        generator = Xoshiro256StarStar(seed: seed)
        spareGaussian = nil
    }

    public mutating func next() -> UInt64 {
        generator.next()
    }

    /// Uniform in [0, 1), 53 bits of resolution.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(generator.next() >> 11) * 0x1.0p-53
    }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    @inline(__always)
    public mutating func uniformPositive() -> Double {
        Double((generator.next() >> 11) + 1) * 0x1.0p-53
    }

    /// Uniform integer in `0..<bound` (Lemire's nearly-divisionless method); 0 when `bound` is 0.
    public mutating func integer(below bound: UInt64) -> UInt64 {
        guard bound > 0 else { return 0 }
        var product = generator.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = generator.next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// True with probability `p`.
    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool {
        p > 0 && uniform() < p
    }

    /// A standard normal deviate (mean 0, variance 1), Marsaglia polar method.
    public mutating func gaussian() -> Double {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * naturalLog(s) / s).squareRoot()
                spareGaussian = v * factor
                return u * factor
            }
        }
    }

    /// exp(N(mu, sigma²)).
    public mutating func logNormal(mu: Double, sigma: Double) -> Double {
        naturalExp(mu + sigma * gaussian())
    }
}
