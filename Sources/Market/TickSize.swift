/// Prices on the tick grid. The model keeps prices as whole numbers of
/// ``TickSize/unitsPerDollar`` (ten-thousandths of a dollar), so a price turned
/// into a `Double` is the nearest double to its decimal value (`18913 / 100`
/// prints as `189.13`, never `189.13000000000002`).
///
/// Tick size follows the US rule (Reg NMS 612): 0.0001 below $1, 0.01 from $1 up.
public enum TickSize {
    /// Price units in one dollar: the finest tick is one unit.
    public static let unitsPerDollar: Int64 = 10_000
    /// Prices at or above this many units ($1.00) move in cents.
    public static let centThreshold: Int64 = 10_000

    /// The tick, in price units, for a price given in price units.
    @inline(__always)
    public static func tickUnits(atUnits units: Int64) -> Int64 {
        units < centThreshold ? 1 : 100
    }

    /// The tick in dollars for a price in dollars (0.0001 below $1, else 0.01).
    public static func tick(for price: Double) -> Double {
        price < 1 ? 0.0001 : 0.01
    }

    /// Rounds a price in dollars to its tick, in price units; never below one unit.
    @inline(__always)
    public static func roundedUnits(_ price: Double) -> Int64 {
        guard price.isFinite, price > 0 else { return 1 }
        let raw = (min(price, 1e12) * Double(unitsPerDollar)).rounded()
        var units = Int64(raw)
        if units >= centThreshold {
            units = ((units + 50) / 100) * 100
        }
        return max(units, 1)
    }

    /// Rounds a price in dollars to its tick and returns dollars.
    public static func round(_ price: Double) -> Double {
        dollars(roundedUnits(price))
    }

    /// Price units as dollars: the nearest double to `units / 10_000`.
    @inline(__always)
    public static func dollars(_ units: Int64) -> Double {
        Double(units) / Double(unitsPerDollar)
    }
}
