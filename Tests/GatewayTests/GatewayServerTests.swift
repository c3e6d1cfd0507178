import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest

final class GatewayServerTests: XCTestCase {
    static let secret = "test-secret-not-for-production-0123456789"

    func makeServer(secret: String? = nil, history: (any HistoryQuerying)? = nil,
                    logReader: (any QuoteLogReader)? = nil) -> GatewayServer {
        GatewayServer(
            configuration: GatewayConfiguration(host: "127.0.0.1", port: 0, tokenSecret: secret),
            logReader: logReader,
            history: history
        )
    }

    func testHealthz() async throws {
        let app = try await makeServer().makeApplication()
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(bodyText(response), "ok\n")
            }
        }
    }

    func testDashboardIsServedAndLoadsNothingFromOutside() async throws {
        let app = try await makeServer().makeApplication()
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "text/html; charset=utf-8")
                let html = bodyText(response)
                XCTAssertTrue(html.contains(#"<script src="/assets/dashboard.js"></script>"#))
                XCTAssertTrue(html.contains(#"<link rel="stylesheet" href="/assets/dashboard.css">"#))
                XCTAssertTrue(html.contains(#"<canvas id="chart""#))
                XCTAssertTrue(html.contains(#"name="viewport""#))
                for external in [#"src="http"#, #"href="http"#, "https://", "@import", "url("] {
                    XCTAssertFalse(html.contains(external), external)
                }
            }
            for (path, type) in [("/assets/dashboard.js", "text/javascript; charset=utf-8"),
                                 ("/assets/dashboard.css", "text/css; charset=utf-8")] {
                try await client.execute(uri: path, method: .get) { response in
                    XCTAssertEqual(response.status, .ok)
                    XCTAssertEqual(response.headers[.contentType], type)
                    let text = bodyText(response)
                    XCTAssertFalse(text.contains("http://"), path)
                    XCTAssertFalse(text.contains("https://"), path)
                    XCTAssertFalse(text.contains("@import"), path)
                }
            }
        }
    }

    func testLatestQuotesIsAJSONArrayOfRawQuotes() async throws {
        let server = makeServer()
        await server.hub.publish("MSFT", partition: 1, offset: 7)
        await server.hub.publish("AAPL", partition: 0, offset: 3)
        let app = try await server.makeApplication()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/quotes/latest", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/json")
                XCTAssertEqual(bodyText(response), "[\(quoteJSON("AAPL", seq: 3)),\(quoteJSON("MSFT", seq: 7))]")
            }
        }
    }

    func testAuthRefusesMissingBadAndExpiredTokensAndLimitsSymbols() async throws {
        let server = makeServer(secret: Self.secret)
        await server.hub.publish("MSFT", partition: 1, offset: 7)
        await server.hub.publish("AAPL", partition: 0, offset: 3)
        let valid = try await GatewayAuth.mintToken(secret: Self.secret, symbols: ["AAPL"], expiresAt: Date().addingTimeInterval(3600))
        let expired = try await GatewayAuth.mintToken(secret: Self.secret, symbols: ["*"], expiresAt: Date().addingTimeInterval(-60))
        let foreign = try await GatewayAuth.mintToken(secret: "another-secret-of-thirty-two-bytes-or-more", symbols: ["*"], expiresAt: Date().addingTimeInterval(3600))
        let app = try await server.makeApplication()
        try await app.test(.router) { client in
            for uri in ["/api/quotes/latest", "/api/quotes/latest?token=\(expired)", "/api/quotes/latest?token=\(foreign)",
                        "/api/quotes/latest?token=garbage", "/sse?symbols=AAPL", "/api/history?symbol=AAPL"] {
                try await client.execute(uri: uri, method: .get) { response in
                    XCTAssertEqual(response.status, .unauthorized, uri)
                    XCTAssertEqual(response.headers[.wwwAuthenticate], "Bearer", uri)
                    XCTAssertTrue(bodyText(response).hasPrefix(#"{"type":"error","code":"unauthorized","message":"#), uri)
                }
            }
            try await client.execute(uri: "/api/quotes/latest?token=\(valid)", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(bodyText(response), "[\(quoteJSON("AAPL", seq: 3))]")
            }
            try await client.execute(uri: "/api/quotes/latest", method: .get, headers: [.authorization: "Bearer \(valid)"]) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(bodyText(response), "[\(quoteJSON("AAPL", seq: 3))]")
            }
            // Open endpoints stay open.
            try await client.execute(uri: "/healthz", method: .get) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }

    func testShortSecretIsRefused() async throws {
        do {
            _ = try await makeServer(secret: "short").makeApplication()
            XCTFail("a 5-byte secret was accepted")
        } catch let error as GatewayAuthError {
            XCTAssertEqual(error, .secretTooShort(bytes: 5))
        }
    }

    func testHistoryIsNotImplementedWithoutAStore() async throws {
        let app = try await makeServer().makeApplication()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/history?symbol=AAPL&since=0", method: .get) { response in
                XCTAssertEqual(response.status, .notImplemented)
            }
        }
    }

    func testHistoryComesFromTheStore() async throws {
        struct Store: HistoryQuerying {
            func history(symbol: String, sinceNs: Int64, limit: Int) async throws -> [[UInt8]] {
                guard symbol == "AAPL", sinceNs == 1_700_000_000_000_000_000, limit == 2 else { return [] }
                return [quoteBytes("AAPL", seq: 1), quoteBytes("AAPL", seq: 2)]
            }
        }
        let app = try await makeServer(history: Store()).makeApplication()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/history?symbol=AAPL&since=1700000000000000000&limit=2", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(bodyText(response), "[\(quoteJSON("AAPL", seq: 1)),\(quoteJSON("AAPL", seq: 2))]")
            }
            try await client.execute(uri: "/api/history?since=0", method: .get) { response in
                XCTAssertEqual(response.status, .badRequest)
            }
        }
    }

    func testStatsAndMetricsShowCountersAndExternalPanels() async throws {
        let server = makeServer()
        await server.hub.publish("AAPL", partition: 0, offset: 1)
        await server.hub.publish("AAPL", partition: 0, offset: 2)
        server.stats.setSinkLag(42)
        server.stats.setSwarmLatency(p50Millis: 1.5, p99Millis: 12.25)
        let app = try await server.makeApplication()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/stats", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(bodyText(response),
                    #"{"clients":0,"symbols":1,"quotesPerSecond":0.0,"framesPerSecond":0.0,"quotesIn":2,"framesOut":0,"#
                    + #""conflated":0,"resumesReplayed":0,"resumeGaps":0,"swarm":{"p50Millis":1.5,"p99Millis":12.25},"sinkLag":42}"#)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let lines = bodyText(response).split(separator: "\n").map(String.init)
                XCTAssertTrue(lines.contains("tickstream_gateway_quotes_in_total 2"))
                XCTAssertTrue(lines.contains("tickstream_gateway_clients 0"))
                XCTAssertTrue(lines.contains("tickstream_sink_lag_records 42"))
                XCTAssertTrue(lines.contains("# TYPE tickstream_gateway_frames_out_total counter"))
            }
        }
    }

    func testSSEStreamsSnapshotAndUpdatesWithResumeIds() async throws {
        let server = makeServer()
        let hub = server.hub
        await hub.publish("AAPL", partition: 2, offset: 5)
        let app = try await server.makeApplication()
        try await app.test(.router) { client in
            async let streamed: String = client.execute(uri: "/sse?symbols=AAPL,MSFT", method: .get) { response in
                XCTAssertEqual(response.headers[.contentType], "text/event-stream")
                return bodyText(response)
            }
            try await waitUntil { await hub.currentCounters().framesOut == 1 }
            await hub.publish("MSFT", partition: 0, offset: 9)
            try await waitUntil { await hub.currentCounters().framesOut == 2 }
            await hub.shutdown()
            let text = try await streamed
            XCTAssertEqual(text, "retry: 2000\n\n"
                + "id: 2:5\ndata: \(snapshotText("AAPL", seq: 5, partition: 2, offset: 5))\n\n"
                + "id: 0:9,2:5\ndata: \(updateText("MSFT", seq: 9, partition: 0, offset: 9))\n\n")
        }
    }

    func testSSELastEventIDResumesFromTheLog() async throws {
        let log = logRecords([(0, "AAPL"), (1, "AAPL"), (2, "MSFT"), (3, "AAPL")])
        let server = makeServer(logReader: FakeLogReader(log: [0: log]))
        let hub = server.hub
        for record in log { await hub.publish(record.symbol, partition: 0, offset: record.offset) }
        let app = try await server.makeApplication()
        try await app.test(.router) { client in
            async let streamed: String = client.execute(uri: "/sse?symbols=AAPL", method: .get,
                                                        headers: [HTTPField.Name("Last-Event-ID")!: "0:1,4:10"]) { bodyText($0) }
            try await waitUntil { await hub.currentCounters().framesOut == 1 }
            await hub.shutdown()
            let text = try await streamed
            XCTAssertEqual(text, "retry: 2000\n\n"
                + "id: 0:3,4:10\ndata: \(updateText("AAPL", seq: 3, partition: 0, offset: 3))\n\n")
        }
    }
}

/// Polls `condition` (bounded: gives up after ~10 s). Not a timing assertion: it
/// only waits for the system to reach a state before asserting exact values.
func waitUntil(_ condition: @Sendable () async -> Bool) async throws {
    for _ in 0..<1000 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    XCTFail("condition not reached")
}

func bodyText(_ response: TestResponse) -> String {
    String(buffer: response.body)
}
