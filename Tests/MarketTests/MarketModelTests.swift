import XCTest
@testable import Market

final class MarketModelTests: XCTestCase {
    static let catalog: SymbolCatalog = {
        do { return try SymbolCatalogTests.loadFixture() } catch { fatalError("fixture: \(error)") }
    }()

    private func model(seed: UInt64, symbols: Int = 500, configure: (inout MarketModelConfiguration) -> Void = { _ in }) throws -> MarketModel {
        var configuration = MarketModelConfiguration(seed: seed)
        configure(&configuration)
        return try MarketModel(symbols: Self.catalog.first(symbols), configuration: configuration)
    }

    private func run(_ model: inout MarketModel, count: Int) -> [Quote] {
        var quotes: [Quote] = []
        quotes.reserveCapacity(count)
        for _ in 0..<count {
            guard let quote = model.next() else { XCTFail("no quote"); break }
            quotes.append(quote)
        }
        return quotes
    }

    func testSameSeedGivesIdenticalSequenceAndOtherSeedDiffers() throws {
        var first = try model(seed: 42)
        var second = try model(seed: 42)
        var other = try model(seed: 43)
        let a = run(&first, count: 100_000)
        let b = run(&second, count: 100_000)
        let c = run(&other, count: 100_000)
        XCTAssertEqual(a.count, 100_000)
        XCTAssertTrue(a == b, "same seed must give the same quotes")
        XCTAssertNotEqual(a, c)
        let differing = zip(a, c).filter { $0.0 != $0.1 }.count
        XCTAssertGreaterThan(differing, 99_000)
    }

    func testInvariantsHoldOverOneMillionUpdates() throws {
        var market = try model(seed: 7, configure: { $0.jumpProbability = 0.001 })
        var nextSeq = [String: UInt64]()
        var spreadTicksSeen = Set<Int64>()
        for step in 0..<1_000_000 {
            guard let update = market.nextUpdate() else { return XCTFail("no quote at step \(step)") }
            let quote = update.quote
            XCTAssertEqual(quote.symbol, market.symbols[update.symbolIndex].ticker)
            if !(quote.bid > 0 && quote.bid <= quote.last && quote.last <= quote.ask && quote.bid < quote.ask && quote.volume > 0) {
                return XCTFail("bad quote at step \(step): \(quote)")
            }
            let expected = (nextSeq[quote.symbol] ?? 0) + 1
            if quote.seq != expected { return XCTFail("seq \(quote.seq) for \(quote.symbol), expected \(expected)") }
            nextSeq[quote.symbol] = expected
            // Prices lie on the tick grid of the last price.
            let lastUnits = TickSize.roundedUnits(quote.last)
            XCTAssertEqual(TickSize.dollars(lastUnits), quote.last)
            let tick = TickSize.tickUnits(atUnits: lastUnits)
            let spreadUnits = Int64((quote.ask * 10_000).rounded()) - Int64((quote.bid * 10_000).rounded())
            XCTAssertEqual(spreadUnits % tick, 0)
            spreadTicksSeen.insert(spreadUnits / tick)
        }
        XCTAssertEqual(nextSeq.values.reduce(0, +), 1_000_000)
        XCTAssertEqual(market.stepCount, 1_000_000)
        XCTAssertTrue(spreadTicksSeen.contains(1))
        XCTAssertGreaterThan(spreadTicksSeen.max() ?? 0, 3, "spreads widen with volatility")
    }

    func testBusySymbolsTickMoreThanQuietOnes() throws {
        var market = try model(seed: 1)
        var counts = [Int](repeating: 0, count: market.symbols.count)
        for _ in 0..<100_000 {
            counts[market.nextUpdate()!.symbolIndex] += 1
        }
        let busiest = market.symbols.indices.max { market.symbols[$0].typicalVolume < market.symbols[$1].typicalVolume }!
        let quietest = market.symbols.indices.min { market.symbols[$0].typicalVolume < market.symbols[$1].typicalVolume }!
        XCTAssertEqual(market.symbols[busiest].ticker, "NVDA")
        XCTAssertGreaterThan(counts[busiest], counts[quietest] * 10)
        // NVDA has 240M of ~6.5G total volume: about 3.7 % of updates.
        let share = Double(counts[busiest]) / 100_000
        XCTAssertEqual(share, 240_000_000 / Double(market.symbols.reduce(0) { $0 + $1.typicalVolume }), accuracy: 0.003)
    }

