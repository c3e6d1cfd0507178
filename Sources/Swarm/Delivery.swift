/// One quote as a transport hands it to a simulated client.
///
/// The transport decodes the record (or WebSocket frame) and stamps
/// `receivedNanos` the moment it has the bytes; everything after that is
/// accounting. `partition`/`offset` are the Kafka position of the record; a
/// transport without offsets (WebSocket) passes the gateway's sequence of the
/// stream, or -1 when it has none (such a client then resumes by symbol, not offset).
public struct Delivery: Sendable, Hashable {
    public var symbol: String
    /// Per-symbol sequence number from the quote (gap-free at the source, from 1).
    public var seq: UInt64
    /// The calculator's send time, Unix nanoseconds.
    public var timestampNanos: Int64
    public var partition: Int32
    public var offset: Int64
    /// When the client received it, Unix nanoseconds (same clock as `timestampNanos`).
    public var receivedNanos: Int64
    /// Size of the record value on the wire.
    public var bytes: Int

    public init(symbol: String, seq: UInt64, timestampNanos: Int64, partition: Int32, offset: Int64, receivedNanos: Int64, bytes: Int) {
        self.symbol = symbol
        self.seq = seq
        self.timestampNanos = timestampNanos
        self.partition = partition
        self.offset = offset
        self.receivedNanos = receivedNanos
        self.bytes = bytes
    }

    /// End-to-end latency: receive time − send time, in nanoseconds (negative only with clock skew).
    public var latencyNanos: Int64 { receivedNanos - timestampNanos }
}
