import Foundation
import KafkaProtocol
import Testing

@testable import Broker

@Suite struct OffsetStoreTests {
    private func key(_ topic: String, _ partition: Int32) -> GroupTopicPartition {
        GroupTopicPartition(topic: topic, partition: partition)
    }

    private func offset(_ value: Int64, _ metadata: String? = nil) -> CommittedOffset {
        CommittedOffset(offset: value, leaderEpoch: 0, metadata: metadata, commitTimestampMs: 1_700_000_000_000)
    }

    @Test func commitsSurviveReopenWithMetadataAndDeletes() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        do {
            let store = try OffsetStore(directory: directory.path, syncEveryCommit: true)
            #expect(try store.commit(group: "g1", [(key("prices", 0), offset(10, "sink@gen3")), (key("prices", 1), offset(20))]) == [.none, .none])
            #expect(try store.commit(group: "g1", [(key("prices", 0), offset(15, ""))]) == [.none])
            #expect(try store.commit(group: "g2", [(key("other", 3), offset(7))]) == [.none])
            try store.deleteGroup("g2")
            store.close()
        }
        let reopened = try OffsetStore(directory: directory.path, syncEveryCommit: false)
        #expect(reopened.committed(group: "g1", topic: "prices", partition: 0) == offset(15, ""))
        #expect(reopened.committed(group: "g1", topic: "prices", partition: 1) == offset(20))
        #expect(reopened.committed(group: "g2", topic: "other", partition: 3) == nil)
        #expect(reopened.groupIDs == ["g1"])
        #expect(reopened.all(group: "g1").count == 2)
    }

    @Test func tornOrCorruptTailIsCutAndEarlierCommitsKept() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/offsets.journal"
        do {
            let store = try OffsetStore(directory: directory.path, syncEveryCommit: true)
            _ = try store.commit(group: "g", [(key("t", 0), offset(1))])
            _ = try store.commit(group: "g", [(key("t", 0), offset(2))])
            store.close()
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let intact = bytes.count
        bytes[bytes.count - 3] ^= 0xFF  // corrupt the second entry
        bytes.append(contentsOf: [0, 0, 0, 9, 1, 2])  // and a torn third
        try bytes.write(to: URL(fileURLWithPath: path))
        let reopened = try OffsetStore(directory: directory.path, syncEveryCommit: true)
        #expect(reopened.committed(group: "g", topic: "t", partition: 0)?.offset == 1)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(size < intact, "the journal was truncated after the last intact entry")
        _ = try reopened.commit(group: "g", [(key("t", 0), offset(3))])
        reopened.close()
        #expect(try OffsetStore(directory: directory.path, syncEveryCommit: true)
            .committed(group: "g", topic: "t", partition: 0)?.offset == 3)
    }

    @Test func oversizedMetadataIsRefusedPerPartition() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = try OffsetStore(directory: directory.path, syncEveryCommit: false)
        let errors = try store.commit(group: "g", [(key("t", 0), offset(1, String(repeating: "x", count: 5000))),
                                                  (key("t", 1), offset(2))])
        #expect(errors == [.offsetMetadataTooLarge, .none])
        #expect(store.committed(group: "g", topic: "t", partition: 0) == nil)
        #expect(store.committed(group: "g", topic: "t", partition: 1)?.offset == 2)
    }

    @Test func journalIsCompactedToTheLiveEntries() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let store = try OffsetStore(directory: directory.path, syncEveryCommit: false)
        for round in 0..<6_000 {
            _ = try store.commit(group: "g", [(key("t", 0), offset(Int64(round))), (key("t", 1), offset(Int64(round * 2)))])
        }
        store.close()
        let size = try FileManager.default.attributesOfItem(atPath: directory.path + "/offsets.journal")[.size] as! Int
        #expect(size < 6_000 * 2 * 40 / 2, "12 000 entries were compacted at least once")
        let reopened = try OffsetStore(directory: directory.path, syncEveryCommit: false)
        #expect(reopened.committed(group: "g", topic: "t", partition: 0)?.offset == 5_999)
        #expect(reopened.committed(group: "g", topic: "t", partition: 1)?.offset == 11_998)
    }
}