    func testPricesMoveButStayNearReferenceOverAShortRun() throws {
        // A minute of market time per simulated second: 50 s is 50 market minutes.
        var market = try model(seed: 3, symbols: 20, configure: { $0.timeScale = 60 })
        _ = run(&market, count: 50_000)
        var moved = 0
        for index in 0..<20 {
            let reference = market.symbols[index].referencePrice
            let last = market.lastPrice(symbolAt: index)
            if last != TickSize.round(reference) { moved += 1 }
            XCTAssertEqual(last / reference, 1, accuracy: 0.2, market.symbols[index].ticker)
        }
        XCTAssertGreaterThanOrEqual(moved, 18)
    }

    func testSymbolsOfOneSectorMoveTogether() throws {
        var market = try model(seed: 12, symbols: 20, configure: { $0.timeScale = 60; $0.sectorCorrelation = 0.8; $0.jumpProbability = 0 })
        let apple = 0, microsoft = 1, exxon = market.symbols.firstIndex { $0.ticker == "XOM" }!
        XCTAssertEqual(market.symbols[microsoft].sector, market.symbols[apple].sector)
        XCTAssertNotEqual(market.symbols[exxon].sector, market.symbols[apple].sector)
        var returns: [[Double]] = [[], [], []]
        var previous = [apple, microsoft, exxon].map { market.lastPrice(symbolAt: $0) }
        for _ in 0..<400 {
            for _ in 0..<1_000 { _ = market.nextUpdate() }
            for (slot, index) in [apple, microsoft, exxon].enumerated() {
                let price = market.lastPrice(symbolAt: index)
                returns[slot].append(price / previous[slot] - 1)
                previous[slot] = price
            }
        }
        func correlation(_ x: [Double], _ y: [Double]) -> Double {
            let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
            var sxy = 0.0, sxx = 0.0, syy = 0.0
            for (a, b) in zip(x, y) {
                sxy += (a - mx) * (b - my)
                sxx += (a - mx) * (a - mx)
                syy += (b - my) * (b - my)
            }
            return sxy / (sxx * syy).squareRoot()
        }
        let sameSector = correlation(returns[0], returns[1])
        let crossSector = correlation(returns[0], returns[2])
        XCTAssertGreaterThan(sameSector, 0.6)
        XCTAssertLessThan(crossSector.magnitude, 0.25)
    }

    func testHaltedSymbolDoesNotTickUntilHaltEnds() throws {
        var market = try model(seed: 5, symbols: 10)
        XCTAssertTrue(market.halt(ticker: "NVDA", forSeconds: 10))
        let nvda = market.symbols.firstIndex { $0.ticker == "NVDA" }!
        // 1000 updates/s: 10 s of simulated time is 10,000 steps.
        for _ in 0..<9_999 {
            XCTAssertNotEqual(market.nextUpdate()?.symbolIndex, nvda)
        }
        XCTAssertTrue(market.isHalted(symbolAt: nvda))
        XCTAssertEqual(market.quoteCount(symbolAt: nvda), 0)
        for _ in 0..<2_000 { _ = market.nextUpdate() }
        XCTAssertFalse(market.isHalted(symbolAt: nvda))
        XCTAssertGreaterThan(market.quoteCount(symbolAt: nvda), 0)
        XCTAssertEqual(market.lastQuote(symbolAt: nvda)?.seq, market.quoteCount(symbolAt: nvda))
        XCTAssertFalse(market.halt(ticker: "NOPE", forSeconds: 1))
    }

