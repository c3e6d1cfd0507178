import Foundation

/// A client→server request frame (JSON text), parsed with `JSONSerialization`:
/// requests are rare, so this is not a hot path.
///
/// - `{"op":"subscribe","symbols":["AAPL","MSFT"]}` (`"*"` subscribes to every symbol)
/// - `{"op":"unsubscribe","symbols":["AAPL"]}`
/// - `{"op":"resume","token":"0:17,3:12345","symbols":["AAPL"]}`
public enum ClientRequest: Sendable, Hashable {
    case subscribe(symbols: [String])
    case unsubscribe(symbols: [String])
    case resume(token: ResumeToken, symbols: [String])

    /// Why a request frame was refused; the text goes back in an `error` frame.
    public enum ParseError: Error, Hashable, CustomStringConvertible {
        case notJSONObject
        case missingField(String)
        case unknownOp(String)
        case invalidSymbol(String)
        case badToken(ResumeToken.ParseError)

        public var description: String {
            switch self {
            case .notJSONObject: return "request is not a JSON object"
            case .missingField(let field): return "request lacks '\(field)'"
            case .unknownOp(let op): return "unknown op '\(op)'"
            case .invalidSymbol(let symbol): return "invalid symbol '\(symbol)'"
            case .badToken(let error): return error.description
            }
        }
    }

    /// Longest symbol accepted.
    static let maxSymbolLength = 32

    public init(parsing bytes: [UInt8]) throws(ParseError) {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw ParseError.notJSONObject
            }
            object = parsed
        } catch {
            throw .notJSONObject
        }
        guard let op = object["op"] as? String else { throw .missingField("op") }
        switch op {
        case "subscribe":
            self = .subscribe(symbols: try Self.symbols(in: object))
        case "unsubscribe":
            self = .unsubscribe(symbols: try Self.symbols(in: object))
        case "resume":
            guard let text = object["token"] as? String else { throw .missingField("token") }
            let token: ResumeToken
            do { token = try ResumeToken(parsing: text) } catch { throw .badToken(error) }
            self = .resume(token: token, symbols: try Self.symbols(in: object))
        default:
            throw .unknownOp(op)
        }
    }

    private static func symbols(in object: [String: Any]) throws(ParseError) -> [String] {
        guard let list = object["symbols"] as? [Any] else { throw .missingField("symbols") }
        var symbols: [String] = []
        symbols.reserveCapacity(list.count)
        for item in list {
            guard let symbol = item as? String else { throw .invalidSymbol(String(describing: item)) }
            guard isValidSymbol(symbol) else { throw .invalidSymbol(symbol) }
            symbols.append(symbol)
        }
        return symbols
    }

    /// 1–32 characters of `A-Z a-z 0-9 . - _ ^ = :`, or the wildcard `*`.
    public static func isValidSymbol(_ symbol: String) -> Bool {
        if symbol == "*" { return true }
        let utf8 = symbol.utf8
        guard !utf8.isEmpty, utf8.count <= maxSymbolLength else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "^"),
                 UInt8(ascii: "="), UInt8(ascii: ":"):
                return true
            default:
                return false
            }
        }
    }
}
