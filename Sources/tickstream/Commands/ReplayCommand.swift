import ArgumentParser
import Foundation
import History
import KafkaClient
import Logging
import Market

/// `tickstream replay`: a time range of history, back as a live stream at N× speed.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a time range of history at N× speed to a topic or stdout.",
        discussion: """
            Quotes are sent in ts order, spaced as they were, divided by --speed (max: no pacing).
            To a topic (default prices.replay), each quote is keyed by symbol, its ts rewritten
            to the send time and the original ts kept in the record header original-ts. With
            --format csv|jsonl the quotes are written to stdout unchanged (original ts).
            --source log reads the range straight from the broker's log of --topic (ListOffsets
            by timestamp) instead of the SQLite history.

            TIME is as for `tickstream history`: now, 10m (ago), an ISO-8601 time or a Unix time.
            Examples:
              tickstream replay --from 10m --speed 10
              tickstream replay --from 2026-11-26T10:00:00Z --to 2026-11-26T10:05:00Z --symbols AAPL,MSFT --format csv
              tickstream replay --source log --from 5m --speed max --to-topic prices.replay
            """)

    enum Source: String, ExpressibleByArgument, CaseIterable {
        case sqlite, log
    }

    @OptionGroup var common: CommonOptions
    @Option(help: "The history database (--source sqlite).") var db = "./data/history.sqlite"
    @Option(help: "Start of the range (TIME); default: the beginning.", transform: { try TimeSpec(parsing: $0) })
    var from: TimeSpec?
    @Option(help: "End of the range (TIME); default: now.", transform: { try TimeSpec(parsing: $0) })
    var to: TimeSpec?
    @Option(help: "Only these symbols, comma-separated.") var symbols: String?
    @Option(help: "Speed factor (10 = ten times faster) or max.", transform: { text in
        guard let speed = ReplaySpeed(parsing: text) else { throw ValidationError("--speed must be a positive number or max") }
        return speed
    })
    var speed: ReplaySpeed = .factor(1)
    @Option(help: "Publish to this topic (the default destination: prices.replay).") var toTopic: String?
    @Option(help: "Write to stdout instead: csv or jsonl.") var format: String?
    @Option(help: "Where the quotes come from: sqlite (the history) or log (the broker's log of --topic).")
    var source: Source = .sqlite
    @Option(help: "Kafka bootstrap servers (host:port, comma-separated).") var bootstrap = "127.0.0.1:9092"
    @Option(help: "The topic whose log --source log reads.") var topic = "prices"

    func validate() throws {
        if toTopic != nil && format != nil { throw ValidationError("use --to-topic or --format, not both") }
        if let format, format != "csv" && format != "jsonl" { throw ValidationError("--format must be csv or jsonl") }
    }

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "tickstream.replay")
        let now = SystemWallClock().unixNanoseconds()
        let start = from?.resolve(now: now) ?? Int64.min
        let end = to?.resolve(now: now) ?? now
        let symbolList = symbols?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let wall = ContinuousClock.now

        // The destination.
        let formatter = format.flatMap(OutputFormat.init(rawValue:)).map(QuoteFormatter.init(format:))
        var client: KafkaClusterClient?
        var publisher: ReplayPublisher?
        if formatter == nil || source == .log {
            client = try KafkaClusterClient(bootstrap: bootstrap)
        }
        if formatter == nil, let client {
            publisher = ReplayPublisher(producer: KafkaProducer(client: client), topic: toTopic ?? "prices.replay")
        }
        let output = StandardOutput()
        if let header = formatter?.header { output.write(header) }
        let send: (StoredQuote) async throws -> Void = { stored in
            if let publisher {
                try await publisher.publish(stored)
            } else if let formatter {
                output.write(formatter.line(stored))
            }
        }

        // The source, paced.
        var sent = 0
        var first: Int64?
        var last: Int64?
        var firstSent = ContinuousClock.now
        var lastSent = firstSent
        let track: (StoredQuote) async throws -> Void = { stored in
            if first == nil {
                first = stored.quote.timestamp
                firstSent = .now
            }
            last = stored.quote.timestamp
            lastSent = .now
            try await send(stored)
        }
        switch source {
        case .sqlite:
            let store = try HistoryStore.openExisting(path: db)
            let replayer = HistoryReplayer(store: store, speed: speed, clock: SystemReplayClock())
            sent = try await replayer.run(from: start, to: end, symbols: symbolList, send: track)
        case .log:
            let read = try await LogRangeReader(client: client!, topic: topic).read(from: start, to: end, symbols: symbolList.map(Set.init))
            if read.undecodable > 0 { logger.warning("\(read.undecodable) records in range were not quotes; skipped") }
            var pacer = ReplayPacer(speed: speed, clock: SystemReplayClock())
            for stored in read.quotes {
                try await pacer.wait(forTimestamp: stored.quote.timestamp)
                try await track(stored)
                sent += 1
            }
        }
        output.flush()
        var failed = 0
        if let publisher {
            let outcome = await publisher.finish()
            failed = outcome.failed
            if let error = outcome.lastError { logger.error("\(failed) quotes were not published; last error: \(error)") }
        }
        await client?.close()

        let elapsed = seconds(ContinuousClock.now - wall)
        let sending = seconds(lastSent - firstSent)
        let span = first.flatMap { first in last.map { Double($0 - first) / 1e9 } } ?? 0
        // Speed over the sends themselves: history span / wall time from first to last send.
        let achieved = sending > 0 ? span / sending : 0
        let rate = elapsed > 0 ? Double(sent) / elapsed : 0
        let destination = publisher.map { "to \($0.topic)" } ?? "to stdout"
        let summary = "replayed \(sent) quotes \(destination) from \(source.rawValue): \(String(format: "%.3f", span)) s of history "
            + "in \(String(format: "%.3f", elapsed)) s, achieved speed \(String(format: "%.2f", achieved))x (requested \(speed)), "
            + "\(Int(rate.rounded())) quotes/s"
        if formatter != nil {
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        } else {
            print(summary)
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Buffered writes to standard output.
final class StandardOutput {
    private var buffer: [UInt8] = []

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
