import Foundation
@testable import History
import KafkaClient
import Market
import NIOCore
import XCTest

/// Replay from the log (`LogRangeReader`): the range is selected by the quotes' own time
/// up to its last quote, and a read never hangs: records ListOffsets promised that do not
/// come end it with an error after `stallTimeout`, the consumer's fetch error when the
/// broker is out of reach.
final class LogRangeReaderTests: XCTestCase {
    private let start: Int64 = 1_732_460_000_000_000_000

    /// `count` quotes of AAA, each stamped just before its send as the pricer does (from
    /// `fixed` on, 1 ms apart, when given; else the wall clock); returns the stamps.
    @discardableResult
    private func produceQuotes(_ count: Int, bootstrap: String, from fixed: Int64? = nil) async throws -> [Int64] {
        let client = try KafkaClusterClient(bootstrap: bootstrap)
        let producer = KafkaProducer(client: client)
        var stamps: [Int64] = []
        for index in 0..<count {
            let ts = fixed.map { $0 + Int64(index) * 1_000_000 } ?? Int64(Date().timeIntervalSince1970 * 1e9)
            let quote = Quote(symbol: "AAA", seq: UInt64(index + 1), bid: 10, ask: 10.02, last: 10.01, volume: 100, timestamp: ts)
            var json: [UInt8] = []
            try quote.encodeJSON(into: &json)
            _ = try await producer.send(topic: "prices", key: ByteBuffer(string: "AAA"), value: ByteBuffer(bytes: json))
            stamps.append(ts)
        }
        await producer.close()
        await client.close()
        return stamps
    }

    func testTheRangeIsSelectedByTheQuotesOwnTimeUpToItsLastQuote() async throws {
        let broker = try await SinkTestBroker.start(partitions: 1)
        let stamps = try await produceQuotes(10, bootstrap: broker.bootstrap)
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        // The range ends at the fifth quote's ts; its record's time (the send) is later.
        let read = try await LogRangeReader(client: client, topic: "prices").read(from: stamps[0], to: stamps[4])
        XCTAssertEqual(read.quotes.map(\.quote.seq), [1, 2, 3, 4, 5])
        XCTAssertEqual(read.quotes.map(\.offset), [0, 1, 2, 3, 4])
        XCTAssertEqual(read.undecodable, 0)
        await client.close()
        try await broker.stop()
    }

    func testRecordsThatNeverComeEndTheReadAfterTheStallTimeout() async throws {
        let broker = try await SinkTestBroker.start(partitions: 1)
        try await produceQuotes(10, bootstrap: broker.bootstrap, from: start)
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        var reader = LogRangeReader(client: client, topic: "prices")
        reader.stallTimeout = .milliseconds(500)
        let partition = TopicPartition("prices", 0)
        // The end says 1,000 records; the log holds 10: the 11th never comes.
        do {
            let read = try await reader.read(starts: [partition: 0], ends: [partition: 1000], from: start, to: .max, symbols: nil)
            XCTFail("a read missing records must not end as if complete, got \(read.quotes.count) quotes")
        } catch let error as KafkaClientError {
            guard case let .invalidState(reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("no record of prices-0 for 500 ms"), reason)
        }
        await client.close()
        try await broker.stop()
    }

    func testABrokerGoneMidReadEndsTheReadWithTheFetchError() async throws {
        let broker = try await SinkTestBroker.start(partitions: 1)
        try await produceQuotes(10, bootstrap: broker.bootstrap, from: start)
        let client = try KafkaClusterClient(bootstrap: broker.bootstrap)
        _ = try await client.metadata(for: ["prices"])  // the leader is known; the broker then goes
        try await broker.broker.shutdown()
        var reader = LogRangeReader(client: client, topic: "prices")
        reader.stallTimeout = .seconds(2)
        let partition = TopicPartition("prices", 0)
        do {
            let read = try await reader.read(starts: [partition: 0], ends: [partition: 10], from: start, to: .max, symbols: nil)
            XCTFail("nothing can be read from a broker that is gone, got \(read.quotes.count) quotes")
        } catch let error as KafkaClientError {
            XCTAssertTrue(error.isRetriable, "the consumer's fetch error (a connection refused), got \(error)")
        }
        await client.close()
        broker.directory.remove()
    }
}