    func testAllSymbolsHaltedGivesNoQuote() throws {
        var market = try model(seed: 5, symbols: 3)
        for index in 0..<3 { market.halt(symbolAt: index, forSeconds: 1) }
        XCTAssertNil(market.nextUpdate())
        market.resume(symbolAt: 1)
        XCTAssertEqual(market.nextUpdate()?.symbolIndex, 1)
    }

    func testRandomHaltsKeepSequencesGapFree() throws {
        var market = try model(seed: 9, symbols: 50, configure: { $0.haltProbability = 0.001; $0.haltSeconds = 2 })
        var seqs = [String: UInt64]()
        for _ in 0..<50_000 {
            guard let quote = market.next() else { continue }
            XCTAssertEqual(quote.seq, (seqs[quote.symbol] ?? 0) + 1)
            seqs[quote.symbol] = quote.seq
        }
    }

    func testClosedSessionProducesNothingAndOpenSessionTrades() throws {
        // Start at 21:00:00 UTC, just as US regular hours close.
        let closeInstant: Int64 = 1_732_482_000_000_000_000 // 2024-11-24T21:00:00Z
        XCTAssertFalse(TradingSession.usRegularHoursUTC.isOpen(atUnixNanos: closeInstant))
        XCTAssertTrue(TradingSession.usRegularHoursUTC.isOpen(atUnixNanos: closeInstant - 1))
        var closed = try model(seed: 2, symbols: 5, configure: { $0.session = .usRegularHoursUTC; $0.startTimestamp = closeInstant })
        for _ in 0..<100 { XCTAssertNil(closed.next()) }
        XCTAssertEqual(closed.simulatedTime, closeInstant + 100_000_000)
        var open = try model(seed: 2, symbols: 5, configure: { $0.session = .usRegularHoursUTC; $0.startTimestamp = closeInstant - 3_600_000_000_000 })
        XCTAssertEqual(open.next()?.timestamp, closeInstant - 3_600_000_000_000 + 1_000_000)
        let overnight = TradingSession(opensAtSecondOfDay: 22 * 3600, closesAtSecondOfDay: 2 * 3600)
        XCTAssertTrue(overnight.isOpen(atUnixNanos: 1 * 3_600_000_000_000))
        XCTAssertFalse(overnight.isOpen(atUnixNanos: 12 * 3_600_000_000_000))
    }

    func testTimestampOverrideAndTickSizeBelowOneDollar() throws {
        let penny = SymbolInfo(ticker: "PNY", name: "Penny Co.", sector: .materials, referencePrice: 0.5, dailyVolatility: 0.05, typicalVolume: 1_000_000)
        var market = try MarketModel(symbols: [penny], configuration: MarketModelConfiguration(seed: 11))
        for step in 0..<10_000 {
            let quote = market.next(timestamp: 1_000 + Int64(step))!
            XCTAssertEqual(quote.timestamp, 1_000 + Int64(step))
            XCTAssertEqual(quote.seq, UInt64(step + 1))
            XCTAssertEqual(quote.last, TickSize.round(quote.last))
            XCTAssertGreaterThanOrEqual(quote.ask - quote.bid, 0.0001 - 1e-12)
        }
    }

    func testInvalidInputsAreTypedErrors() {
        XCTAssertThrowsError(try MarketModel(symbols: [])) { XCTAssertEqual($0 as? MarketModelError, .noSymbols) }
        var configuration = MarketModelConfiguration()
        configuration.updatesPerSecond = 0
        XCTAssertThrowsError(try MarketModel(symbols: Self.catalog.first(1), configuration: configuration)) {
            XCTAssertEqual($0 as? MarketModelError, .invalidConfiguration(field: "updatesPerSecond", value: "0.0"))
        }
        let bad = SymbolInfo(ticker: "BAD", name: "Bad", sector: .energy, referencePrice: 0, dailyVolatility: 0.01, typicalVolume: 1)
        XCTAssertThrowsError(try MarketModel(symbols: [bad])) {
            XCTAssertEqual($0 as? MarketModelError, .invalidSymbol(ticker: "BAD", reason: "reference price must be > 0"))
        }
    }
}
