import Foundation
import XCTest
@testable import Market

final class QuoteCodecTests: XCTestCase {
    let example = Quote(symbol: "AAPL", seq: 1234, bid: 189.12, ask: 189.14, last: 189.13, volume: 300, timestamp: 1_732_460_000_123_456_789)
    let exampleJSON = #"{"sym":"AAPL","seq":1234,"bid":189.12,"ask":189.14,"last":189.13,"vol":300,"ts":1732460000123456789}"#

    func testEncodesTheDesignDocumentFormExactly() throws {
        XCTAssertEqual(String(decoding: try example.jsonBytes(), as: UTF8.self), exampleJSON)
        XCTAssertLessThanOrEqual(exampleJSON.utf8.count, example.maximumJSONLength)
    }

    func testAppendsIntoAReusableBufferAndRawMemory() throws {
        var buffer: [UInt8] = Array("prefix".utf8)
        try example.encodeJSON(into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "prefix" + exampleJSON)
        buffer.removeAll(keepingCapacity: true)
        try example.encodeJSON(into: &buffer)
        XCTAssertEqual(buffer.count, 100)

        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
        defer { raw.deallocate() }
        let written = try example.encodeJSON(into: raw)
        XCTAssertEqual(written, 100)
        XCTAssertEqual(Array(raw[0..<written]), Array(exampleJSON.utf8))

        let small = UnsafeMutableRawBufferPointer(rebasing: raw[0..<50])
        XCTAssertThrowsError(try example.encodeJSON(into: small)) {
            XCTAssertEqual($0 as? QuoteEncodingError, .bufferTooSmall(needed: example.maximumJSONLength, available: 50))
        }
    }

