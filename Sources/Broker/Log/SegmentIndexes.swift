import NIOCore

/// The sparse offset index of a segment: every `index.interval.bytes` of log, the
/// base offset of a batch (relative to the segment) and the batch's byte position.
/// Eight bytes an entry on disk, big-endian: `relativeOffset uint32 | position uint32`.
///
/// A lookup gives the position of the last indexed batch at or before an offset; the
/// caller scans batch headers forward from there (at most one interval of bytes).
struct OffsetIndex {
    static let entrySize = 8

    struct Entry: Equatable {
        var relativeOffset: UInt32
        var position: UInt32
    }

    private(set) var entries: [Entry] = []

    mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// The position to start scanning from for `relativeOffset`.
    func position(for relativeOffset: UInt32) -> Int {
        // Last entry with entry.relativeOffset <= relativeOffset.
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].relativeOffset <= relativeOffset { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? 0 : Int(entries[low - 1].position)
    }

    var lastPosition: Int { entries.last.map { Int($0.position) } ?? 0 }

    mutating func removeAll() { entries.removeAll() }

    mutating func truncate(toPositionBelow position: Int) {
        while let last = entries.last, Int(last.position) >= position { entries.removeLast() }
    }

    static func encode(_ entry: Entry) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entrySize)
        withUnsafeBytes(of: entry.relativeOffset.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: entry.position.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Parses an index file, keeping the longest prefix that is well formed: entries
    /// increasing in both fields and inside a log of `logSize` bytes.
    static func decode(_ buffer: ByteBuffer, logSize: Int) -> OffsetIndex {
        var index = OffsetIndex()
        var buffer = buffer
        while let relative = buffer.readInteger(as: UInt32.self), let position = buffer.readInteger(as: UInt32.self) {
            if let last = index.entries.last, relative <= last.relativeOffset || position <= last.position { break }
            if Int(position) >= logSize { break }
            index.entries.append(Entry(relativeOffset: relative, position: position))
        }
        return index
    }
}

/// The sparse time index of a segment, sampled where the offset index is: the largest
/// record timestamp seen in the segment up to and including a batch, and that batch's
/// relative offset. Twelve bytes an entry: `timestamp int64 | relativeOffset uint32`.
///
/// Because the timestamps are running maxima they never decrease, so the first batch
/// whose own max timestamp is at least T lies after the last entry whose timestamp is
/// below T.
struct TimeIndex {
    static let entrySize = 12

    struct Entry: Equatable {
        var timestamp: Int64
        var relativeOffset: UInt32
    }

    private(set) var entries: [Entry] = []

    mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// The relative offset to start scanning from when looking for timestamp `target`.
    func startOffset(for target: Int64) -> UInt32? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].timestamp < target { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : entries[low - 1].relativeOffset
    }

    mutating func removeAll() { entries.removeAll() }

    mutating func truncate(toRelativeOffsetBelow relativeOffset: UInt32) {
        while let last = entries.last, last.relativeOffset >= relativeOffset { entries.removeLast() }
    }

    static func encode(_ entry: Entry) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entrySize)
        withUnsafeBytes(of: entry.timestamp.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: entry.relativeOffset.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func decode(_ buffer: ByteBuffer) -> TimeIndex {
        var index = TimeIndex()
        var buffer = buffer
        while let timestamp = buffer.readInteger(as: Int64.self), let relative = buffer.readInteger(as: UInt32.self) {
            if let last = index.entries.last, timestamp < last.timestamp || relative <= last.relativeOffset { break }
            index.entries.append(Entry(timestamp: timestamp, relativeOffset: relative))
        }
        return index
    }
}
