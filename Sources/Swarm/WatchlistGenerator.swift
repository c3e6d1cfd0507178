import Foundation

/// Builds each client's watchlist: `size` distinct symbols drawn with a
/// popularity skew, reproducibly from a seed.
///
/// Symbol `i` of the list (0-based, the list's order is its popularity order) has
/// weight `1 / (i + 1)^skew` — Zipf's law. With the default skew of 1 over 500
/// symbols and watchlists of 20, the first symbol is in nearly every watchlist and
/// the tail in few, as real watchlists are. Drawing is without replacement
/// (Efraimidis–Spirakis weighted sampling: key = u^(1/w), keep the `size` largest keys).
/// A client's watchlist depends only on the seed and the client's global index,
/// not on how clients are spread over worker processes.
public struct WatchlistGenerator: Sendable {
    public let symbols: [String]
    public let size: Int
    public let skew: Double
    public let seed: UInt64
    private let inverseWeights: [Double]

    public static let defaultSkew = 1.0

    public init(symbols: [String], size: Int, skew: Double = WatchlistGenerator.defaultSkew, seed: UInt64) {
        self.symbols = symbols
        self.size = max(0, min(size, symbols.count))
        self.skew = skew
        self.seed = seed
        inverseWeights = symbols.indices.map { pow(Double($0 + 1), skew) }
    }

    /// The watchlist of the client with global index `client`, most popular first.
    public func watchlist(forClient client: Int) -> [String] {
        guard size > 0 else { return [] }
        var generator = SeededGenerator(seed: seed, stream: UInt64(client), purpose: 1)
        // log(key) = log(u) / w = log(u) * inverseWeight; larger is better.
        var keyed: [(key: Double, index: Int)] = []
        keyed.reserveCapacity(symbols.count)
        for index in symbols.indices {
            let u = max(generator.nextUnit(), Double.leastNonzeroMagnitude)
            keyed.append((Foundation.log(u) * inverseWeights[index], index))
        }
        keyed.sort { $0.key > $1.key || ($0.key == $1.key && $0.index < $1.index) }
        return keyed.prefix(size).map(\.index).sorted().map { symbols[$0] }
    }

    /// The partitions a watchlist needs, ascending, given the topic's partitioner
    /// (the caller passes murmur2 over the symbol key, as producers use).
    public static func partitions(for watchlist: some Sequence<String>, partition: (String) -> Int32) -> [Int32] {
        Set(watchlist.map(partition)).sorted()
    }
}
