import History
import Market
import XCTest

final class FormatterTests: XCTestCase {
    let quotes = [
        StoredQuote(quote: Quote(symbol: "AAPL", seq: 1234, bid: 189.12, ask: 189.14, last: 189.13, volume: 300,
                                 timestamp: 1_732_460_000_123_456_789),
                    topic: "prices", partition: 3, offset: 17),
        StoredQuote(quote: Quote(symbol: "MSFT", seq: 7, bid: 410.5, ask: 410.75, last: 410.6, volume: 1200,
                                 timestamp: 1_732_460_001_000_000_000),
                    topic: "prices", partition: 0, offset: 5),
    ]

    func testCSV() {
        XCTAssertEqual(QuoteFormatter(format: .csv).render(quotes), """
            sym,seq,bid,ask,last,vol,ts,partition,offset
            AAPL,1234,189.12,189.14,189.13,300,1732460000123456789,3,17
            MSFT,7,410.5,410.75,410.6,1200,1732460001000000000,0,5

            """)
    }

    func testJSONLinesUseTheWireFieldNames() {
        XCTAssertEqual(QuoteFormatter(format: .jsonl).render(quotes), """
            {"sym":"AAPL","seq":1234,"bid":189.12,"ask":189.14,"last":189.13,"vol":300,"ts":1732460000123456789,"partition":3,"offset":17}
            {"sym":"MSFT","seq":7,"bid":410.5,"ask":410.75,"last":410.6,"vol":1200,"ts":1732460001000000000,"partition":0,"offset":5}

            """)
    }

    func testTableAlignsColumns() {
        XCTAssertEqual(QuoteFormatter(format: .table).render(quotes), """
            time                      sym    seq     bid     ask    last   vol  partition  offset
            2024-11-24T14:53:20.123Z  AAPL  1234  189.12  189.14  189.13   300          3      17
            2024-11-24T14:53:21.000Z  MSFT     7   410.5  410.75   410.6  1200          0       5

            """)
    }

    func testEmptyTableIsJustTheHeader() {
        XCTAssertEqual(QuoteFormatter(format: .table).render([]),
                       "time  sym  seq  bid  ask  last  vol  partition  offset\n")
        XCTAssertEqual(QuoteFormatter(format: .jsonl).render([]), "")
    }

    func testSpecialCharactersAreEscaped() {
        var odd = quotes[0]
        odd.quote.symbol = "A\"B,C"
        odd.quote.bid = .nan
        XCTAssertEqual(QuoteFormatter(format: .jsonl).line(odd),
                       "{\"sym\":\"A\\\"B,C\",\"seq\":1234,\"bid\":null,\"ask\":189.14,\"last\":189.13,\"vol\":300,\"ts\":1732460000123456789,\"partition\":3,\"offset\":17}\n")
        XCTAssertEqual(QuoteFormatter(format: .csv).line(odd),
                       "\"A\"\"B,C\",1234,null,189.14,189.13,300,1732460000123456789,3,17\n")
    }

    func testCandles() {
        let candles = [
            Candle(symbol: "AAPL", start: 1_732_459_980_000_000_000, open: 11, high: 13.5, low: 9, close: 9.25, volume: 380,
                   count: 5, openTimestamp: 1_732_459_980_050_000_000, closeTimestamp: 1_732_459_980_900_000_000),
        ]
        XCTAssertEqual(CandleFormatter(format: .csv).render(candles), """
            sym,start,open,high,low,close,vol,count
            AAPL,1732459980000000000,11.0,13.5,9.0,9.25,380,5

            """)
        XCTAssertEqual(CandleFormatter(format: .jsonl).render(candles), """
            {"sym":"AAPL","start":1732459980000000000,"open":11.0,"high":13.5,"low":9.0,"close":9.25,"vol":380,"count":5}

            """)
        XCTAssertEqual(CandleFormatter(format: .table).render(candles), """
            start                 sym   open  high  low  close  vol  count
            2024-11-24T14:53:00Z  AAPL  11.0  13.5  9.0   9.25  380      5

            """)
    }
}
