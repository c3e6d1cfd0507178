/// One listed equity: a row of `fixtures/symbols.csv`.
public struct SymbolInfo: Sendable, Hashable {
    /// Upper-case ticker, `A`–`Z` and `.` only (e.g. `BRK.B`).
    public var ticker: String
    public var name: String
    public var sector: Sector
    /// Starting price in dollars, > 0.
    public var referencePrice: Double
    /// Standard deviation of daily log returns (0.018 = 1.8 % a day), >= 0.
    public var dailyVolatility: Double
    /// Shares traded on a typical day, > 0; drives how often the symbol ticks.
    public var typicalVolume: Int64

    public init(ticker: String, name: String, sector: Sector, referencePrice: Double, dailyVolatility: Double, typicalVolume: Int64) {
        self.ticker = ticker
        self.name = name
        self.sector = sector
        self.referencePrice = referencePrice
        self.dailyVolatility = dailyVolatility
        self.typicalVolume = typicalVolume
    }

    /// True when `ticker` is non-empty, at most 16 bytes, and made of `A`–`Z` and `.`.
    public static func isValidTicker(_ ticker: String) -> Bool {
        let bytes = ticker.utf8
        guard !bytes.isEmpty, bytes.count <= 16 else { return false }
        return bytes.allSatisfy { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || $0 == UInt8(ascii: ".") }
    }
}
