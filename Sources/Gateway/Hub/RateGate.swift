/// Caps one client's updates per symbol per second.
///
/// With a cap of `maxRate` the gate lets one update of a symbol through every
/// `1 / maxRate` seconds. Updates arriving sooner are held, the newest replacing an
/// older one (counted in `conflatedCount`); `due(now:)` releases a held update once
/// its symbol may send again.
struct RateGate: Sendable {
    /// Nanoseconds between two updates of the same symbol; 0 lets everything through.
    let intervalNanos: UInt64
    private var nextAllowed: [String: UInt64] = [:]
    private var held: [String: ServerFrame] = [:]
    /// Updates replaced while held.
    private(set) var conflatedCount = 0

    init(maxRate: Int) {
        intervalNanos = maxRate > 0 ? 1_000_000_000 / UInt64(maxRate) : 0
    }

    var isUnlimited: Bool { intervalNanos == 0 }
    var heldCount: Int { held.count }

    /// The frame if it may be sent now, or nil if it was held.
    mutating func admit(symbol: String, frame: ServerFrame, now: UInt64) -> ServerFrame? {
        if isUnlimited { return frame }
        if held[symbol] == nil, now >= nextAllowed[symbol, default: 0] {
            nextAllowed[symbol] = now + intervalNanos
            return frame
        }
        if held.updateValue(frame, forKey: symbol) != nil {
            conflatedCount += 1
        }
        return nil
    }

    /// Held frames whose symbol may send again at `now`, oldest offset first.
    mutating func due(now: UInt64) -> [(symbol: String, frame: ServerFrame)] {
        if held.isEmpty { return [] }
        var released: [(symbol: String, frame: ServerFrame)] = []
        for (symbol, frame) in held where now >= nextAllowed[symbol, default: 0] {
            released.append((symbol, frame))
        }
        for entry in released {
            held.removeValue(forKey: entry.symbol)
            nextAllowed[entry.symbol] = now + intervalNanos
        }
        return released.sorted { $0.frame.offset < $1.frame.offset }
    }

    /// Forgets a symbol (after unsubscribe).
    mutating func remove(symbol: String) {
        held.removeValue(forKey: symbol)
        nextAllowed.removeValue(forKey: symbol)
    }
}
