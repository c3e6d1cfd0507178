/// Why a ``MarketModel`` could not be built.
public enum MarketModelError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSymbols
    /// A configuration value is out of range (`field` names it).
    case invalidConfiguration(field: String, value: String)
    /// A symbol cannot be simulated (non-positive price, zero volume, bad ticker).
    case invalidSymbol(ticker: String, reason: String)

    public var description: String {
        switch self {
        case .noSymbols: return "market model needs at least one symbol"
        case .invalidConfiguration(let field, let value): return "invalid market configuration \(field) = \(value)"
        case .invalidSymbol(let ticker, let reason): return "symbol \(ticker): \(reason)"
        }
    }
}

/// One step of the market: which symbol moved and its new quote.
public struct MarketUpdate: Sendable, Hashable {
    /// Position of the symbol in ``MarketModel/symbols``.
    public var symbolIndex: Int
    public var quote: Quote
}

/// The price calculator: a deterministic simulated market over a list of symbols.
///
/// Each call to ``nextUpdate(timestamp:)`` advances a simulated clock by one
/// interval (`1 / updatesPerSecond`), picks the symbol that trades next by
/// activity (alias table over typical volume, O(1)), and moves its price by
/// geometric Brownian motion whose noise is a common sector factor plus an
/// idiosyncratic part, with occasional Poisson jumps. Prices sit on the tick
/// grid (``TickSize``); the spread is at least one tick and widens with recent
/// volatility; trade sizes come in bursts. Halted symbols and a closed session
/// produce no quotes. Everything random comes from the seeded ``MarketRandom``:
/// the same symbols and configuration give the same quotes, bit for bit.
public struct MarketModel: Sendable {
    /// Per-symbol mutable state.
    struct SymbolState: Sendable {
        var logPrice: Double
        var lastUnits: Int64
        var seq: UInt64 = 0
        var lastTime: Int64
        var sectorFactorAtLast: Double = 0
        /// Exponentially weighted mean of squared returns divided by their expected variance (≈1 when calm).
        var volatilityRatio: Double = 1
        var burstRemaining: Int = 0
        var haltedUntil: Int64 = .min
        let sector: Int
        /// Volatility per square root of (market) second.
        let sigma: Double
        let baseTradeSize: Double
    }

    public let symbols: [SymbolInfo]
    public let configuration: MarketModelConfiguration
    private var states: [SymbolState]
    private var sectorFactor: [Double]
    private var sectorTime: [Int64]
    private let activity: AliasTable
    private var random: MarketRandom
    private let intervalNanos: Double
    private var lastQuotes: [Quote?]

    /// Updates produced or attempted so far (one per call, including calls that returned nil).
    public private(set) var stepCount: UInt64 = 0
    /// The simulated Unix time in nanoseconds of the latest step.
    public private(set) var simulatedTime: Int64

    public init(symbols: [SymbolInfo], configuration: MarketModelConfiguration = MarketModelConfiguration()) throws(MarketModelError) {
        guard !symbols.isEmpty else { throw .noSymbols }
        try Self.validate(configuration)
        let secondsPerTradingDay = 23_400.0
        var weights: [Double] = []
        weights.reserveCapacity(symbols.count)
        for symbol in symbols {
            guard symbol.referencePrice.isFinite, symbol.referencePrice > 0 else {
                throw .invalidSymbol(ticker: symbol.ticker, reason: "reference price must be > 0")
            }
            guard symbol.typicalVolume > 0 else { throw .invalidSymbol(ticker: symbol.ticker, reason: "typical volume must be > 0") }
            guard symbol.dailyVolatility.isFinite, symbol.dailyVolatility >= 0 else {
                throw .invalidSymbol(ticker: symbol.ticker, reason: "daily volatility must be >= 0")
            }
            weights.append(power(Double(symbol.typicalVolume), configuration.activityExponent))
        }
        guard let table = AliasTable(weights: weights) else {
            throw .invalidConfiguration(field: "activityExponent", value: "\(configuration.activityExponent)")
        }
        let totalWeight = weights.reduce(0, +)
        let start = configuration.startTimestamp
        var states: [SymbolState] = []
        states.reserveCapacity(symbols.count)
        for (index, symbol) in symbols.enumerated() {
            let updatesPerMarketSecond = configuration.updatesPerSecond * weights[index] / totalWeight / configuration.timeScale
            let units = TickSize.roundedUnits(symbol.referencePrice)
            states.append(SymbolState(
                logPrice: naturalLog(symbol.referencePrice),
                lastUnits: units,
                lastTime: start,
                sector: symbol.sector.index,
                sigma: symbol.dailyVolatility / secondsPerTradingDay.squareRoot(),
                baseTradeSize: Double(symbol.typicalVolume) / secondsPerTradingDay / updatesPerMarketSecond
            ))
        }
        self.symbols = symbols
        self.configuration = configuration
        self.states = states
        self.sectorFactor = Array(repeating: 0, count: Sector.allCases.count)
        self.sectorTime = Array(repeating: start, count: Sector.allCases.count)
        self.activity = table
        self.random = MarketRandom(seed: configuration.seed)
        self.intervalNanos = 1e9 / configuration.updatesPerSecond
        self.lastQuotes = Array(repeating: nil, count: symbols.count)
        self.simulatedTime = start
    }

