/// One price update for one symbol: the record value of the `prices` topic.
///
/// Wire form (DESIGN.md, data contracts), fixed field order:
/// `{"sym":"AAPL","seq":1234,"bid":189.12,"ask":189.14,"last":189.13,"vol":300,"ts":1732460000123456789}`
/// `seq` is per symbol and gap-free starting at 1; `timestamp` is the
/// calculator's send time in Unix nanoseconds.
public struct Quote: Sendable, Hashable {
    public var symbol: String
    public var seq: UInt64
    public var bid: Double
    public var ask: Double
    public var last: Double
    public var volume: Int64
    /// Unix time in nanoseconds, taken just before the quote is sent.
    public var timestamp: Int64

    public init(symbol: String, seq: UInt64, bid: Double, ask: Double, last: Double, volume: Int64, timestamp: Int64) {
        self.symbol = symbol
        self.seq = seq
        self.bid = bid
        self.ask = ask
        self.last = last
        self.volume = volume
        self.timestamp = timestamp
    }
}
