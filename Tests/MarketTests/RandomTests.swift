import XCTest
@testable import Market

final class RandomTests: XCTestCase {
    func testSplitMix64MatchesReferenceOutputs() {
        var generator = SplitMix64(seed: 0)
        XCTAssertEqual(generator.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(generator.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(generator.next(), 0x06C4_5D18_8009_454F)
    }

    func testXoshiroIsDeterministicPerSeed() {
        var a = Xoshiro256StarStar(seed: 99)
        var b = Xoshiro256StarStar(seed: 99)
        var c = Xoshiro256StarStar(seed: 100)
        let first = (0..<1000).map { _ in a.next() }
        XCTAssertEqual(first, (0..<1000).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<1000).map { _ in c.next() })
    }

    func testUniformAndGaussianMoments() {
        var random = MarketRandom(seed: 1)
        var sum = 0.0, sumSquares = 0.0, uniformSum = 0.0
        let n = 200_000
        for _ in 0..<n {
            let g = random.gaussian()
            sum += g
            sumSquares += g * g
            let u = random.uniform()
            XCTAssertTrue(u >= 0 && u < 1)
            uniformSum += u
        }
        XCTAssertEqual(sum / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(sumSquares / Double(n), 1, accuracy: 0.02)
        XCTAssertEqual(uniformSum / Double(n), 0.5, accuracy: 0.005)
        for _ in 0..<10_000 { XCTAssertLessThan(random.integer(below: 7), 7) }
        XCTAssertEqual(random.integer(below: 0), 0)
    }

    func testAliasTableProbabilitiesMatchWeights() throws {
        let weights: [Double] = [1, 2, 3, 4, 0, 10]
        let table = try XCTUnwrap(AliasTable(weights: weights))
        for (index, weight) in weights.enumerated() {
            XCTAssertEqual(table.probability(of: index), weight / 20, accuracy: 1e-12)
        }
        var random = MarketRandom(seed: 4)
        var counts = [Int](repeating: 0, count: weights.count)
        for _ in 0..<100_000 { counts[table.sample(using: &random)] += 1 }
        XCTAssertEqual(counts[4], 0)
        XCTAssertEqual(Double(counts[5]) / 100_000, 0.5, accuracy: 0.01)
        XCTAssertNil(AliasTable(weights: []))
        XCTAssertNil(AliasTable(weights: [0, 0]))
        XCTAssertNil(AliasTable(weights: [1, -1]))
        XCTAssertNil(AliasTable(weights: [1, .nan]))
    }

    func testTickRounding() {
        XCTAssertEqual(TickSize.round(189.126), 189.13)
        XCTAssertEqual(TickSize.round(0.123456), 0.1235)
        XCTAssertEqual(TickSize.round(0.99996), 1.0)
        XCTAssertEqual(TickSize.round(0), 0.0001)
        XCTAssertEqual(TickSize.round(-5), 0.0001)
        XCTAssertEqual(TickSize.tick(for: 0.5), 0.0001)
        XCTAssertEqual(TickSize.tick(for: 1), 0.01)
        XCTAssertEqual(TickSize.roundedUnits(189.13), 1_891_300)
    }
}
