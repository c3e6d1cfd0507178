import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium (the Debian package `scripts/test` installs and exports as
/// TICKSTREAM_CHROMIUM) against the live page of a real `tickstream demo`.
var chromiumPath: String? { ProcessInfo.processInfo.environment["TICKSTREAM_CHROMIUM"] }

@Suite("Dashboard in headless Chromium", .serialized)
struct BrowserTests {
    /// The demo's 50-symbol universe: the first 50 tickers of fixtures/symbols.csv, with reference prices.
    static func universe(count: Int) throws -> [String: Double] {
        let csv = try String(contentsOfFile: repositoryRoot + "/fixtures/symbols.csv", encoding: .utf8)
        var prices: [String: Double] = [:]
        for line in csv.split(separator: "\n").dropFirst().prefix(count) {
            // ticker,name,sector,reference_price,... — the name may be quoted with commas, so
            // the reference price is the third field from the end.
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= 6, let price = Double(fields[fields.count - 3]) else {
                throw ToolMissing(description: "unexpected fixtures/symbols.csv line: \(line)")
            }
            prices[String(fields[0])] = price
        }
        return prices
    }

    @Test("the page shows the demo's symbols with prices that change",
          .enabled(if: chromiumPath != nil,
                   "TICKSTREAM_CHROMIUM is not set: run scripts/test, which installs Chromium and exports its path"))
    func dashboardShowsLivePrices() async throws {
        let symbolCount = 50
        let universe = try Self.universe(count: symbolCount)
        #expect(universe.count == symbolCount)

        let directory = NSTemporaryDirectory() + "/tickstream-browser-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let httpPort = freeLoopbackPort()
        let demo = try startDemo(directory: directory, httpPort: httpPort, symbols: symbolCount)
        defer { if demo.isRunning { demo.terminate() } }

        let python = FileManager.default.isExecutableFile(atPath: pythonPath) ? pythonPath : "/usr/bin/python3"
        let run = try await runProcess(python, [
            repositoryRoot + "/scripts/browser/cdp.py", "prices", "http://127.0.0.1:\(httpPort)/",
            "--reads", "2", "--interval", "4", "--settle", "3", "--wait", "60",
        ], timeout: 150)
        let demoLog = (try? String(contentsOfFile: directory + "/demo.err", encoding: .utf8)) ?? ""
        #expect(run.status == 0, "cdp.py failed: \(run.stderr.suffix(2000))\ndemo: \(demoLog.suffix(2000))")
        let result = try run.json()
        let reads = try #require(result["reads"] as? [[String: Any]], "no reads in \(run.text)")
        try #require(reads.count == 2)

        #expect(result["title"] as? String == "tickstream · live prices")
        #expect(result["status"] as? String == "live")
        for (index, read) in reads.enumerated() {
            #expect(read.count >= 10, "read \(index) has only \(read.count) rows: \(read.keys.sorted())")
            #expect(read.count <= symbolCount)
            #expect(read["AAPL"] != nil, "AAPL, the busiest symbol, is missing from read \(index)")
            for (symbol, value) in read {
                let reference = try #require(universe[symbol], "\(symbol) is not one of the demo's \(symbolCount) symbols")
                let price = try #require((value as? NSNumber)?.doubleValue, "\(symbol)'s price is not a number: \(value)")
                #expect(price > 0, "\(symbol) \(price)")
                // The seeded model moves a few percent in a minute; anything far off is garbage.
                #expect(price > reference * 0.5 && price < reference * 1.5, "\(symbol) \(price) vs reference \(reference)")
            }
        }
        let first = reads[0].mapValues { ($0 as? NSNumber)?.doubleValue }
        let second = reads[1].mapValues { ($0 as? NSNumber)?.doubleValue }
        let changed = first.keys.filter { symbol in second[symbol].map { $0 != first[symbol] } ?? false }
        #expect(!changed.isEmpty, "no price changed in 4 s: \(first) then \(second)")

        stopDemo(demo)
    }

    /// The demo with output to files (it runs until stopped, so no pipes to fill).
    private func startDemo(directory: String, httpPort: Int, symbols: Int) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: tickstreamPath) else {
            throw ToolMissing(description: "\(tickstreamPath) is missing: build it or run scripts/test")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tickstreamPath)
        process.arguments = [
            "demo", "--duration", "120s", "--clients", "20", "--processes", "1", "--rate", "200",
            "--symbols", String(symbols), "--port", "0", "--http-port", String(httpPort),
            "--data-dir", directory + "/data", "--log-level", "warning",
        ]
        for name in ["demo.out", "demo.err"] where !FileManager.default.createFile(atPath: directory + "/" + name, contents: nil) {
            throw ToolMissing(description: "cannot create \(directory)/\(name)")
        }
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/demo.out")
        process.standardError = FileHandle(forWritingAtPath: directory + "/demo.err")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Ctrl-C, as a person would: the demo stops its pieces in order and exits.
    private func stopDemo(_ process: Process) {
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning && Date() < deadline { usleep(100_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
