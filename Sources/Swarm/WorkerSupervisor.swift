import Foundation
import Synchronization

/// Something that happened to a worker process.
public enum WorkerEvent: Sendable, Equatable {
    /// One line of its standard output.
    case line(worker: Int, String)
    /// Its output ended and it exited.
    case ended(worker: Int, SwarmCoordinator.WorkerExit)
}

/// Starts worker processes and turns their standard output into `WorkerEvent`s.
///
/// Each worker gets a pipe for stdout (its report stream) and inherits stderr
/// (its log). A thread per worker reads the pipe until end of file, then waits
/// for the exit; not a hot path, so plain blocking reads are fine.
public final class WorkerSupervisor: Sendable {
    /// How to start one worker.
    public struct Launch: Sendable, Equatable {
        public var executable: String
        public var arguments: [String]

        public init(executable: String, arguments: [String]) {
            self.executable = executable
            self.arguments = arguments
        }
    }

    // Process is not Sendable; it is only touched under this lock.
    private struct Processes: @unchecked Sendable {
        var running: [Int: Process] = [:]
    }

    private let processes = Mutex(Processes())
    public let events: AsyncStream<WorkerEvent>
    private let continuation: AsyncStream<WorkerEvent>.Continuation
    private let remaining: Atomic<Int>

    /// Starts every worker; throws if one cannot be started (those already
    /// started are terminated).
    public init(launches: [Launch]) throws(SwarmError) {
        (events, continuation) = AsyncStream.makeStream(of: WorkerEvent.self)
        remaining = Atomic(launches.count)
        if launches.isEmpty { continuation.finish() }
        for (worker, launch) in launches.enumerated() {
            do {
                try start(worker: worker, launch: launch)
            } catch {
                terminateAll()
                continuation.finish()
                throw error
            }
        }
    }

    private func start(worker: Int, launch: Launch) throws(SwarmError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launch.executable)
        process.arguments = launch.arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .spawnFailed(worker: worker, reason: "\(launch.executable): \(error)")
        }
        processes.withLock { $0.running[worker] = process }
        let reader = output.fileHandleForReading
        let continuation = self.continuation
        let thread = Thread { [self] in
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    continuation.yield(.line(worker: worker, line))
                }
            }
            if !pending.isEmpty {
                continuation.yield(.line(worker: worker, String(decoding: pending, as: UTF8.self)))
            }
            let exit = self.waitForExit(worker)
            continuation.yield(.ended(worker: worker, exit))
            if self.remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                continuation.finish()
            }
        }
        thread.name = "swarm-worker-\(worker)-reader"
        thread.start()
    }

    private func waitForExit(_ worker: Int) -> SwarmCoordinator.WorkerExit {
        guard let process = processes.withLock({ $0.running[worker] }) else { return .exited(-1) }
        process.waitUntilExit()
        processes.withLock { _ = $0.running.removeValue(forKey: worker) }
        switch process.terminationReason {
        case .uncaughtSignal: return .signalled(process.terminationStatus)
        case .exit: return .exited(process.terminationStatus)
        @unknown default: return .exited(process.terminationStatus)
        }
    }

    /// Asks every running worker to stop (SIGTERM); they still send their final report.
    public func terminateAll() {
        processes.withLock { state in
            for process in state.running.values where process.isRunning { process.terminate() }
        }
    }

    /// Feeds every event into `coordinator` until all workers ended; `onProgress`
    /// is called whenever the fleet's current second advances.
    public func supervise(_ coordinator: inout SwarmCoordinator, onProgress: (LiveProgress) -> Void = { _ in }) async {
        var lastSecond: Int?
        for await event in events {
            switch event {
            case .line(let worker, let line):
                coordinator.ingest(line: line, from: worker)
            case .ended(let worker, let exit):
                coordinator.workerEnded(worker, exit: exit)
            }
            let progress = coordinator.progress
            if progress.second != lastSecond {
                lastSecond = progress.second
                onProgress(progress)
            }
        }
    }
}
