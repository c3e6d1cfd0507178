@testable import KafkaClient
import NIOCore
import XCTest

final class Murmur2Tests: XCTestCase {
    /// Vectors computed with the Java client's `Utils.murmur2` algorithm (they are the
    /// ones Apache Kafka's own UtilsTest checks).
    func testMurmur2MatchesJavaClient() {
        let vectors: [(String, Int32)] = [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
            ("", 275_646_681),
        ]
        for (key, expected) in vectors {
            XCTAssertEqual(Murmur2.hash(Array(key.utf8)), expected, key)
            XCTAssertEqual(Murmur2.hash(ByteBuffer(string: key)), expected, key)
        }
    }

    func testKeyedPartitionIsToPositiveModulo() {
        XCTAssertEqual(Murmur2.partition(forKey: ByteBuffer(string: "AAPL"), partitionCount: 8), 1)
        XCTAssertEqual(Murmur2.partition(forKey: ByteBuffer(string: "MSFT"), partitionCount: 8), 2)
        XCTAssertEqual(Murmur2.partition(forKey: ByteBuffer(string: "21"), partitionCount: 8), 4)
        XCTAssertEqual(Murmur2.toPositive(-1), Int32.max)
        XCTAssertEqual(Murmur2.toPositive(Int32.min), 0)
    }

    func testNullKeysGoRoundRobin() {
        var partitioner = DefaultPartitioner()
        let chosen = (0..<7).map { _ in partitioner.partition(topic: "t", key: nil, partitionCount: 3) }
        XCTAssertEqual(chosen, [0, 1, 2, 0, 1, 2, 0])
        XCTAssertEqual(partitioner.partition(topic: "other", key: nil, partitionCount: 3), 0)
    }
}
