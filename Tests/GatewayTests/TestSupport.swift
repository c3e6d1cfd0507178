import Gateway
import Synchronization
import XCTest

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let nanos = Mutex<UInt64>(0)
    func set(millis: UInt64) { nanos.withLock { $0 = millis * 1_000_000 } }
    var hubClock: HubClock {
        HubClock(monotonicNanos: { self.nanos.withLock { $0 } }, unixMillis: { 1_732_460_000_000 })
    }
}

/// The raw quote JSON as the pricer writes it.
func quoteJSON(_ symbol: String, seq: Int, last: String = "100.00") -> String {
    #"{"sym":"\#(symbol)","seq":\#(seq),"bid":99.99,"ask":100.01,"last":\#(last),"vol":100,"ts":1732460000000000000}"#
}

func quoteBytes(_ symbol: String, seq: Int) -> [UInt8] { Array(quoteJSON(symbol, seq: seq).utf8) }

func updateText(_ symbol: String, seq: Int, partition: Int32, offset: Int64) -> String {
    #"{"type":"update","quote":\#(quoteJSON(symbol, seq: seq)),"token":"\#(partition):\#(offset)"}"#
}

func snapshotText(_ symbol: String, seq: Int, partition: Int32, offset: Int64) -> String {
    #"{"type":"snapshot","quote":\#(quoteJSON(symbol, seq: seq)),"token":"\#(partition):\#(offset)"}"#
}

extension QuoteHub {
    /// Publishes a quote whose `seq` is its offset, for short tests.
    func publish(_ symbol: String, partition: Int32 = 0, offset: Int64) {
        publish(symbol: symbol, partition: partition, offset: offset, value: quoteBytes(symbol, seq: Int(offset)))
    }

    func drainTexts(_ id: ClientID) -> [String] {
        (drain(id) ?? []).map(\.text)
    }
}

/// A `prices` log in memory: records per partition and the first retained offset.
final class FakeLogReader: QuoteLogReader {
    struct Call: Hashable, Sendable { var partition: Int32; var fromOffset: Int64; var symbols: Set<String>; var limit: Int }

    let log: [Int32: [LogRecord]]
    let logStart: [Int32: Int64]
    let calls = Mutex<[Call]>([])
    /// Runs inside `read` before answering (to publish concurrently with a resume).
    let duringRead: (@Sendable () async -> Void)?

    init(log: [Int32: [LogRecord]], logStart: [Int32: Int64] = [:], duringRead: (@Sendable () async -> Void)? = nil) {
        self.log = log
        self.logStart = logStart
        self.duringRead = duringRead
    }

    func read(partition: Int32, fromOffset: Int64, symbols: Set<String>, limit: Int) async throws -> LogReadResult {
        calls.withLock { $0.append(Call(partition: partition, fromOffset: fromOffset, symbols: symbols, limit: limit)) }
        if let duringRead { await duringRead() }
        if fromOffset < logStart[partition, default: 0] { return .outOfRange }
        let records = (log[partition] ?? []).filter {
            $0.offset >= fromOffset && (symbols.isEmpty || symbols.contains($0.symbol))
        }
        return .records(Array(records.prefix(limit)))
    }

    var recordedCalls: [Call] { calls.withLock { $0 } }
}


/// Builds log records whose `seq` is their offset, and publishes the same into a hub.
func logRecords(_ entries: [(Int64, String)]) -> [LogRecord] {
    entries.map { LogRecord(offset: $0.0, symbol: $0.1, value: quoteBytes($0.1, seq: Int($0.0))) }
}
