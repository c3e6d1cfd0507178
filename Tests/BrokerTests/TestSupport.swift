import Foundation
import KafkaProtocol
import NIOCore
@testable import Broker

/// A fresh directory under the system temporary directory, removed by `cleanUp()`.
struct TemporaryDirectory {
    let path: String

    init(_ name: String = "tickstream-test") {
        path = NSTemporaryDirectory() + "/\(name)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Builds a batch of `count` records with keys "k<i>" and values "v<i>".
func makeBatch(count: Int, firstTimestamp: Int64 = 1_700_000_000_000, step: Int64 = 1, valuePrefix: String = "v",
               keyPrefix: String = "k", producerID: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1) -> ByteBuffer {
    var builder = RecordBatchBuilder(producerID: producerID, producerEpoch: producerEpoch, baseSequence: baseSequence)
    for index in 0..<count {
        builder.append(timestamp: firstTimestamp + Int64(index) * step,
                       key: Array("\(keyPrefix)\(index)".utf8), value: Array("\(valuePrefix)\(index)".utf8))
    }
    return builder.finish()
}

/// All records in a buffer of concatenated batches.
func decodeRecords(_ buffer: ByteBuffer?) throws -> [Record] {
    guard let buffer else { return [] }
    var records: [Record] = []
    for batch in RecordBatchSequence(buffer) {
        records += try batch.records()
    }
    return records
}
