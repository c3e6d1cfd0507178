import DequeModule
import KafkaProtocol
import NIOCore

/// Idempotent-producer bookkeeping for one partition (KIP-98): for each producer id, its
/// epoch and the sequence ranges and offsets of its last five batches.
///
/// A batch whose sequence range matches one of those five is a retry of a batch already
/// stored: it is answered with the original offsets and not appended again. A batch that
/// does not continue the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is
/// INVALID_PRODUCER_EPOCH. The table is rebuilt on start from a snapshot plus the batch
/// headers written after it.
struct ProducerStateTable: Equatable {
    /// Kafka keeps this many batches per producer for duplicate detection, matching the
    /// client's limit of five in-flight requests per connection.
    static let retainedBatches = 5

    struct BatchMetadata: Equatable {
        var firstSequence: Int32
        var lastSequence: Int32
        var baseOffset: Int64
        var lastOffset: Int64
        var maxTimestamp: Int64
    }

    struct Entry: Equatable {
        var epoch: Int16
        var batches: Deque<BatchMetadata>
    }

    private(set) var entries: [Int64: Entry] = [:]

    enum Check: Equatable {
        /// Append it.
        case append
        /// Already stored at these offsets: answer with them, do not append.
        case duplicate(BatchMetadata)
    }

    /// Decides what to do with an idempotent batch (producer id ≥ 0).
    func check(_ header: RecordBatchHeader) throws(AppendError) -> Check {
        guard header.hasProducerID else { return .append }
        guard let entry = entries[header.producerID] else {
            // Unknown producer: the first batch we see starts its history. (Its state may
            // have been removed with the segments that held it; Kafka accepts then too.)
            return .append
        }
        if header.producerEpoch < entry.epoch {
            throw .invalidProducerEpoch("producer \(header.producerID) epoch \(header.producerEpoch) is older than \(entry.epoch)")
        }
        if header.producerEpoch > entry.epoch {
            guard header.baseSequence == 0 else {
                throw .outOfOrderSequence("new epoch \(header.producerEpoch) of producer \(header.producerID) must start at sequence 0, not \(header.baseSequence)")
            }
            return .append
        }
        if let stored = entry.batches.first(where: { $0.firstSequence == header.baseSequence && $0.lastSequence == header.lastSequence }) {
            return .duplicate(stored)
        }
        let last = entry.batches.last?.lastSequence ?? -1
        let expected = last == Int32.max ? 0 : last + 1
        guard header.baseSequence == expected else {
            throw .outOfOrderSequence("producer \(header.producerID) sent sequence \(header.baseSequence), expected \(expected)")
        }
        return .append
    }

    /// Records an appended batch (its offsets already assigned).
    mutating func record(_ header: RecordBatchHeader) {
        guard header.hasProducerID else { return }
        let metadata = BatchMetadata(firstSequence: header.baseSequence, lastSequence: header.lastSequence,
                                     baseOffset: header.baseOffset, lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp)
        if var entry = entries[header.producerID], entry.epoch == header.producerEpoch {
            entry.batches.append(metadata)
            if entry.batches.count > Self.retainedBatches { entry.batches.removeFirst() }
            entries[header.producerID] = entry
        } else {
            entries[header.producerID] = Entry(epoch: header.producerEpoch, batches: [metadata])
        }
    }

    // MARK: - Snapshot

    private static let magic: UInt32 = 0x5453_5053  // "TSPS"

    /// The table as of `offset` (the log end when it was taken), CRC-protected.
    func snapshot(offset: Int64) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Self.magic)
        buffer.writeInteger(offset)
        buffer.writeInteger(UInt32(entries.count))
        for (producerID, entry) in entries.sorted(by: { $0.key < $1.key }) {
            buffer.writeInteger(producerID)
            buffer.writeInteger(entry.epoch)
            buffer.writeInteger(UInt8(entry.batches.count))
            for batch in entry.batches {
                buffer.writeInteger(batch.firstSequence)
                buffer.writeInteger(batch.lastSequence)
                buffer.writeInteger(batch.baseOffset)
                buffer.writeInteger(batch.lastOffset)
                buffer.writeInteger(batch.maxTimestamp)
            }
        }
        let crc = buffer.withUnsafeReadableBytes { CRC32C.checksum($0) }
        buffer.writeInteger(crc)
        return buffer
    }

    /// Reads a snapshot; nil when it is damaged (the caller then rebuilds from the log).
    static func restore(_ bytes: ByteBuffer) -> (table: ProducerStateTable, offset: Int64)? {
        guard bytes.readableBytes >= 20 else { return nil }
        let body = bytes.getSlice(at: bytes.readerIndex, length: bytes.readableBytes - 4)!
        let stored = bytes.getInteger(at: bytes.writerIndex - 4, as: UInt32.self)
        guard body.withUnsafeReadableBytes({ CRC32C.checksum($0) }) == stored else { return nil }
        var reader = body
        guard reader.readInteger(as: UInt32.self) == magic, let offset = reader.readInteger(as: Int64.self),
              let count = reader.readInteger(as: UInt32.self) else { return nil }
        var table = ProducerStateTable()
        for _ in 0..<count {
            guard let producerID = reader.readInteger(as: Int64.self), let epoch = reader.readInteger(as: Int16.self),
                  let batchCount = reader.readInteger(as: UInt8.self) else { return nil }
            var batches = Deque<BatchMetadata>()
            for _ in 0..<batchCount {
                guard let first = reader.readInteger(as: Int32.self), let last = reader.readInteger(as: Int32.self),
                      let base = reader.readInteger(as: Int64.self), let lastOffset = reader.readInteger(as: Int64.self),
                      let timestamp = reader.readInteger(as: Int64.self) else { return nil }
                batches.append(BatchMetadata(firstSequence: first, lastSequence: last, baseOffset: base, lastOffset: lastOffset,
                                             maxTimestamp: timestamp))
            }
            table.entries[producerID] = Entry(epoch: epoch, batches: batches)
        }
        return (table, offset)
    }
}
