import Foundation
import Logging
import Swarm

/// Shows `swarm` progress: a refreshing line on a terminal, a log line every
/// five seconds otherwise.
struct ProgressDisplay {
    let logger: Logger
    let isTerminal = isatty(STDERR_FILENO) != 0

    func show(_ progress: LiveProgress) {
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(progress.line)".utf8))
        } else if let second = progress.second, (second + 1) % 5 == 0 {
            logger.info("\(progress.line)")
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
