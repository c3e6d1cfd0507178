import Foundation
import KafkaClient
import Logging
import Market

extension HistorySink {
    /// The records waiting for the next transaction.
    struct PendingBatch {
        var version: UInt64 = 0
        var records: [SinkRecord] = []
        var advancing: [TopicPartition: Int64] = [:]
        var deadline: ContinuousClock.Instant?
        var polledRecords = 0

        var isEmpty: Bool { records.isEmpty && advancing.isEmpty }

        /// What the write loop does with records polled at `polledVersion` of the claims.
        enum Admission: Equatable {
            /// The claims moved after the poll: the records are stale (the poll loop re-seeks
            /// and reads them again), and so is the batch.
            case dropBoth
            /// The batch holds records of an older version (re-read from the new positions):
            /// it goes; the polled records start a new batch.
            case replaceBatch
            /// Same version: the records join the batch.
            case append
        }

        func admission(ofPolledVersion polledVersion: UInt64, current: UInt64) -> Admission {
            if polledVersion != current { return .dropBoth }
            if polledRecords > 0 && version != polledVersion { return .replaceBatch }
            return .append
        }
    }

    /// Takes polled records, batches them and writes each batch in one transaction, until
    /// the handoff closes; then writes what is pending.
    func writeLoop(group: KafkaGroupConsumer, store: HistoryStore, handoff: RecordHandoff<PolledRecords>) async throws {
        var batch = PendingBatch()
        while true {
            let timeout = batch.deadline.map { max(.zero, $0 - ContinuousClock.now) }
            let polled = await handoff.take(timeout: timeout)
            if let polled {
                switch batch.admission(ofPolledVersion: polled.version, current: ownership.version) {
                case .dropBoth:
                    batch = PendingBatch()
                    continue
                case .replaceBatch:
                    // Never drop these records with the stale batch: they are the first ones
                    // from the positions just sought, and nothing would read them again.
                    batch = PendingBatch()
                case .append:
                    break
                }
                if batch.polledRecords == 0 {
                    batch.version = polled.version
                    batch.deadline = ContinuousClock.now + configuration.batchInterval
                }
                add(polled.records, to: &batch)
                if batch.polledRecords < configuration.batchSize, let deadline = batch.deadline, ContinuousClock.now < deadline {
                    continue
                }
            }
            if !batch.isEmpty {
                try await flush(batch, group: group, store: store)
            }
            batch = PendingBatch()
            if polled == nil, await handoff.isClosed { return }
        }
    }

    private func add(_ records: [ConsumerRecord], to batch: inout PendingBatch) {
        let claimed = ownership.snapshot.partitions
        batch.polledRecords += records.count
        batch.records.reserveCapacity(batch.polledRecords)
        for record in records {
            let partition = record.topicPartition
            guard claimed.contains(partition) else { continue }
            do {
                guard let value = record.value else { throw QuoteDecodingError.unexpectedEnd(offset: 0) }
                let quote = try Quote(jsonBytes: value.readableBytesView)
                guard quote.seq <= UInt64(Int64.max) else { throw QuoteDecodingError.numberOutOfRange(field: "seq", offset: 0) }
                batch.records.append(SinkRecord(quote, topic: record.topic, partition: record.partition, offset: record.offset))
            } catch {
                batch.advancing[partition] = record.offset + 1
                counters.withLock { $0.undecodable += 1 }
                logger.warning("record is not a quote; skipped", metadata: [
                    "partition": "\(partition)", "offset": "\(record.offset)", "error": "\(error)",
                ])
            }
        }
    }

    private func flush(_ batch: PendingBatch, group: KafkaGroupConsumer, store: HistoryStore) async throws {
        let claims = ownership.snapshot
        guard claims.version == batch.version else { return }
        logger.trace("writing a batch", metadata: ["quotes": "\(batch.records.count)", "polled": "\(batch.polledRecords)"])
        do {
            let summary = try await store.write(quotes: batch.records, advancing: batch.advancing,
                                                owner: claims.owner, generation: claims.generation)
            counters.withLock {
                $0.stored += summary.written
                $0.redelivered += summary.skipped
                $0.batches += 1
            }
            let written = Set(batch.records.map(\.topicPartition)).union(batch.advancing.keys)
            let offsets = summary.nextOffsets.filter { written.contains($0.key) }
            let logger = self.logger
            await group.commitAsync(offsets) { error in
                if let error { logger.debug("informational offset commit failed", metadata: ["error": "\(error)"]) }
            }
        } catch HistoryError.fenced(let topic, let partition) {
            let fenced = TopicPartition(topic: topic, partition: partition)
            ownership.drop(fenced)
            counters.withLock {
                $0.fenced += 1
                $0.partitions = ownership.snapshot.partitions.count
            }
            logger.warning("partition fenced by a newer owner; batch rolled back, no longer writing it", metadata: ["partition": "\(fenced)"])
            // Our generation is stale: a commit with it fails and makes the member rejoin.
            let next = (try? store.nextOffset(fenced)) ?? nil
            try? await group.commitSync([fenced: next ?? 0])
        } catch let error as HistoryError {
            throw error
        } catch {
            ownership.bump()
            logger.warning("batch not written; re-reading from the stored offsets", metadata: ["error": "\(error)"])
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
