import Foundation
import KafkaClient
import Logging

extension HistorySink {
    private var usesStatusLine: Bool {
        switch configuration.progress {
        case .statusLine: return true
        case .automatic: return isatty(STDERR_FILENO) != 0
        case .log, .none: return false
        }
    }

    /// Samples lag and rate: a status line redrawn every second on a terminal, or a log
    /// line every `logInterval`.
    func statusLoop(group: KafkaGroupConsumer) async {
        guard configuration.progress != .none else { return }
        let statusLine = usesStatusLine
        let interval: Duration = statusLine ? .seconds(1) : configuration.logInterval
        var lastStored = 0
        var lastSample = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await refreshLag(group: group)
            let now = ContinuousClock.now
            let snapshot = statistics
            let rate = Double(snapshot.stored - lastStored) / max(0.001, (now - lastSample).seconds)
            lastStored = snapshot.stored
            lastSample = now
            let line = snapshot.statusLine(ratePerSecond: rate)
            if statusLine {
                FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
            } else {
                logger.info("\(line)")
            }
        }
    }

    /// Sums the lag of the claimed partitions into the counters.
    func refreshLag(group: KafkaGroupConsumer) async {
        var lag: Int64 = 0
        for partition in ownership.snapshot.partitions {
            lag += await group.consumer.lag(of: partition) ?? 0
        }
        counters.withLock { $0.lag = lag }
    }

    /// Ends the status line so the summary starts on a line of its own.
    func finishProgress() {
        if configuration.progress != .none && usesStatusLine {
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }
}
