import ArgumentParser
import Foundation
import History

/// `tickstream history`: read the SQLite price history the sink writes.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Query stored prices: a symbol over time, the price at a time, candles.",
        discussion: """
            TIME is now, a duration ago (30s, 10m, 2h, 1d, 1h30m), an ISO-8601 time (2026-11-26T10:00:00Z, 2026-11-26T10:00:00.250+01:00; no zone means UTC) or a Unix time in seconds, milliseconds or nanoseconds.

            Examples:
              tickstream history                      # latest quote of every symbol
              tickstream history AAPL --since 10m     # AAPL over the last 10 minutes
              tickstream history AAPL --at 2026-11-26T10:00:00Z
              tickstream history AAPL --since 1h --candles 1m --format csv
            """
    )

    @Argument(help: "Symbol to show; without one, the latest quote of every symbol (or each one's quote --at TIME).")
    var symbol: String?

    @Option(help: "The history database the sink writes.") var db = "./data/history.sqlite"
    @Option(help: "Start of the range (TIME); default: the beginning.", transform: parseTime)
    var since: TimeSpec?
    @Option(help: "End of the range (TIME); default: now.", transform: parseTime)
    var until: TimeSpec?
    @Option(help: "Show the quote in force at TIME (the last one at or before it) instead of a range.", transform: parseTime)
    var at: TimeSpec?
    @Option(help: "Show candles of this width instead of quotes: 1s or 1m.", transform: parseInterval)
    var candles: CandleInterval?
    @Option(help: "Output: table, csv or jsonl.", transform: parseFormat)
    var format: OutputFormat = .table
    @Option(help: "Show at most N rows, from the start of the range.") var limit: Int?
    @Option(help: "Show only the N most recent quotes of the range.") var last: Int?

    func validate() throws {
        if at != nil && (since != nil || until != nil || candles != nil) {
            throw ValidationError("--at shows one quote; it does not combine with --since, --until or --candles")
        }
        if candles != nil && symbol == nil { throw ValidationError("--candles needs a symbol") }
        if limit != nil && last != nil { throw ValidationError("use --limit or --last, not both") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let last, last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() throws {
        let store = try HistoryStore.openExisting(path: db)
        let now = Int64((Date().timeIntervalSince1970 * 1e9).rounded())
        let quoteFormatter = QuoteFormatter(format: format)

        if let at {
            let time = at.resolve(now: now)
            let symbols = try symbol.map { [$0] } ?? store.symbols()
            let quotes = try symbols.compactMap { try store.quote(symbol: $0, atOrBefore: time) }
            if quotes.isEmpty { FileHandle.standardError.write(Data("no quote at or before \(CivilTime.iso8601(time))\n".utf8)) }
            print(quoteFormatter.render(quotes), terminator: "")
            return
        }
        guard let symbol else {
            print(quoteFormatter.render(try store.latestQuotes()), terminator: "")
            return
        }
        let from = since?.resolve(now: now) ?? Int64.min
        let to = until?.resolve(now: now) ?? now
        if let candles {
            var rows = try store.candles(symbol: symbol, interval: candles, from: from, to: to)
            if let limit { rows = Array(rows.prefix(limit)) }
            if let last { rows = Array(rows.suffix(last)) }
            print(CandleFormatter(format: format).render(rows), terminator: "")
            return
        }
        let quotes = if let last {
            try store.latestQuotes(symbol: symbol, from: from, to: to, limit: last)
        } else {
            try store.quotes(symbol: symbol, from: from, to: to, limit: limit)
        }
        print(quoteFormatter.render(quotes), terminator: "")
    }
}

private func parseTime(_ text: String) throws -> TimeSpec {
    try TimeSpec(parsing: text)
}

private func parseInterval(_ text: String) throws -> CandleInterval {
    guard let interval = CandleInterval(rawValue: text) else { throw ValidationError("--candles must be 1s or 1m") }
    return interval
}

private func parseFormat(_ text: String) throws -> OutputFormat {
    guard let format = OutputFormat(rawValue: text) else { throw ValidationError("--format must be table, csv or jsonl") }
    return format
}
