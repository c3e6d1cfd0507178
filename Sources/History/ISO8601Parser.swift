/// Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:]MM]` to Unix nanoseconds, keeping
/// all nine fraction digits. A time without a zone is UTC.
enum ISO8601Parser {
    static func parse(_ text: String, original: String) throws(TimeSpecError) -> Int64 {
        var scanner = Scanner(bytes: Array(text.utf8))
        func fail(_ reason: String) -> TimeSpecError { TimeSpecError(input: original, reason: reason) }

        guard let year = scanner.number(digits: 4), scanner.take("-"),
              let month = scanner.number(digits: 2), scanner.take("-"),
              let day = scanner.number(digits: 2)
        else { throw fail("expected an ISO-8601 date YYYY-MM-DD") }
        guard (1...12).contains(month), (1...CivilTime.daysInMonth(year: year, month: month)).contains(day) else {
            throw fail("no such date")
        }
        var seconds = CivilTime.days(year: year, month: month, day: day) * CivilTime.secondsPerDay
        var fraction: Int64 = 0
        if scanner.take("T") || scanner.take("t") || scanner.take(" ") {
            guard let hour = scanner.number(digits: 2), scanner.take(":"), let minute = scanner.number(digits: 2),
                  hour < 24, minute < 60
            else { throw fail("expected a time HH:MM[:SS]") }
            seconds += hour * 3600 + minute * 60
            if scanner.take(":") {
                guard let second = scanner.number(digits: 2), second < 60 else { throw fail("bad seconds") }
                seconds += second
                if scanner.take(".") || scanner.take(",") {
                    let digits = scanner.digits()
                    guard let value = TimeSpec.fractionNanoseconds(Substring(digits)) else {
                        throw fail("a fraction of a second has 1 to 9 digits")
                    }
                    fraction = value
                }
            }
            if scanner.take("Z") || scanner.take("z") {
                // UTC
            } else if let sign = scanner.sign() {
                guard let hours = scanner.number(digits: 2) else { throw fail("bad zone offset") }
                _ = scanner.take(":")
                guard let minutes = scanner.number(digits: 2), hours < 24, minutes < 60 else { throw fail("bad zone offset") }
                seconds -= sign * (hours * 3600 + minutes * 60)
            }
        }
        guard scanner.atEnd else { throw fail("unexpected text after the time") }
        return seconds * CivilTime.nanosecondsPerSecond + fraction
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func number(digits count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += count
            return value
        }

        mutating func digits() -> String {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func sign() -> Int64? {
            if take("+") { return 1 }
            if take("-") { return -1 }
            return nil
        }
    }
}
