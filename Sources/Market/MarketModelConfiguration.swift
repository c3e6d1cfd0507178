/// The knobs of ``MarketModel``. The defaults give a calm, realistic market at
/// 1000 updates a second; every value is validated by the model's initializer.
public struct MarketModelConfiguration: Sendable, Hashable {
    /// Seed of the model's own generator: the same seed and symbols give the same quotes.
    public var seed: UInt64 = 42
    /// The aggregate update rate the simulated clock assumes: each update advances
    /// simulated time by `1 / updatesPerSecond` seconds, whatever the wall clock says,
    /// so the sequence never depends on scheduling jitter.
    public var updatesPerSecond: Double = 1000
    /// Simulated Unix time (ns) before the first update; also the default quote timestamp base.
    public var startTimestamp: Int64 = 1_732_460_000_000_000_000
    /// Market seconds that pass per simulated second (60 makes a minute of price
    /// movement happen every second). Scales volatility and trade sizes.
    public var timeScale: Double = 1
    /// Share of each symbol's variance that comes from its sector's common factor (0...1).
    public var sectorCorrelation: Double = 0.4
    /// Probability, per update, that the updating symbol's price jumps.
    public var jumpProbability: Double = 0.0002
    /// Standard deviation of a jump's log size (0.02 ≈ a 2 % move).
    public var jumpVolatility: Double = 0.02
    /// Quoted spread as a fraction of price in calm markets (0.0001 = 1 basis point), at least one tick.
    public var baseSpreadFraction: Double = 0.0001
    /// Upper bound on how far recent volatility may widen the spread (a multiplier of the base).
    public var maxSpreadMultiplier: Double = 10
    /// Weight of the latest squared (normalised) return in the volatility estimate behind the spread.
    public var spreadVolatilityWeight: Double = 0.1
    /// Probability, per update, that the updating symbol starts a volume burst.
    public var burstProbability: Double = 0.001
    /// Updates of a symbol that one burst lasts.
    public var burstLength: Int = 50
    /// Trade sizes are multiplied by this during a burst.
    public var burstMultiplier: Double = 8
    /// Probability, per update, of halting a (activity-weighted) random symbol; 0 disables random halts.
    public var haltProbability: Double = 0
    /// How long a random halt lasts, in simulated seconds.
    public var haltSeconds: Double = 30
    /// Trading window; nil trades around the clock.
    public var session: TradingSession? = nil
    /// Activity weight of a symbol is `typicalVolume ^ activityExponent` (1 = proportional to volume).
    public var activityExponent: Double = 1

    public init() {}

    public init(seed: UInt64, updatesPerSecond: Double = 1000) {
        self.seed = seed
        self.updatesPerSecond = updatesPerSecond
    }
}
