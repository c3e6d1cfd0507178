/// A 128-bit UUID as Kafka writes it: sixteen bytes, most significant first.
/// Kafka's "zero UUID" (all bits clear) means "no id".
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let zero = KafkaUUID(high: 0, low: 0)

    /// A random version-4 UUID.
    public static func random() -> KafkaUUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> KafkaUUID {
        let high = (generator.next() & ~0xF000) | 0x4000
        let low = (generator.next() & ~(0xC000 << 48)) | (0x8000 << 48)
        return KafkaUUID(high: high, low: low)
    }

    /// The canonical 8-4-4-4-12 hexadecimal form.
    public var description: String {
        func hex(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        return hex(high >> 32, digits: 8) + "-" + hex((high >> 16) & 0xffff, digits: 4) + "-"
            + hex(high & 0xffff, digits: 4) + "-" + hex(low >> 48, digits: 4) + "-"
            + hex(low & 0xffff_ffff_ffff, digits: 12)
    }
}
