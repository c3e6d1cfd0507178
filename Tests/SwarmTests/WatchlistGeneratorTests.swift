import XCTest
@testable import Swarm

final class WatchlistGeneratorTests: XCTestCase {
    private let symbols = (1...500).map { "S\($0)" }

    func testMostPopularSymbolIsInMostWatchlists() {
        let generator = WatchlistGenerator(symbols: symbols, size: 20, seed: 42)
        var appearances: [String: Int] = [:]
        for client in 0..<1000 {
            let watchlist = generator.watchlist(forClient: client)
            XCTAssertEqual(watchlist.count, 20)
            XCTAssertEqual(Set(watchlist).count, 20, "symbols in a watchlist are distinct")
            for symbol in watchlist { appearances[symbol, default: 0] += 1 }
        }
        XCTAssertGreaterThan(appearances["S1"] ?? 0, 500)
        XCTAssertGreaterThan(appearances["S1"] ?? 0, appearances["S250"] ?? 0)
        XCTAssertLessThan(appearances["S500"] ?? 0, 100)
    }

    func testSameSeedSameWatchlistsOtherSeedDifferent() {
        let a = WatchlistGenerator(symbols: symbols, size: 20, seed: 7)
        let b = WatchlistGenerator(symbols: symbols, size: 20, seed: 7)
        let c = WatchlistGenerator(symbols: symbols, size: 20, seed: 8)
        let listsA = (0..<50).map(a.watchlist(forClient:))
        XCTAssertEqual(listsA, (0..<50).map(b.watchlist(forClient:)))
        XCTAssertNotEqual(listsA, (0..<50).map(c.watchlist(forClient:)))
        XCTAssertNotEqual(a.watchlist(forClient: 0), a.watchlist(forClient: 1))
    }

    func testWatchlistLargerThanUniverseIsTheWholeUniverse() {
        let generator = WatchlistGenerator(symbols: ["A", "B", "C"], size: 10, seed: 1)
        XCTAssertEqual(generator.watchlist(forClient: 3), ["A", "B", "C"])
    }

    func testPartitionsOfAWatchlist() {
        let partitions = WatchlistGenerator.partitions(for: ["AA", "B", "CCC", "DD", "E"]) { Int32($0.count % 8) }
        XCTAssertEqual(partitions, [1, 2, 3])
    }
}
