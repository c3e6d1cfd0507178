/// What the pricer reports while running and when it stops. Formatting is pure
/// (no Foundation, no locale), so the exact text is unit-tested.
public struct PricerStatus: Sendable, Hashable {
    /// Seconds since the pricer started.
    public var elapsedSeconds: Double
    /// Quotes handed to the producer.
    public var sent: UInt64
    /// Quotes the broker acknowledged.
    public var acked: UInt64
    /// Quotes sent but not yet acknowledged or failed.
    public var inFlight: Int
    /// Quotes that failed to produce.
    public var errors: UInt64
    /// Recent send rate (quotes per second).
    public var quotesPerSecond: Double
    /// The configured rate, if any.
    public var targetRate: Double?

    public init(elapsedSeconds: Double, sent: UInt64, acked: UInt64, inFlight: Int, errors: UInt64, quotesPerSecond: Double, targetRate: Double? = nil) {
        self.elapsedSeconds = elapsedSeconds
        self.sent = sent
        self.acked = acked
        self.inFlight = inFlight
        self.errors = errors
        self.quotesPerSecond = quotesPerSecond
        self.targetRate = targetRate
    }

    /// One line for the terminal, e.g.
    /// `[   12.0s] 1,000 quotes/s (target 1,000)  sent 12,000  acked 11,950  in flight 50  errors 0`.
    public var statusLine: String {
        var line = "[" + StatusFormat.padLeft(StatusFormat.fixed(elapsedSeconds, decimals: 1), to: 7) + "s] "
        line += StatusFormat.grouped(Int64(quotesPerSecond.isFinite ? quotesPerSecond.rounded() : 0)) + " quotes/s"
        if let targetRate {
            line += " (target " + StatusFormat.grouped(Int64(targetRate.isFinite ? targetRate.rounded() : 0)) + ")"
        }
        line += "  sent " + StatusFormat.grouped(sent)
        line += "  acked " + StatusFormat.grouped(acked)
        line += "  in flight " + StatusFormat.grouped(Int64(inFlight))
        line += "  errors " + StatusFormat.grouped(errors)
        return line
    }

    /// The final report, e.g.
    /// `pricer: sent 60,000 quotes for 500 symbols in 60.0s (1,000.0 quotes/s, target 1,000); acked 60,000, errors 0, unacknowledged 0`.
    public func summary(symbols: Int) -> String {
        let rate = elapsedSeconds > 0 ? Double(sent) / elapsedSeconds : 0
        var text = "pricer: sent " + StatusFormat.grouped(sent) + " quotes for " + StatusFormat.grouped(Int64(symbols)) + " symbols in "
        text += StatusFormat.fixed(elapsedSeconds, decimals: 1) + "s (" + StatusFormat.fixed(rate, decimals: 1, grouping: true) + " quotes/s"
        if let targetRate {
            text += ", target " + StatusFormat.grouped(Int64(targetRate.isFinite ? targetRate.rounded() : 0))
        }
        let unacknowledged = sent >= acked + errors ? sent - acked - errors : 0
        text += "); acked " + StatusFormat.grouped(acked) + ", errors " + StatusFormat.grouped(errors)
        text += ", unacknowledged " + StatusFormat.grouped(unacknowledged)
        return text
    }
}

/// Locale-free number formatting for status lines.
public enum StatusFormat {
    /// `1234567` → `1,234,567`; `-1200` → `-1,200`.
    public static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }

    /// `grouped` for unsigned counters.
    public static func grouped(_ value: UInt64) -> String {
        value <= UInt64(Int64.max) ? grouped(Int64(value)) : String(value)
    }

    /// Fixed-point text with `decimals` digits after the point, rounded half away from zero:
    /// `fixed(2.345, decimals: 1)` → `2.3` (binary 2.345 is just below), `fixed(1234.5, decimals: 1, grouping: true)` → `1,234.5`.
    public static func fixed(_ value: Double, decimals: Int, grouping: Bool = false) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let places = min(max(decimals, 0), 9)
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (value.magnitude * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let units = UInt64(scaled)
        let divisor = UInt64(scale)
        let whole = units / divisor
        var text = grouping ? grouped(whole) : String(whole)
        if places > 0 {
            let fraction = String(units % divisor)
            text += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return value < 0 && units != 0 ? "-" + text : text
    }

    /// Pads `text` with spaces on the left to `width` characters.
    public static func padLeft(_ text: String, to width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
