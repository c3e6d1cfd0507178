/// Prints candles as a table, CSV or JSON lines.
///
/// CSV and JSON lines carry `sym,start,open,high,low,close,vol,count` with `start` (the bucket
/// start) in Unix nanoseconds; the table shows it as UTC time. Every line ends with "\n".
public struct CandleFormatter: Sendable {
    public var format: OutputFormat

    public init(format: OutputFormat) {
        self.format = format
    }

    /// The CSV header line; nil for the other formats.
    public var header: String? {
        format == .csv ? "sym,start,open,high,low,close,vol,count\n" : nil
    }

    /// One candle as a CSV or JSON line (a table line is not aligned: use `render`).
    public func line(_ candle: Candle) -> String {
        switch format {
        case .csv:
            return "\(TextEncoding.csvField(candle.symbol)),\(candle.start),\(TextEncoding.number(candle.open)),"
                + "\(TextEncoding.number(candle.high)),\(TextEncoding.number(candle.low)),"
                + "\(TextEncoding.number(candle.close)),\(candle.volume),\(candle.count)\n"
        case .jsonl:
            return "{\"sym\":\(TextEncoding.jsonString(candle.symbol)),\"start\":\(candle.start),"
                + "\"open\":\(TextEncoding.number(candle.open)),\"high\":\(TextEncoding.number(candle.high)),"
                + "\"low\":\(TextEncoding.number(candle.low)),\"close\":\(TextEncoding.number(candle.close)),"
                + "\"vol\":\(candle.volume),\"count\":\(candle.count)}\n"
        case .table:
            return Self.tableCells(candle).joined(separator: "  ") + "\n"
        }
    }

    /// The whole output for `candles`, header included.
    public func render(_ candles: [Candle]) -> String {
        switch format {
        case .csv, .jsonl:
            return candles.reduce(into: header ?? "") { $0 += line($1) }
        case .table:
            var table = TextTable([
                .init(title: "start", rightAligned: false), .init(title: "sym", rightAligned: false),
                .init(title: "open", rightAligned: true), .init(title: "high", rightAligned: true),
                .init(title: "low", rightAligned: true), .init(title: "close", rightAligned: true),
                .init(title: "vol", rightAligned: true), .init(title: "count", rightAligned: true),
            ])
            table.rows = candles.map(Self.tableCells)
            return table.render()
        }
    }

    private static func tableCells(_ candle: Candle) -> [String] {
        [
            CivilTime.iso8601(candle.start, fractionDigits: 0), candle.symbol,
            TextEncoding.number(candle.open), TextEncoding.number(candle.high), TextEncoding.number(candle.low),
            TextEncoding.number(candle.close), String(candle.volume), String(candle.count),
        ]
    }
}
