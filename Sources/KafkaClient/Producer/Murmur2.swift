import NIOCore

/// MurmurHash2 exactly as Apache Kafka's Java client computes it (`Utils.murmur2`,
/// seed 0x9747b28c), so that every client agrees which partition a key lives in.
public enum Murmur2 {
    /// The murmur2 hash of `bytes` as Java's `Utils.murmur2` returns it (signed; use `toPositive` before `%`).
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let length = bytes.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        let blocks = length / 4
        for block in 0..<blocks {
            var k = bytes.loadUnaligned(fromByteOffset: block * 4, as: UInt32.self).littleEndian
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = length & ~3
        let remaining = length % 4
        if remaining >= 3 { h ^= UInt32(bytes[tail + 2]) << 16 }
        if remaining >= 2 { h ^= UInt32(bytes[tail + 1]) << 8 }
        if remaining >= 1 {
            h ^= UInt32(bytes[tail])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The murmur2 hash of a byte collection (copied into an array first).
    public static func hash(_ bytes: some Collection<UInt8>) -> Int32 {
        Array(bytes).withUnsafeBytes { hash($0) }
    }

    /// The murmur2 hash of the readable bytes of `buffer` (the reader index is not moved).
    public static func hash(_ buffer: ByteBuffer) -> Int32 {
        buffer.withUnsafeReadableBytes { hash($0) }
    }

    /// Kafka's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows).
    public static func toPositive(_ value: Int32) -> Int32 {
        value & 0x7fff_ffff
    }

    /// The partition of a keyed record: `toPositive(murmur2(key)) % partitions`.
    public static func partition(forKey key: ByteBuffer, partitionCount: Int) -> Int32 {
        toPositive(hash(key)) % Int32(partitionCount)
    }
}

/// Chooses a partition for each record: murmur2 of the key for keyed records, round
/// robin over the partitions for records without a key.
struct DefaultPartitioner: Sendable {
    private var counters: [String: UInt32] = [:]

    init() {}

    mutating func partition(topic: String, key: ByteBuffer?, partitionCount: Int) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        if let key {
            return Murmur2.partition(forKey: key, partitionCount: partitionCount)
        }
        let next = counters[topic, default: 0]
        counters[topic] = next &+ 1
        return Int32(next % UInt32(partitionCount))
    }
}
