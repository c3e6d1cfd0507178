/// The width of a candle's bucket.
public enum CandleInterval: String, Sendable, CaseIterable {
    case oneSecond = "1s"
    case oneMinute = "1m"

    /// Bucket width in nanoseconds.
    public var nanoseconds: Int64 {
        switch self {
        case .oneSecond: return 1_000_000_000
        case .oneMinute: return 60_000_000_000
        }
    }

    /// The table that stores candles of this width.
    var table: String {
        switch self {
        case .oneSecond: return "candles_1s"
        case .oneMinute: return "candles_1m"
        }
    }

    /// Start of the bucket holding `timestamp` (floor division, also for times before 1970);
    /// clamped to `Int64.min` for the first, partial bucket (an open `--since`).
    public func bucketStart(_ timestamp: Int64) -> Int64 {
        let width = nanoseconds
        let remainder = timestamp % width
        guard remainder < 0 else { return timestamp - remainder }
        let (start, overflow) = (timestamp - remainder).subtractingReportingOverflow(width)
        return overflow ? Int64.min : start
    }
}

/// Open, high, low, close of `last`, summed volume and quote count for one symbol in one bucket.
///
/// `open` is the price with the earliest `ts` in the bucket and `close` the one with the
/// latest, whatever order the quotes arrived in; on equal `ts` the quote that arrived
/// first opens and the one that arrived last closes.
public struct Candle: Sendable, Hashable {
    public var symbol: String
    /// Bucket start, Unix nanoseconds.
    public var start: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Int64
    public var count: Int64
    /// `ts` of the quote that set `open`.
    public var openTimestamp: Int64
    /// `ts` of the quote that set `close`.
    public var closeTimestamp: Int64

    public init(symbol: String, start: Int64, open: Double, high: Double, low: Double, close: Double,
                volume: Int64, count: Int64, openTimestamp: Int64, closeTimestamp: Int64) {
        self.symbol = symbol
        self.start = start
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.count = count
        self.openTimestamp = openTimestamp
        self.closeTimestamp = closeTimestamp
    }

    /// A candle of one quote.
    init(symbol: String, start: Int64, price: Double, volume: Int64, timestamp: Int64) {
        self.init(symbol: symbol, start: start, open: price, high: price, low: price, close: price,
                  volume: volume, count: 1, openTimestamp: timestamp, closeTimestamp: timestamp)
    }

    /// Folds in `later`, a candle of the same bucket made of quotes that arrived after
    /// this one's. The same rule as the SQL upsert in `CandleWriter`.
    mutating func merge(_ later: Candle) {
        if later.openTimestamp < openTimestamp {
            open = later.open
            openTimestamp = later.openTimestamp
        }
        if later.closeTimestamp >= closeTimestamp {
            close = later.close
            closeTimestamp = later.closeTimestamp
        }
        high = Swift.max(high, later.high)
        low = Swift.min(low, later.low)
        volume += later.volume
        count += later.count
    }
}

/// Collects the candles of one write batch in memory so that each (symbol, bucket) is
/// upserted once per batch instead of once per quote.
struct CandleAccumulator {
    private struct Key: Hashable {
        var symbol: String
        var start: Int64
    }

    let interval: CandleInterval
    /// The batch's candles in first-seen order, so the upserts run in a deterministic order.
    private(set) var candles: [Candle] = []
    private var indexByKey: [Key: Int] = [:]

    init(interval: CandleInterval) {
        self.interval = interval
    }

    mutating func add(symbol: String, price: Double, volume: Int64, timestamp: Int64) {
        let start = interval.bucketStart(timestamp)
        let single = Candle(symbol: symbol, start: start, price: price, volume: volume, timestamp: timestamp)
        let key = Key(symbol: symbol, start: start)
        if let index = indexByKey[key] {
            candles[index].merge(single)
        } else {
            indexByKey[key] = candles.count
            candles.append(single)
        }
    }
}
