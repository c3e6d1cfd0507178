import NIOCore
import Testing
@testable import KafkaProtocol

@Suite struct PrimitiveTests {
    struct VarintCase<Value: Sendable>: Sendable {
        let value: Value
        let bytes: [UInt8]
        init(_ value: Value, _ bytes: [UInt8]) {
            self.value = value
            self.bytes = bytes
        }
    }

    static let unsignedCases: [VarintCase<UInt32>] = [
        .init(0, [0x00]),
        .init(1, [0x01]),
        .init(127, [0x7f]),
        .init(128, [0x80, 0x01]),
        .init(300, [0xac, 0x02]),
        .init(16_384, [0x80, 0x80, 0x01]),
        .init(UInt32.max, [0xff, 0xff, 0xff, 0xff, 0x0f]),
    ]

    static let zigZagCases: [VarintCase<Int32>] = [
        .init(0, [0x00]),
        .init(-1, [0x01]),
        .init(1, [0x02]),
        .init(-2, [0x03]),
        .init(63, [0x7e]),
        .init(-64, [0x7f]),
        .init(64, [0x80, 0x01]),
        .init(Int32.max, [0xfe, 0xff, 0xff, 0xff, 0x0f]),
        .init(Int32.min, [0xff, 0xff, 0xff, 0xff, 0x0f]),
    ]

    @Test(arguments: unsignedCases)
    func unsignedVarintEncoding(_ example: VarintCase<UInt32>) throws {
        var buffer = ByteBuffer()
        buffer.writeUnsignedVarint(example.value)
        #expect(Array(buffer.readableBytesView) == example.bytes)
        #expect(try buffer.readUnsignedVarint("test") == example.value)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: zigZagCases)
    func zigZagVarint(_ example: VarintCase<Int32>) throws {
        var buffer = ByteBuffer()
        buffer.writeVarint(example.value)
        #expect(Array(buffer.readableBytesView) == example.bytes)
        #expect(try buffer.readVarint("test") == example.value)
    }

    @Test(arguments: [Int64(0), -1, 1, Int64(Int32.max) + 1, -1_700_000_000_000, Int64.max, Int64.min])
    func zigZagVarlongRoundTrips(value: Int64) throws {
        var buffer = ByteBuffer()
        buffer.writeVarlong(value)
        #expect(buffer.readableBytes == ByteBuffer.varlongSize(value))
        #expect(try buffer.readVarlong("test") == value)
    }

    @Test func overlongVarintIsRejected() {
        var buffer = ByteBuffer(bytes: [0xff, 0xff, 0xff, 0xff, 0x7f])
        #expect(throws: KafkaProtocolError.malformedVarint(what: "test")) { try buffer.readUnsignedVarint("test") }
        var endless = ByteBuffer(bytes: [0xff, 0xff, 0xff])
        #expect(throws: KafkaProtocolError.self) { try endless.readUnsignedVarint("test") }
        var long = ByteBuffer(bytes: [UInt8](repeating: 0xff, count: 10) + [0x01])
        #expect(throws: KafkaProtocolError.malformedVarint(what: "test")) { try long.readUnsignedVarlong("test") }
    }

    @Test func stringsInBothForms() throws {
        for compact in [false, true] {
            var buffer = ByteBuffer()
            try buffer.writeKafkaString("héllo", compact: compact, "s")
            try buffer.writeKafkaNullableString(nil, compact: compact, "s")
            try buffer.writeKafkaString("", compact: compact, "s")
            #expect(try buffer.readKafkaString(compact: compact, "s") == "héllo")
            #expect(try buffer.readKafkaNullableString(compact: compact, "s") == nil)
            #expect(try buffer.readKafkaString(compact: compact, "s") == "")
            #expect(buffer.readableBytes == 0)
        }
        var classic = ByteBuffer()
        try classic.writeKafkaString("ab", compact: false, "s")
        #expect(Array(classic.readableBytesView) == [0, 2, 0x61, 0x62])
        var compact = ByteBuffer()
        try compact.writeKafkaString("ab", compact: true, "s")
        #expect(Array(compact.readableBytesView) == [3, 0x61, 0x62])
    }

    @Test func negativeLengthsOtherThanNullAreErrors() {
        var string = ByteBuffer(bytes: [0xff, 0xfe])  // int16 -2
        #expect(throws: KafkaProtocolError.invalidLength(what: "s", length: -2)) {
            try string.readKafkaNullableString(compact: false, "s")
        }
        var bytes = ByteBuffer(bytes: [0x80, 0, 0, 0])  // int32 min
        #expect(throws: KafkaProtocolError.self) { try bytes.readKafkaNullableBytes(compact: false, "b") }
        var array = ByteBuffer(bytes: [0xff, 0xff, 0xff, 0xf0])
        #expect(throws: KafkaProtocolError.self) { try array.readKafkaArrayCount(compact: false, "a") }
    }

    @Test func lengthLargerThanTheBufferIsAnError() {
        var string = ByteBuffer(bytes: [0x00, 0x10, 0x61])
        #expect(throws: KafkaProtocolError.truncated(what: "s", needed: 16, available: 1)) {
            try string.readKafkaString(compact: false, "s")
        }
        // An array claiming two billion elements is refused before memory is reserved.
        var array = ByteBuffer(bytes: [0x7f, 0xff, 0xff, 0xff, 1, 2, 3])
        #expect(throws: KafkaProtocolError.self) { try array.readKafkaArrayCount(compact: false, "a") }
    }

    @Test func invalidUTF8IsAnError() {
        var buffer = ByteBuffer(bytes: [0x00, 0x02, 0xc3, 0x28])
        #expect(throws: KafkaProtocolError.invalidUTF8(what: "s")) { try buffer.readKafkaString(compact: false, "s") }
    }

    @Test func uuidIsSixteenBigEndianBytes() throws {
        let uuid = KafkaUUID(high: 0x0011_2233_4455_6677, low: 0x8899_aabb_ccdd_eeff)
        var buffer = ByteBuffer()
        buffer.writeKafkaUUID(uuid)
        #expect(Array(buffer.readableBytesView) == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        #expect(try buffer.readKafkaUUID("u") == uuid)
        #expect(uuid.description == "00112233-4455-6677-8899-aabbccddeeff")
    }
}

@Suite struct CRC32CTests {
    // Check values from RFC 3720 (iSCSI), appendix B.4, and the common "123456789" vector.
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xff, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func incrementalEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = bytes[..<split].withUnsafeBytes { CRC32C.update(0, $0) }
            let both = bytes[split...].withUnsafeBytes { CRC32C.update(first, $0) }
            #expect(both == whole, "split at \(split)")
        }
    }
}
