import Foundation
import History
import KafkaClient
import Market
import XCTest

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("history-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

extension XCTestCase {
    /// A new database path in a temporary directory that is removed after the test.
    func temporaryDatabasePath(_ name: String = "history.sqlite") throws -> String {
        let directory = try TemporaryDirectory()
        addTeardownBlock { directory.remove() }
        return directory.path(name)
    }
}

/// Builds sink records the way the sink would see them: symbols spread over partitions,
/// `seq` gap-free per symbol from 1, offsets gap-free per partition from 0.
struct RecordFactory {
    let topic: String
    let symbols: [String]
    let partitions: Int32
    var nextSeq: [String: UInt64] = [:]
    var nextOffset: [Int32: Int64] = [:]
    var clock: Int64 = 1_732_459_980_000_000_000

    init(topic: String = "prices", symbolCount: Int, partitions: Int32) {
        self.topic = topic
        symbols = (0..<symbolCount).map { "S\($0)" }
        self.partitions = partitions
    }

    func partition(of symbol: String) -> Int32 {
        Int32(symbols.firstIndex(of: symbol)! % Int(partitions))
    }

    mutating func record(symbol: String) -> SinkRecord {
        let seq = (nextSeq[symbol] ?? 0) + 1
        nextSeq[symbol] = seq
        let partition = partition(of: symbol)
        let offset = nextOffset[partition] ?? 0
        nextOffset[partition] = offset + 1
        clock += 1_000_000
        let price = 100 + Double(seq % 100) / 4
        let quote = Quote(symbol: symbol, seq: seq, bid: price - 0.25, ask: price + 0.25, last: price, volume: 100, timestamp: clock)
        return SinkRecord(quote, topic: topic, partition: partition, offset: offset)
    }

    /// `count` records, cycling through the symbols.
    mutating func records(_ count: Int) -> [SinkRecord] {
        (0..<count).map { record(symbol: symbols[$0 % symbols.count]) }
    }

    var allPartitions: [TopicPartition] {
        (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
    }
}

func quote(_ symbol: String, seq: UInt64, ts: Int64, last: Double, volume: Int64 = 1) -> Quote {
    Quote(symbol: symbol, seq: seq, bid: last - 0.01, ask: last + 0.01, last: last, volume: volume, timestamp: ts)
}
