import KafkaClient
import KafkaProtocol
import Market
import NIOCore
import Synchronization

/// Re-publishes replayed quotes to a topic: keyed by symbol like the pricer's, `ts`
/// rewritten to the send time (Unix ns) and the original `ts` kept in the record header
/// `original-ts` (decimal ASCII nanoseconds).
public final class ReplayPublisher: Sendable {
    /// The header that carries a replayed quote's original `ts`.
    public static let originalTimestampHeader = "original-ts"

    public let producer: KafkaProducer
    public let topic: String
    private let wallClock = SystemWallClock()
    private let outcome = Mutex((acknowledged: 0, failed: 0, lastError: String?.none))


    public init(producer: KafkaProducer, topic: String) {
        self.producer = producer
        self.topic = topic
    }

    /// Queues one quote (returns once it is in the producer's buffer).
    public func publish(_ stored: StoredQuote) async throws {
        var quote = stored.quote
        let original = quote.timestamp
        quote.timestamp = wallClock.unixNanoseconds()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(quote.maximumJSONLength)
        try quote.encodeJSON(into: &bytes)
        let header = RecordHeader(key: Self.originalTimestampHeader, value: ByteBuffer(string: String(original)))
        try await producer.send(
            topic: topic, key: ByteBuffer(string: quote.symbol), value: ByteBuffer(bytes: bytes),
            headers: [header], timestamp: quote.timestamp / 1_000_000
        ) { [self] result in
            self.outcome.withLock {
                switch result {
                case .success: $0.acknowledged += 1
                case .failure(let error):
                    $0.failed += 1
                    $0.lastError = "\(error)"
                }
            }
        }
    }

    /// Waits for every queued quote's answer; returns how many the broker acknowledged,
    /// how many failed, and the last failure.
    public func finish() async -> (acknowledged: Int, failed: Int, lastError: String?) {
        await producer.flush()
        return outcome.withLock { $0 }
    }
}