    /// Advances one step and returns the quote, or nil when the session is closed
    /// or every symbol is halted. `timestamp` (Unix ns) stamps the quote; by default
    /// the simulated time is used.
    public mutating func next(timestamp: Int64? = nil) -> Quote? {
        nextUpdate(timestamp: timestamp)?.quote
    }

    /// Advances one step and returns which symbol moved and its quote, or nil when
    /// the session is closed or every symbol is halted.
    public mutating func nextUpdate(timestamp: Int64? = nil) -> MarketUpdate? {
        stepCount &+= 1
        let now = configuration.startTimestamp &+ Int64((Double(stepCount) * intervalNanos).rounded())
        simulatedTime = now
        if let session = configuration.session, !session.isOpen(atUnixNanos: now) {
            return nil
        }
        if random.chance(configuration.haltProbability) {
            let victim = activity.sample(using: &random)
            states[victim].haltedUntil = now &+ Int64(configuration.haltSeconds * 1e9)
        }
        guard let index = pickTradingSymbol(at: now) else { return nil }
        let quote = step(index, at: now, timestamp: timestamp ?? now)
        lastQuotes[index] = quote
        return MarketUpdate(symbolIndex: index, quote: quote)
    }

    /// The latest quote of a symbol, nil before its first update.
    public func lastQuote(symbolAt index: Int) -> Quote? {
        lastQuotes[index]
    }

    /// The latest traded price of a symbol (its reference price, tick-rounded, before any update).
    public func lastPrice(symbolAt index: Int) -> Double {
        TickSize.dollars(states[index].lastUnits)
    }

    /// The next `seq` a symbol will carry minus one: the number of quotes it has produced.
    public func quoteCount(symbolAt index: Int) -> UInt64 {
        states[index].seq
    }

    /// Stops a symbol from ticking for `seconds` of simulated time from now.
    public mutating func halt(symbolAt index: Int, forSeconds seconds: Double) {
        states[index].haltedUntil = simulatedTime &+ Int64(max(0, seconds) * 1e9)
    }

    /// Halts a symbol by ticker; false when the ticker is not simulated.
    @discardableResult
    public mutating func halt(ticker: String, forSeconds seconds: Double) -> Bool {
        guard let index = symbols.firstIndex(where: { $0.ticker == ticker }) else { return false }
        halt(symbolAt: index, forSeconds: seconds)
        return true
    }

    /// Lifts a halt at once.
    public mutating func resume(symbolAt index: Int) {
        states[index].haltedUntil = .min
    }

    /// True while the symbol is halted at the current simulated time.
    public func isHalted(symbolAt index: Int) -> Bool {
        states[index].haltedUntil > simulatedTime
    }

    private mutating func pickTradingSymbol(at now: Int64) -> Int? {
        for _ in 0..<32 {
            let candidate = activity.sample(using: &random)
            if states[candidate].haltedUntil <= now { return candidate }
        }
        // Many halts: choose among the symbols still trading, by activity, with a linear scan.
        var total = 0.0
        for (index, state) in states.enumerated() where state.haltedUntil <= now {
            total += activity.probability(of: index)
        }
        guard total > 0 else { return nil }
        var target = random.uniform() * total
        var chosen: Int?
        for (index, state) in states.enumerated() where state.haltedUntil <= now {
            chosen = index
            target -= activity.probability(of: index)
            if target < 0 { break }
        }
        return chosen
    }

