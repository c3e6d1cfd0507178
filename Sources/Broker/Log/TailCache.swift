import DequeModule
import NIOCore

/// A block of memory that is appended to while slices of its earlier bytes are on
/// their way to sockets.
///
/// `ByteBuffer` is a value type: writing to a buffer whose storage a slice shares
/// copies the storage first. That is right in general and ruinous here, where every
/// consumer at the tail holds a slice of the newest bytes. So the block allocates its
/// whole capacity up front, hands out slices only of bytes already written, and writes
/// new bytes *past* every slice through the storage's pointer. No byte a slice can see
/// is ever written again, so readers on other threads see immutable data; publication
/// happens under the owning partition's lock.
final class AppendOnlyBlock: @unchecked Sendable {
    // @unchecked: `storage` is never mutated through ByteBuffer's API after init; the
    // unexposed tail is written under the partition lock (see above).
    private let storage: ByteBuffer
    let capacity: Int
    private(set) var used = 0

    init(capacity: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        var storage = allocator.buffer(capacity: capacity)
        storage.writeRepeatingByte(0, count: capacity)
        self.storage = storage
        self.capacity = capacity
    }

    var remaining: Int { capacity - used }

    /// Copies `bytes` after the last written byte; returns their position.
    func append(_ bytes: ByteBuffer) -> Int {
        precondition(bytes.readableBytes <= remaining, "AppendOnlyBlock overflow")
        let position = used
        storage.withUnsafeReadableBytes { destination in
            bytes.withUnsafeReadableBytes { source in
                UnsafeMutableRawPointer(mutating: destination.baseAddress!)
                    .advanced(by: position)
                    .copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
        }
        used += bytes.readableBytes
        return position
    }

    /// A zero-copy view of written bytes.
    func slice(at position: Int, length: Int) -> ByteBuffer {
        precondition(position + length <= used)
        return storage.getSlice(at: storage.readerIndex + position, length: length)!
    }
}

/// The newest few megabytes of a partition, kept in memory so that consumers at the
/// tail — nearly all of them, in a live price feed — are served slices of the same
/// bytes without a disk read or a copy. Older data is read from the segment files.
struct TailCache {
    struct Entry {
        var baseOffset: Int64
        var nextOffset: Int64
        var block: AppendOnlyBlock
        var position: Int
        var length: Int
    }

    let limitBytes: Int
    let blockSize: Int
    private var entries = Deque<Entry>()
    private var current: AppendOnlyBlock?
    private(set) var cachedBytes = 0

    init(limitBytes: Int = 4 << 20, blockSize: Int = 1 << 20) {
        self.limitBytes = limitBytes
        self.blockSize = blockSize
    }

    /// The first offset the cache can serve, if any.
    var firstOffset: Int64? { entries.first?.baseOffset }

    mutating func append(_ batch: ByteBuffer, baseOffset: Int64, nextOffset: Int64) {
        guard limitBytes > 0 else { return }
        let length = batch.readableBytes
        if current == nil || current!.remaining < length {
            current = AppendOnlyBlock(capacity: max(blockSize, length))
        }
        let position = current!.append(batch)
        entries.append(Entry(baseOffset: baseOffset, nextOffset: nextOffset, block: current!, position: position, length: length))
        cachedBytes += length
        while cachedBytes > limitBytes, entries.count > 1 {
            cachedBytes -= entries.removeFirst().length
        }
    }

    enum Lookup {
        /// The cache does not reach back to the offset: read the segment files.
        case miss
        /// Nothing to return: the offset is at the end, or the first batch exceeds the limit.
        case empty
        case batches(ByteBuffer)
    }

    /// Whole batches from the one holding `offset`, as one slice of one block, at most
    /// `maxBytes` unless `minOneBatch` admits a single larger batch.
    func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool) -> Lookup {
        guard let first = entries.first, offset >= first.baseOffset else { return .miss }
        // First entry whose batch ends after `offset`.
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].nextOffset <= offset { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count else { return .empty }
        let start = entries[low]
        if start.length > maxBytes && !minOneBatch { return .empty }
        var length = start.length
        var index = low + 1
        while index < entries.count {
            let next = entries[index]
            guard next.block === start.block, next.position == start.position + length,
                  length + next.length <= maxBytes else { break }
            length += next.length
            index += 1
        }
        return .batches(start.block.slice(at: start.position, length: length))
    }

    /// Forgets everything (after compaction or deletion rewrote history).
    mutating func removeAll() {
        entries.removeAll()
        current = nil
        cachedBytes = 0
    }

    /// Forgets batches that end at or before `offset`.
    mutating func removeBatches(endingAtOrBefore offset: Int64) {
        while let first = entries.first, first.nextOffset <= offset {
            cachedBytes -= entries.removeFirst().length
        }
    }
}
