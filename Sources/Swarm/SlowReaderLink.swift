/// A slow reader's link: a bandwidth cap plus a fixed added latency.
///
/// Each delivery occupies the link for `bytes / bytesPerSecond`; a delivery that
/// arrives while the link is still busy waits for it. The delivery's effective
/// receive time is when its last byte would have arrived, plus the added
/// latency. Deterministic, so slow readers are reproducible and testable.
public struct SlowReaderLink: Sendable, Equatable {
    public let bytesPerSecond: Int
    public let addedLatencyNanos: Int64
    /// When the link is next free, Unix nanoseconds.
    public private(set) var busyUntilNanos: Int64 = .min

    public init(bytesPerSecond: Int, addedLatencyNanos: Int64) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        self.addedLatencyNanos = max(0, addedLatencyNanos)
    }

    /// The delivery as the slow client experiences it (later `receivedNanos`).
    public mutating func shape(_ delivery: Delivery) -> Delivery {
        let start = max(delivery.receivedNanos, busyUntilNanos)
        let transmit = Int64(max(0, delivery.bytes)) * 1_000_000_000 / Int64(bytesPerSecond)
        busyUntilNanos = start + transmit
        var shaped = delivery
        shaped.receivedNanos = busyUntilNanos + addedLatencyNanos
        return shaped
    }
}
