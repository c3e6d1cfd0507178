// Foundation (Essentials where available) is used only to read files and find
// paths when a catalog is loaded, never on the quote hot path.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a symbol catalog could not be loaded; every case names where.
public enum SymbolCatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// No `fixtures/symbols.csv` was found in any of the searched directories.
    case notFound(searched: [String])
    /// The CSV structure itself is broken (an unclosed quote, ...).
    case malformedCSV(CSVParser.Error)
    /// The header is not `ticker,name,sector,reference_price,daily_volatility,typical_volume`.
    case badHeader(line: Int, found: [String])
    /// A row has the wrong number of fields.
    case wrongFieldCount(line: Int, expected: Int, found: Int)
    /// A field holds a value that is not allowed (`field` is the column name).
    case invalidField(line: Int, field: String, value: String)
    /// The same ticker appears twice.
    case duplicateTicker(line: Int, ticker: String, firstLine: Int)
    /// The file has a header but no symbols.
    case empty

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .notFound(let searched): return "fixtures/symbols.csv not found (searched \(searched.joined(separator: ", ")))"
        case .malformedCSV(let error): return "symbols CSV: \(error)"
        case .badHeader(let line, let found): return "line \(line): unexpected header \(found)"
        case .wrongFieldCount(let line, let expected, let found): return "line \(line): expected \(expected) fields, found \(found)"
        case .invalidField(let line, let field, let value): return "line \(line): invalid \(field) \"\(value)\""
        case .duplicateTicker(let line, let ticker, let firstLine): return "line \(line): ticker \(ticker) already defined on line \(firstLine)"
        case .empty: return "symbols CSV holds no symbols"
        }
    }
}

/// The tradable universe, in file order (popular large caps first), with lookup by ticker.
public struct SymbolCatalog: Sendable {
    /// The column names the file must start with.
    public static let header = ["ticker", "name", "sector", "reference_price", "daily_volatility", "typical_volume"]

    /// All symbols in file order.
    public let symbols: [SymbolInfo]
    private let indexByTicker: [String: Int]

    /// A catalog of the given symbols; tickers must be unique (a later duplicate is ignored by lookup).
    public init(symbols: [SymbolInfo]) {
        self.symbols = symbols
        var index: [String: Int] = [:]
        for (position, symbol) in symbols.enumerated() where index[symbol.ticker] == nil {
            index[symbol.ticker] = position
        }
        indexByTicker = index
    }

    /// Parses the CSV text of a symbols file (header line required).
    public init(csv text: String) throws(SymbolCatalogError) {
        let rows: [CSVParser.Row]
        do {
            rows = try CSVParser().parse(text)
        } catch {
            throw .malformedCSV(error)
        }
        guard let headerRow = rows.first else { throw .empty }
        let header = headerRow.fields.map { $0.trimmingSpaces().lowercased() }
        guard header == Self.header else { throw .badHeader(line: headerRow.line, found: headerRow.fields) }

        var symbols: [SymbolInfo] = []
        symbols.reserveCapacity(rows.count)
        var firstLine: [String: Int] = [:]
        for row in rows.dropFirst() {
            let symbol = try Self.symbol(from: row)
            if let earlier = firstLine[symbol.ticker] {
                throw .duplicateTicker(line: row.line, ticker: symbol.ticker, firstLine: earlier)
            }
            firstLine[symbol.ticker] = row.line
            symbols.append(symbol)
        }
        guard !symbols.isEmpty else { throw .empty }
        self.init(symbols: symbols)
    }

    /// Reads and parses a symbols file.
    public init(contentsOf url: URL) throws(SymbolCatalogError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: "\(error)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw .unreadable(path: url.path, reason: "not UTF-8")
        }
        try self.init(csv: text)
    }

    /// Loads `fixtures/symbols.csv` found by ``defaultURL(currentDirectory:executable:)``.
    public static func loadDefault() throws(SymbolCatalogError) -> SymbolCatalog {
        guard let url = defaultURL() else {
            throw .notFound(searched: defaultSearchDirectories().map(\.path))
        }
        return try SymbolCatalog(contentsOf: url)
    }

    /// Finds `fixtures/symbols.csv` in the current directory or any of its ancestors,
    /// then in the executable's directory or any of its ancestors (so a binary under
    /// `.build/debug/` finds the checkout's fixtures). Nil when none exists.
    public static func defaultURL(currentDirectory: String? = nil, executable: String? = nil) -> URL? {
        for directory in defaultSearchDirectories(currentDirectory: currentDirectory, executable: executable) {
            let candidate = directory.appendingPathComponent("fixtures").appendingPathComponent("symbols.csv")
            if FileManager.default.fileExists(atPath: candidate.path) {
                return candidate
            }
        }
        return nil
    }

    static func defaultSearchDirectories(currentDirectory: String? = nil, executable: String? = nil) -> [URL] {
        var starts: [URL] = []
        starts.append(URL(fileURLWithPath: currentDirectory ?? FileManager.default.currentDirectoryPath, isDirectory: true))
        if let executablePath = executable ?? CommandLine.arguments.first, !executablePath.isEmpty {
            let resolved = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath()
            starts.append(resolved.deletingLastPathComponent())
        }
        var directories: [URL] = []
        var seen: Set<String> = []
        for start in starts {
            var directory = start.standardizedFileURL
            while true {
                if seen.insert(directory.path).inserted { directories.append(directory) }
                let parent = directory.deletingLastPathComponent().standardizedFileURL
                if parent.path == directory.path || directory.path == "/" { break }
                directory = parent
            }
        }
        return directories
    }

    /// The number of symbols.
    public var count: Int { symbols.count }

    /// The first `n` symbols in file order (all of them when `n` exceeds the count).
    public func first(_ n: Int) -> [SymbolInfo] {
        Array(symbols.prefix(max(0, n)))
    }

    /// The symbol with this ticker, if listed.
    public subscript(ticker: String) -> SymbolInfo? {
        indexByTicker[ticker].map { symbols[$0] }
    }

    /// The position of `ticker` in file order, if listed.
    public func index(of ticker: String) -> Int? {
        indexByTicker[ticker]
    }

    private static func symbol(from row: CSVParser.Row) throws(SymbolCatalogError) -> SymbolInfo {
        guard row.fields.count == header.count else {
            throw .wrongFieldCount(line: row.line, expected: header.count, found: row.fields.count)
        }
        let fields = row.fields.map { $0.trimmingSpaces() }
        let ticker = fields[0]
        guard SymbolInfo.isValidTicker(ticker) else { throw .invalidField(line: row.line, field: "ticker", value: ticker) }
        let name = fields[1]
        guard !name.isEmpty else { throw .invalidField(line: row.line, field: "name", value: name) }
        guard let sector = Sector(rawValue: fields[2]) else { throw .invalidField(line: row.line, field: "sector", value: fields[2]) }
        guard let price = Double(fields[3]), price.isFinite, price > 0, price < 1_000_000_000 else {
            throw .invalidField(line: row.line, field: "reference_price", value: fields[3])
        }
        guard let volatility = Double(fields[4]), volatility.isFinite, volatility >= 0, volatility < 1 else {
            throw .invalidField(line: row.line, field: "daily_volatility", value: fields[4])
        }
        guard let volume = Int64(fields[5]), volume > 0 else {
            throw .invalidField(line: row.line, field: "typical_volume", value: fields[5])
        }
        return SymbolInfo(ticker: ticker, name: name, sector: sector, referencePrice: price, dailyVolatility: volatility, typicalVolume: volume)
    }
}

extension String {
    /// Drops leading and trailing spaces and tabs (no Foundation character sets needed).
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
