/// A small RFC 4180 reader: comma-separated fields, fields may be quoted with `"`,
/// a quoted field may hold commas, line breaks and doubled quotes (`""`).
/// Lines may end in LF or CRLF. Blank lines are skipped.
public struct CSVParser: Sendable {
    /// One parsed record and the 1-based line on which it starts.
    public struct Row: Sendable, Hashable {
        public var line: Int
        public var fields: [String]
    }

    /// Why a CSV text could not be read.
    public enum Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        /// A quoted field was still open at the end of the text.
        case unterminatedQuote(line: Int)
        /// Something other than a comma or line end followed a closing quote.
        case unexpectedCharacterAfterQuote(line: Int, column: Int)

        public var description: String {
            switch self {
            case .unterminatedQuote(let line):
                return "line \(line): quoted field is not closed"
            case .unexpectedCharacterAfterQuote(let line, let column):
                return "line \(line), column \(column): unexpected character after closing quote"
            }
        }
    }

    public init() {}

    /// Splits `text` into rows of fields.
    public func parse(_ text: String) throws(CSVParser.Error) -> [Row] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        let bytes = Array(text.utf8)
        var rows: [Row] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var rowStartLine = 1
        var column = 1
        var index = 0
        var inQuotes = false
        var afterQuote = false
        var rowHasContent = false

        func finishField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }

        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == quote {
                    if index + 1 < bytes.count && bytes[index + 1] == quote {
                        field.append(quote)
                        index += 2
                        column += 2
                        continue
                    }
                    inQuotes = false
                    afterQuote = true
                } else {
                    field.append(byte)
                    if byte == newline { line += 1; column = 0 }
                }
                index += 1
                column += 1
                continue
            }
            switch byte {
            case comma:
                finishField()
                afterQuote = false
                rowHasContent = true
            case newline, carriageReturn:
                if byte == carriageReturn && index + 1 < bytes.count && bytes[index + 1] == newline {
                    index += 1
                }
                if rowHasContent || !field.isEmpty || afterQuote {
                    finishField()
                    rows.append(Row(line: rowStartLine, fields: fields))
                }
                fields.removeAll(keepingCapacity: true)
                afterQuote = false
                rowHasContent = false
                line += 1
                rowStartLine = line
                column = 0
            case quote where field.isEmpty && !afterQuote:
                inQuotes = true
                rowHasContent = true
            default:
                if afterQuote {
                    throw .unexpectedCharacterAfterQuote(line: line, column: column)
                }
                field.append(byte)
                rowHasContent = true
            }
            index += 1
            column += 1
        }
        if inQuotes {
            throw .unterminatedQuote(line: rowStartLine)
        }
        if rowHasContent || !field.isEmpty || afterQuote {
            finishField()
            rows.append(Row(line: rowStartLine, fields: fields))
        }
        return rows
    }
}
