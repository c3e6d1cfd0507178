/// Prints stored quotes as a table, CSV or JSON lines.
///
/// CSV and JSON lines use the wire quote's field names (`sym,seq,bid,ask,last,vol,ts`, `ts`
/// in Unix nanoseconds) plus `partition` and `offset`; the table shows `ts` as UTC time
/// to the millisecond. Every line ends with "\n".
public struct QuoteFormatter: Sendable {
    public var format: OutputFormat

    public init(format: OutputFormat) {
        self.format = format
    }

    /// The CSV header line; nil for the other formats (the table's header comes with `render`).
    public var header: String? {
        format == .csv ? "sym,seq,bid,ask,last,vol,ts,partition,offset\n" : nil
    }

    /// One quote as a CSV or JSON line, for streaming output. A table line is not aligned
    /// with its neighbours: use `render` for tables.
    public func line(_ stored: StoredQuote) -> String {
        let quote = stored.quote
        switch format {
        case .csv:
            return "\(TextEncoding.csvField(quote.symbol)),\(quote.seq),\(TextEncoding.number(quote.bid)),"
                + "\(TextEncoding.number(quote.ask)),\(TextEncoding.number(quote.last)),\(quote.volume),"
                + "\(quote.timestamp),\(stored.partition),\(stored.offset)\n"
        case .jsonl:
            return "{\"sym\":\(TextEncoding.jsonString(quote.symbol)),\"seq\":\(quote.seq),"
                + "\"bid\":\(TextEncoding.number(quote.bid)),\"ask\":\(TextEncoding.number(quote.ask)),"
                + "\"last\":\(TextEncoding.number(quote.last)),\"vol\":\(quote.volume),\"ts\":\(quote.timestamp),"
                + "\"partition\":\(stored.partition),\"offset\":\(stored.offset)}\n"
        case .table:
            return Self.tableCells(stored).joined(separator: "  ") + "\n"
        }
    }

    /// The whole output for `quotes`, header included.
    public func render(_ quotes: [StoredQuote]) -> String {
        switch format {
        case .csv, .jsonl:
            return quotes.reduce(into: header ?? "") { $0 += line($1) }
        case .table:
            var table = TextTable([
                .init(title: "time", rightAligned: false), .init(title: "sym", rightAligned: false),
                .init(title: "seq", rightAligned: true), .init(title: "bid", rightAligned: true),
                .init(title: "ask", rightAligned: true), .init(title: "last", rightAligned: true),
                .init(title: "vol", rightAligned: true), .init(title: "partition", rightAligned: true),
                .init(title: "offset", rightAligned: true),
            ])
            table.rows = quotes.map(Self.tableCells)
            return table.render()
        }
    }

    private static func tableCells(_ stored: StoredQuote) -> [String] {
        let quote = stored.quote
        return [
            CivilTime.iso8601(quote.timestamp, fractionDigits: 3), quote.symbol, String(quote.seq),
            TextEncoding.number(quote.bid), TextEncoding.number(quote.ask), TextEncoding.number(quote.last),
            String(quote.volume), String(stored.partition), String(stored.offset),
        ]
    }
}
