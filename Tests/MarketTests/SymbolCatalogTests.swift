import Foundation
import XCTest
@testable import Market

final class SymbolCatalogTests: XCTestCase {
    static let fixtureURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures").appendingPathComponent("symbols.csv")

    static func loadFixture() throws -> SymbolCatalog {
        try SymbolCatalog(contentsOf: fixtureURL)
    }

    func testFixtureHasAtLeast500UniqueValidSymbols() throws {
        let catalog = try Self.loadFixture()
        XCTAssertEqual(catalog.count, 634)
        XCTAssertEqual(Set(catalog.symbols.map(\.ticker)).count, catalog.count)
        for symbol in catalog.symbols {
            XCTAssertTrue(SymbolInfo.isValidTicker(symbol.ticker), symbol.ticker)
            XCTAssertGreaterThan(symbol.referencePrice, 0, symbol.ticker)
            XCTAssertGreaterThan(symbol.dailyVolatility, 0.004, symbol.ticker)
            XCTAssertLessThan(symbol.dailyVolatility, 0.1, symbol.ticker)
            XCTAssertGreaterThanOrEqual(symbol.typicalVolume, 300, symbol.ticker)
        }
        XCTAssertEqual(Set(catalog.symbols.map(\.sector)).count, 11)
    }

    func testPopularLargeCapsComeFirst() throws {
        let catalog = try Self.loadFixture()
        XCTAssertEqual(catalog.first(7).map(\.ticker), ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA"])
        XCTAssertEqual(catalog.first(20).count, 20)
        XCTAssertEqual(catalog.first(0).count, 0)
        XCTAssertEqual(catalog.first(10_000).count, 634)
        XCTAssertEqual(catalog.symbols[0], SymbolInfo(ticker: "AAPL", name: "Apple Inc.", sector: .technology, referencePrice: 189.50, dailyVolatility: 0.018, typicalVolume: 55_000_000))
    }

    func testLookupByTickerAndQuotedNamesWithCommas() throws {
        let catalog = try Self.loadFixture()
        XCTAssertEqual(catalog["AMZN"]?.name, "Amazon.com, Inc.")
        XCTAssertEqual(catalog["AMZN"]?.sector, .consumerDiscretionary)
        XCTAssertEqual(catalog["BRK.B"]?.referencePrice, 470.30)
        XCTAssertEqual(catalog.index(of: "MSFT"), 1)
        XCTAssertNil(catalog["NOPE"])
    }

    func testParsesQuotedFieldsWithCommasQuotesAndLineBreaks() throws {
        let csv = """
        ticker,name,sector,reference_price,daily_volatility,typical_volume\r
        ABC,"Alpha, Beta ""ABC"" Corp",Technology,10.5,0.02,1000\r

        XYZ,"Multi
        Line Inc.",Utilities, 0.75 ,0.01,500
        """
        let catalog = try SymbolCatalog(csv: csv)
        XCTAssertEqual(catalog.count, 2)
        XCTAssertEqual(catalog["ABC"]?.name, "Alpha, Beta \"ABC\" Corp")
        XCTAssertEqual(catalog["XYZ"]?.name, "Multi\nLine Inc.")
        XCTAssertEqual(catalog["XYZ"]?.referencePrice, 0.75)
    }

    private func loadError(_ csv: String) -> SymbolCatalogError? {
        do {
            _ = try SymbolCatalog(csv: csv)
            return nil
        } catch {
            return error
        }
    }

    func testMalformedRowsNameTheirLine() {
        let header = "ticker,name,sector,reference_price,daily_volatility,typical_volume\n"
        let good = "AAA,A Inc.,Energy,10,0.02,1000\n"
        XCTAssertEqual(loadError(header + good + good.replacingOccurrences(of: "AAA", with: "BBB") + "CCC,C Inc.,Energy,abc,0.02,1000\n"),
                       .invalidField(line: 4, field: "reference_price", value: "abc"))
        XCTAssertEqual(loadError(header + good + "BBB,B Inc.,Energy,10,0.02\n"), .wrongFieldCount(line: 3, expected: 6, found: 5))
        XCTAssertEqual(loadError(header + good + "bbb,B Inc.,Energy,10,0.02,1000\n"), .invalidField(line: 3, field: "ticker", value: "bbb"))
        XCTAssertEqual(loadError(header + good + "BBB,B Inc.,Cheese,10,0.02,1000\n"), .invalidField(line: 3, field: "sector", value: "Cheese"))
        XCTAssertEqual(loadError(header + good + "BBB,B Inc.,Energy,-1,0.02,1000\n"), .invalidField(line: 3, field: "reference_price", value: "-1"))
        XCTAssertEqual(loadError(header + good + "BBB,B Inc.,Energy,10,0.02,0\n"), .invalidField(line: 3, field: "typical_volume", value: "0"))
        XCTAssertEqual(loadError(header + good + good), .duplicateTicker(line: 3, ticker: "AAA", firstLine: 2))
        XCTAssertEqual(loadError(header + good + "BBB,\"B Inc.,Energy,10,0.02,1000\n"), .malformedCSV(.unterminatedQuote(line: 3)))
        XCTAssertEqual(loadError(header + "BBB,\"B Inc.\"x,Energy,10,0.02,1000\n"), .malformedCSV(.unexpectedCharacterAfterQuote(line: 2, column: 13)))
        XCTAssertEqual(loadError("symbol,price\n" + good), .badHeader(line: 1, found: ["symbol", "price"]))
        XCTAssertEqual(loadError(header), .empty)
        XCTAssertEqual(loadError(""), .empty)
        XCTAssertEqual(
            SymbolCatalogError.invalidField(line: 4, field: "reference_price", value: "abc").description,
            "line 4: invalid reference_price \"abc\""
        )
    }

    func testDefaultURLSearchesCurrentDirectoryAncestorsThenExecutableAncestors() throws {
        let repository = Self.fixtureURL.deletingLastPathComponent().deletingLastPathComponent()
        let fromSources = SymbolCatalog.defaultURL(
            currentDirectory: repository.appendingPathComponent("Sources/Market").path,
            executable: "/nonexistent/bin/tickstream"
        )
        XCTAssertEqual(fromSources?.standardizedFileURL.path, Self.fixtureURL.standardizedFileURL.path)
        let fromExecutable = SymbolCatalog.defaultURL(
            currentDirectory: "/",
            executable: repository.appendingPathComponent(".build/debug/tickstream").path
        )
        XCTAssertEqual(fromExecutable?.standardizedFileURL.path, Self.fixtureURL.standardizedFileURL.path)
        XCTAssertNil(SymbolCatalog.defaultURL(currentDirectory: "/proc", executable: "/proc/self/none"))
    }

    func testUnreadableFileIsATypedError() {
        XCTAssertThrowsError(try SymbolCatalog(contentsOf: URL(fileURLWithPath: "/nonexistent/symbols.csv"))) { error in
            guard case .unreadable(let path, _) = error as? SymbolCatalogError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/symbols.csv")
        }
    }
}