    private mutating func step(_ index: Int, at now: Int64, timestamp: Int64) -> Quote {
        let config = configuration
        var state = states[index]
        let nanosToMarketSeconds = config.timeScale / 1e9

        // Sector factor: a Brownian path sampled lazily whenever one of its symbols trades.
        let sector = state.sector
        let sectorDt = Double(now &- sectorTime[sector]) * nanosToMarketSeconds
        if sectorDt > 0 {
            sectorFactor[sector] += sectorDt.squareRoot() * random.gaussian()
            sectorTime[sector] = now
        }
        let dt = max(Double(now &- state.lastTime) * nanosToMarketSeconds, 1e-12)
        let commonShock = sectorFactor[sector] - state.sectorFactorAtLast
        let ownShock = dt.squareRoot() * random.gaussian()
        let rho = config.sectorCorrelation
        let brownian = rho.squareRoot() * commonShock + (1 - rho).squareRoot() * ownShock
        let variance = state.sigma * state.sigma * dt
        var logReturn = -0.5 * variance + state.sigma * brownian
        if random.chance(config.jumpProbability) {
            logReturn += config.jumpVolatility * random.gaussian()
        }
        // Keep prices within $0.0001 ... $1e9 whatever the path does.
        state.logPrice = min(max(state.logPrice + logReturn, -9.2), 20.7)
        state.sectorFactorAtLast = sectorFactor[sector]
        state.lastTime = now

        let normalised = variance > 0 ? logReturn * logReturn / variance : 1
        let weight = config.spreadVolatilityWeight
        state.volatilityRatio = (1 - weight) * state.volatilityRatio + weight * min(normalised, 1e6)

        let lastUnits = TickSize.roundedUnits(naturalExp(state.logPrice))
        let tick = TickSize.tickUnits(atUnits: lastUnits)
        let widening = min(config.maxSpreadMultiplier, max(1, state.volatilityRatio.squareRoot()))
        let spreadTicks = max(1, Int64((Double(lastUnits) * config.baseSpreadFraction * widening / Double(tick)).rounded()))
        let bidOffset = Int64(random.integer(below: UInt64(spreadTicks) + 1))
        let bidUnits = max(1, lastUnits - bidOffset * tick)
        let askUnits = bidUnits + spreadTicks * tick
        state.lastUnits = lastUnits

        if state.burstRemaining > 0 {
            state.burstRemaining -= 1
        } else if random.chance(config.burstProbability) {
            state.burstRemaining = config.burstLength
        }
        let sizeSigma = 0.8
        var size = state.baseTradeSize * random.logNormal(mu: -0.5 * sizeSigma * sizeSigma, sigma: sizeSigma)
        if state.burstRemaining > 0 { size *= config.burstMultiplier }
        let volume: Int64
        if size >= 100 {
            volume = Int64(min(size / 100, 1e12).rounded()) * 100
        } else {
            volume = max(1, Int64(size.rounded()))
        }

        state.seq += 1
        states[index] = state
        return Quote(
            symbol: symbols[index].ticker,
            seq: state.seq,
            bid: TickSize.dollars(bidUnits),
            ask: TickSize.dollars(askUnits),
            last: TickSize.dollars(lastUnits),
            volume: volume,
            timestamp: timestamp
        )
    }

    private static func validate(_ c: MarketModelConfiguration) throws(MarketModelError) {
        func check(_ ok: Bool, _ field: String, _ value: Any) throws(MarketModelError) {
            if !ok { throw .invalidConfiguration(field: field, value: "\(value)") }
        }
        try check(c.updatesPerSecond.isFinite && c.updatesPerSecond > 0, "updatesPerSecond", c.updatesPerSecond)
        try check(c.timeScale.isFinite && c.timeScale > 0, "timeScale", c.timeScale)
        try check((0...1).contains(c.sectorCorrelation), "sectorCorrelation", c.sectorCorrelation)
        try check((0...1).contains(c.jumpProbability), "jumpProbability", c.jumpProbability)
        try check(c.jumpVolatility.isFinite && c.jumpVolatility >= 0, "jumpVolatility", c.jumpVolatility)
        try check(c.baseSpreadFraction.isFinite && c.baseSpreadFraction >= 0, "baseSpreadFraction", c.baseSpreadFraction)
        try check(c.maxSpreadMultiplier.isFinite && c.maxSpreadMultiplier >= 1, "maxSpreadMultiplier", c.maxSpreadMultiplier)
        try check((0...1).contains(c.spreadVolatilityWeight), "spreadVolatilityWeight", c.spreadVolatilityWeight)
        try check((0...1).contains(c.burstProbability), "burstProbability", c.burstProbability)
        try check(c.burstLength >= 0, "burstLength", c.burstLength)
        try check(c.burstMultiplier.isFinite && c.burstMultiplier > 0, "burstMultiplier", c.burstMultiplier)
        try check((0...1).contains(c.haltProbability), "haltProbability", c.haltProbability)
        try check(c.haltSeconds.isFinite && c.haltSeconds >= 0 && c.haltSeconds < 1e9, "haltSeconds", c.haltSeconds)
        try check(c.activityExponent.isFinite && c.activityExponent >= 0, "activityExponent", c.activityExponent)
    }
}
