/// A point in time as typed on the command line.
///
/// - `now`
/// - relative, meaning that long ago: `30s`, `10m`, `2h`, `1d`, `500ms`, `1.5h`, `1h30m`
/// - ISO-8601: `2026-11-26T10:00:00Z`, `2026-11-26T10:00:00.123456789+02:00`,
///   `2026-11-26 10:00`, `2026-11-26` (no zone means UTC)
/// - a Unix time number, its unit told by its size: seconds (below 10^11, fractions
///   allowed), milliseconds (below 10^14), microseconds (below 10^17), else nanoseconds.
public enum TimeSpec: Sendable, Hashable {
    case now
    /// This many nanoseconds before now.
    case ago(nanoseconds: Int64)
    /// Unix nanoseconds.
    case absolute(nanoseconds: Int64)

    /// The Unix nanoseconds this spec names, given the current time.
    public func resolve(now: Int64) -> Int64 {
        switch self {
        case .now: return now
        case .ago(let nanoseconds): return now - nanoseconds
        case .absolute(let nanoseconds): return nanoseconds
        }
    }

    /// Parses any of the forms above.
    public init(parsing text: String) throws(TimeSpecError) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw TimeSpecError(input: text, reason: "empty time") }
        if trimmed.lowercased() == "now" {
            self = .now
        } else if trimmed.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || ($0 >= 0x30 && $0 <= 0x39) }) {
            self = .absolute(nanoseconds: try Self.parseUnixNumber(trimmed, original: text))
        } else if trimmed.utf8.count >= 10, trimmed.utf8.dropFirst(4).first == UInt8(ascii: "-") {
            self = .absolute(nanoseconds: try ISO8601Parser.parse(trimmed, original: text))
        } else {
            self = .ago(nanoseconds: try Self.parseRelative(trimmed, original: text))
        }
    }

    private static func parseUnixNumber(_ text: String, original: String) throws(TimeSpecError) -> Int64 {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int64(parts[0]) else {
            throw TimeSpecError(input: original, reason: "not a Unix time number")
        }
        if parts.count == 2 {
            guard whole < 100_000_000_000, let fraction = fractionNanoseconds(parts[1]) else {
                throw TimeSpecError(input: original, reason: "only Unix seconds may have a fraction")
            }
            return whole * 1_000_000_000 + fraction
        }
        switch whole {
        case ..<100_000_000_000: return whole * 1_000_000_000
        case ..<100_000_000_000_000: return whole * 1_000_000
        case ..<100_000_000_000_000_000: return whole * 1000
        default: return whole
        }
    }

    /// Nanoseconds of a decimal fraction's digits (`"5"` → 500_000_000); nil unless 1...9 digits.
    static func fractionNanoseconds(_ digits: Substring) -> Int64? {
        guard (1...9).contains(digits.count), let value = Int64(digits) else { return nil }
        var scaled = value
        for _ in digits.count..<9 { scaled *= 10 }
        return scaled
    }

    private static let units: [(suffix: String, nanoseconds: Double)] = [
        ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86_400e9),
    ]

    private static func parseRelative(_ text: String, original: String) throws(TimeSpecError) -> Int64 {
        var rest = Substring(text.lowercased())
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else {
                throw TimeSpecError(input: original, reason: "expected now, a duration like 10m, an ISO-8601 time or a Unix time")
            }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.suffix == unitText }) else {
                throw TimeSpecError(input: original, reason: "a duration needs a unit: ms, s, m, h or d")
            }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.nanoseconds
        }
        guard total < 9.2e18 else { throw TimeSpecError(input: original, reason: "duration too long") }
        return Int64(total.rounded())
    }
}

/// Why a time could not be parsed.
public struct TimeSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var input: String
    public var reason: String

    public var description: String { "invalid time '\(input)': \(reason)" }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
