/// Counters of a running sink, for its status line and final summary.
public struct SinkStatistics: Sendable, Hashable {
    /// Quotes inserted into SQLite.
    public var stored = 0
    /// Records already stored (offset below the partition's stored next offset), skipped.
    public var redelivered = 0
    /// Records whose value is not a quote: counted, logged, their offsets stored.
    public var undecodable = 0
    /// Transactions committed.
    public var batches = 0
    /// Batches rolled back because a newer owner had claimed a partition.
    public var fenced = 0
    /// Generations this member was assigned partitions in.
    public var assignments = 0
    /// Partitions currently claimed.
    public var partitions = 0
    /// Records between the consumer's position and the high watermark, summed over the
    /// claimed partitions, at the last sample.
    public var lag: Int64 = 0
    /// Seconds since the sink started.
    public var elapsedSeconds: Double = 0

    public init() {}

    /// One line for a terminal or a log: `stored 120,000 quotes · 2,001/s · lag 12 · 41 batches · 8 partitions`.
    public func statusLine(ratePerSecond: Double) -> String {
        var line = "stored \(Self.grouped(stored)) quotes · \(Self.grouped(Int(ratePerSecond.rounded())))/s · lag \(Self.grouped(Int(lag)))"
        line += " · \(Self.grouped(batches)) batches · \(partitions) partitions"
        if undecodable > 0 { line += " · \(Self.grouped(undecodable)) undecodable" }
        if fenced > 0 { line += " · \(fenced) fenced" }
        return line
    }

    /// The final summary.
    public var summary: String {
        let rate = elapsedSeconds > 0 ? Double(stored) / elapsedSeconds : 0
        var text = "sink: stored \(Self.grouped(stored)) quotes in \(Self.grouped(batches)) transactions"
        text += " over \(String(format1: elapsedSeconds)) s (\(Self.grouped(Int(rate.rounded())))/s)"
        text += "; \(Self.grouped(redelivered)) redelivered records skipped, \(Self.grouped(undecodable)) undecodable"
        text += ", \(fenced) fenced batches, \(assignments) assignments"
        return text
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }
}

extension String {
    /// A Double with one decimal.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