    func testPriceFormatting() throws {
        func text(_ price: Double) throws -> String {
            let quote = Quote(symbol: "X", seq: 1, bid: price, ask: 1, last: 1, volume: 0, timestamp: 0)
            let json = String(decoding: try quote.jsonBytes(), as: UTF8.self)
            return String(json.split(separator: ",")[2].dropFirst(6))
        }
        XCTAssertEqual(try text(189.1), "189.1")
        XCTAssertEqual(try text(1), "1.0")
        XCTAssertEqual(try text(0.0001), "0.0001")
        XCTAssertEqual(try text(0.0042), "0.0042")
        XCTAssertEqual(try text(12.05), "12.05")
        XCTAssertEqual(try text(0.1 + 0.2), "0.3")
        XCTAssertEqual(try text(189.12000000001), "189.12")
        XCTAssertEqual(try text(1e10), "10000000000.0")
        XCTAssertEqual(try text(-2.5), "-2.5")
        XCTAssertEqual(try text(0), "0.0")
        XCTAssertThrowsError(try text(.nan)) {
            guard case .unrepresentablePrice(let field, _) = $0 as? QuoteEncodingError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "bid")
        }
        XCTAssertThrowsError(try text(.infinity))
        XCTAssertThrowsError(try text(1e15))
    }

    func testEscapesSymbolStrings() throws {
        let symbol = "A\"B\\C\n\t\u{01}é😀"
        let quote = Quote(symbol: symbol, seq: 1, bid: 1, ask: 2, last: 1.5, volume: 1, timestamp: 1)
        let bytes = try quote.jsonBytes()
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #"{"sym":"A\"B\\C\n\t\u0001é😀","seq":1,"bid":1.0,"ask":2.0,"last":1.5,"vol":1,"ts":1}"#)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(parsed["sym"] as? String, symbol)
        XCTAssertEqual(try Quote(jsonBytes: bytes), quote)
    }

    func testEveryModelQuoteIsValidJSONAndRoundTripsExactly() throws {
        var market = try MarketModel(symbols: MarketModelTests.catalog.first(500), configuration: MarketModelConfiguration(seed: 21))
        var buffer: [UInt8] = []
        for _ in 0..<20_000 {
            let quote = try XCTUnwrap(market.next(timestamp: 1_732_460_000_123_456_789))
            buffer.removeAll(keepingCapacity: true)
            try quote.encodeJSON(into: &buffer)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(buffer)) as? [String: Any])
            XCTAssertEqual(object.count, 7)
            XCTAssertEqual(object["sym"] as? String, quote.symbol)
            XCTAssertEqual((object["seq"] as? NSNumber)?.uint64Value, quote.seq)
            XCTAssertEqual((object["bid"] as? NSNumber)?.doubleValue, quote.bid)
            XCTAssertEqual((object["ask"] as? NSNumber)?.doubleValue, quote.ask)
            XCTAssertEqual((object["last"] as? NSNumber)?.doubleValue, quote.last)
            XCTAssertEqual((object["vol"] as? NSNumber)?.int64Value, quote.volume)
            XCTAssertEqual((object["ts"] as? NSNumber)?.int64Value, quote.timestamp)
            XCTAssertEqual(try Quote(jsonBytes: buffer), quote)
            XCTAssertEqual(try buffer.withUnsafeBytes { try Quote(jsonBuffer: $0) }, quote)
        }
    }

    func testDecoderAcceptsAnyOrderWhitespaceAndUnknownFields() throws {
        let reordered = """
         {
           "ts" : 1732460000123456789 ,\t"vol":300,
           "extra": {"nested": [1, 2.5e3, "x", true, false, null, {}]},
           "last":189.13, "ask":1.8914E2, "bid":18912e-2,
           "s\\u0065q": 1234, "sym":"AAPL", "note": "\\"hi\\""
         }\r\n
        """
        XCTAssertEqual(try Quote(jsonBytes: Array(reordered.utf8)), example)
        XCTAssertEqual(try Quote(jsonBytes: Array(reordered.utf8)[...]), example)
        XCTAssertEqual(try Quote(jsonBytes: AnyCollection(Array(exampleJSON.utf8))), example)
        let negative = #"{"sym":"\u00e9\ud83d\ude00","seq":0,"bid":-1.5,"ask":0,"last":-0.0001,"vol":-9223372036854775808,"ts":-1}"#
        let quote = try Quote(jsonBytes: Array(negative.utf8))
        XCTAssertEqual(quote.symbol, "é😀")
        XCTAssertEqual(quote.volume, .min)
        XCTAssertEqual(quote.last, -0.0001)
        XCTAssertEqual(try Quote(jsonBytes: Array(#"{"sym":"A","seq":18446744073709551615,"bid":1,"ask":1,"last":1,"vol":1,"ts":9223372036854775807}"#.utf8)).seq, .max)
        XCTAssertEqual(try Quote(jsonBytes: Array(#"{"sym":"A","seq":1,"bid":0.1234567890123456789012,"ask":1e300,"last":1,"vol":1,"ts":1}"#.utf8)).bid, 0.1234567890123456789012)
    }

    func testDecoderRejectsEveryTruncation() throws {
        let bytes = Array(exampleJSON.utf8)
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try Quote(jsonBytes: bytes[0..<length]), "length \(length)") { error in
                XCTAssertTrue(error is QuoteDecodingError)
            }
        }
        XCTAssertThrowsError(try Quote(jsonBytes: bytes[0..<99])) {
            XCTAssertEqual($0 as? QuoteDecodingError, .unexpectedEnd(offset: 99))
        }
    }

    private func decodingError(_ text: String) -> QuoteDecodingError? {
        do {
            _ = try Quote(jsonBytes: Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    func testDecoderRejectsGarbageWithTypedErrors() {
        XCTAssertEqual(decodingError(""), .unexpectedEnd(offset: 0))
        XCTAssertEqual(decodingError("[]"), .unexpectedByte(UInt8(ascii: "["), offset: 0, expected: "'{'"))
        XCTAssertEqual(decodingError("{}"), .missingField("sym"))
        XCTAssertEqual(decodingError(exampleJSON + "x"), .trailingBytes(offset: 100))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: #""ts":1732460000123456789"#, with: #""ts":1,"seq":5"#)), .duplicateField("seq", offset: 82))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: #","vol":300"#, with: "")), .missingField("vol"))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "1234", with: "-1")), .numberOutOfRange(field: "seq", offset: 20))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "1234", with: "12.5")), .invalidValue(field: "seq", offset: 20))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "1234", with: "18446744073709551616")), .numberOutOfRange(field: "seq", offset: 20))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: ":300", with: ":9223372036854775808")), .numberOutOfRange(field: "vol", offset: 71))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "1234", with: "01234")), .unexpectedByte(UInt8(ascii: "1"), offset: 21, expected: "',' or '}'"))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "189.12", with: ".5")), .invalidValue(field: "bid", offset: 31))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "189.12", with: "1e999")), .numberOutOfRange(field: "bid", offset: 31))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "189.12", with: "\"189.12\"")), .invalidValue(field: "bid", offset: 31))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "\"AAPL\"", with: "7")), .invalidValue(field: "sym", offset: 7))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "AAPL", with: "AA\nPL")), .invalidString(offset: 10))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "AAPL", with: "AA\\xPL")), .invalidString(offset: 10))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: "AAPL", with: "\\ud800")), .invalidString(offset: 14))
        XCTAssertEqual(decodingError(exampleJSON.replacingOccurrences(of: ",\"seq\"", with: ";\"seq\"")), .unexpectedByte(UInt8(ascii: ";"), offset: 13, expected: "',' or '}'"))
        XCTAssertEqual(decodingError("{\"x\":" + String(repeating: "[", count: 40)), .nestingTooDeep(offset: 37))
        XCTAssertEqual(decodingError("{\"x\":tru}"), .unexpectedByte(UInt8(ascii: "t"), offset: 5, expected: "true"))
        XCTAssertEqual(decodingError("{\"x\":1,}"), .unexpectedByte(UInt8(ascii: "}"), offset: 7, expected: "a field name"))
        var invalidUTF8 = Array(exampleJSON.utf8)
        invalidUTF8[9] = 0xFF
        XCTAssertEqual(try? Quote(jsonBytes: invalidUTF8), nil)
        // Random bytes and random single-byte corruptions never crash the decoder.
        var random = MarketRandom(seed: 77)
        let valid = Array(exampleJSON.utf8)
        for _ in 0..<20_000 {
            var corrupted = valid
            corrupted[Int(random.integer(below: UInt64(valid.count)))] = UInt8(truncatingIfNeeded: random.next())
            _ = try? Quote(jsonBytes: corrupted)
            let noise = (0..<Int(random.integer(below: 64))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? Quote(jsonBytes: noise)
        }
    }

    func testEncodeDecodeThroughput() throws {
        var market = try MarketModel(symbols: MarketModelTests.catalog.first(500), configuration: MarketModelConfiguration(seed: 8))
        let quotes = (0..<10_000).map { _ in market.next()! }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        let clock = SystemMonotonicClock()
        let rounds = 5
        var bytes = 0
        let start = clock.nanoseconds()
        for _ in 0..<rounds {
            for quote in quotes {
                buffer.removeAll(keepingCapacity: true)
                try quote.encodeJSON(into: &buffer)
                bytes += buffer.count
                _ = try buffer.withUnsafeBytes { try Quote(jsonBuffer: $0) }
            }
        }
        let seconds = Double(clock.nanoseconds() - start) / 1e9
        let count = quotes.count * rounds
        print("quote encode+decode: \(count) quotes in \(StatusFormat.fixed(seconds, decimals: 3))s = \(StatusFormat.grouped(Int64(Double(count) / seconds))) quotes/s, \(bytes / count) bytes/quote (debug build unless -c release)")
    }
}
