/// The eleven GICS sectors, spelled as they appear in `fixtures/symbols.csv`.
/// Symbols of one sector share a common price factor in ``MarketModel``.
public enum Sector: String, CaseIterable, Sendable, Hashable {
    case technology = "Technology"
    case communicationServices = "Communication Services"
    case consumerDiscretionary = "Consumer Discretionary"
    case consumerStaples = "Consumer Staples"
    case energy = "Energy"
    case financials = "Financials"
    case healthCare = "Health Care"
    case industrials = "Industrials"
    case materials = "Materials"
    case realEstate = "Real Estate"
    case utilities = "Utilities"

    /// A stable small index (the declaration order), used to index per-sector state.
    public var index: Int {
        Sector.allCases.firstIndex(of: self)!
    }
}
