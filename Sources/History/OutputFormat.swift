/// How query results are printed: aligned columns for people, CSV and JSON lines for tools.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table
    case csv
    case jsonl
}

/// Field-level text encodings shared by the formatters.
enum TextEncoding {
    /// Shortest text that reads back as the same Double; JSON `null` for NaN and infinities.
    static func number(_ value: Double) -> String {
        value.isFinite ? value.description : "null"
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A CSV field, quoted (RFC 4180) only when it must be.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}

/// Columns padded to their widest cell, separated by two spaces; numbers right-aligned.
struct TextTable {
    struct Column {
        var title: String
        var rightAligned: Bool
    }

    var columns: [Column]
    var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    func render() -> String {
        var widths = columns.map(\.title.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        var out = ""
        for cells in [columns.map(\.title)] + rows {
            var line = ""
            for (index, cell) in cells.enumerated() where index < columns.count {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                if index > 0 { line += "  " }
                line += columns[index].rightAligned ? padding + cell : cell + padding
            }
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
