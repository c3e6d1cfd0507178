/// Which symbols a client may subscribe to, from its token's `symbols` claim.
public enum SymbolPermission: Sendable, Hashable {
    /// Every symbol (no auth configured, or the claim holds `"*"`).
    case all
    /// Only these symbols.
    case only(Set<String>)

    /// Permission from a token claim: `"*"` anywhere means all symbols.
    public init(claim symbols: [String]) {
        self = symbols.contains("*") ? .all : .only(Set(symbols))
    }

    public func allows(_ symbol: String) -> Bool {
        switch self {
        case .all: return true
        case .only(let allowed): return allowed.contains(symbol)
        }
    }

    /// Whether the client may subscribe to the `*` wildcard (every symbol).
    public var allowsWildcard: Bool { self == .all }
}
