import Foundation
import XCTest
@testable import Swarm

final class SwarmReportTests: XCTestCase {
    private func sampleSummary() -> SwarmSummary {
        var latency = LatencyHistogram()
        for micros in stride(from: UInt64(100), through: 50_000, by: 100) { latency.record(micros: micros) }
        var second0 = LatencyHistogram()
        second0.record(micros: 800)
        let timeline = [
            SecondSnapshot(second: 0, connectedClients: 10, counters: SwarmCounters(deliveries: 300, records: 400, bytes: 40_000), latency: second0),
            SecondSnapshot(second: 1, connectedClients: 9, counters: SwarmCounters(deliveries: 200, records: 250, bytes: 25_000, reconnects: 1), latency: latency),
        ]
        return SwarmSummary(clients: 10, durationSeconds: 2, totals: SwarmCounters(deliveries: 500, records: 650, bytes: 65_000, reconnects: 1),
                            latency: latency, catchUpLatency: LatencyHistogram(), timeline: timeline,
                            lostWorkers: [.init(worker: 1, reason: "exit status 3; <stream> ended")], workers: 2,
                            configuration: ["bootstrap": "127.0.0.1:9092", "seed": "42"])
    }

    func testJSONReportParsesAndHasEveryFigure() throws {
        let data = try sampleSummary().jsonData()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["clients", "workers", "durationSeconds", "deliveries", "deliveriesPerSecond", "bytes", "bytesPerSecond",
                    "gaps", "missingQuotes", "duplicates", "reconnects", "workersLost", "lostWorkers", "latencyMicros",
                    "catchUpLatencyMicros", "histogram", "timeline", "configuration"] {
            XCTAssertNotNil(object[key], "missing \(key)")
        }
        XCTAssertEqual(object["deliveries"] as? Int, 500)
        XCTAssertEqual((object["deliveriesPerSecond"] as? NSNumber)?.doubleValue, 250)
        XCTAssertEqual(object["workersLost"] as? Int, 1)
        let latency = try XCTUnwrap(object["latencyMicros"] as? [String: Any])
        for key in ["p50", "p90", "p99", "p99_9", "max"] { XCTAssertNotNil(latency[key], "latency \(key)") }
        XCTAssertEqual(latency["p50"] as? Int, 25_007)  // 3-digit bucket holding 25 000
        let histogram = try XCTUnwrap(object["histogram"] as? [String: Any])
        XCTAssertEqual(histogram["totalCount"] as? Int, 500)
        XCTAssertEqual((histogram["buckets"] as? [[NSNumber]])?.reduce(0) { $0 + $1[1].intValue }, 500)
        XCTAssertFalse((histogram["percentiles"] as? [Any] ?? []).isEmpty)
        let timeline = try XCTUnwrap(object["timeline"] as? [[String: Any]])
        XCTAssertEqual(timeline.count, 2)
        XCTAssertEqual(timeline[0]["deliveries"] as? Int, 300)
        XCTAssertEqual(timeline[0]["p99Micros"] as? Int, 800)
    }

    func testHTMLReportIsSelfContained() {
        let html = SwarmHTMLReport.render(sampleSummary())
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 3)
        for forbidden in ["src=\"http", "href=\"http", "src='http", "href='http", "<script", "@import", "url("] {
            XCTAssertFalse(html.contains(forbidden), "page contains \(forbidden)")
        }
        XCTAssertFalse(html.contains("http://"))
        XCTAssertFalse(html.contains("https://"))
        XCTAssertTrue(html.contains("&lt;stream&gt;"), "text is escaped")
        XCTAssertTrue(html.contains("99.9%"))
    }

    func testTextSummaryNamesEveryFigure() {
        let text = sampleSummary().text()
        for needle in ["10 clients", "deliveries   500", "250.0/s", "p50", "p90", "p99", "p99.9", "max", "gaps         0",
                       "duplicates   0", "reconnects   1", "workers lost 1", "worker 1: exit status 3"] {
            XCTAssertTrue(text.contains(needle), "summary lacks \(needle):\n\(text)")
        }
    }

    func testEmptyRunStillRenders() throws {
        let summary = SwarmSummary(clients: 0, durationSeconds: 0, totals: SwarmCounters(), latency: LatencyHistogram(),
                                   catchUpLatency: LatencyHistogram(), timeline: [], lostWorkers: [], workers: 0)
        XCTAssertTrue(SwarmHTMLReport.render(summary).contains("no data"))
        XCTAssertNoThrow(try summary.jsonData())
    }
}
