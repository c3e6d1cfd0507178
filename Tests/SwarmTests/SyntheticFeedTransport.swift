import Synchronization
@testable import Swarm

/// Test double: an in-memory partitioned log standing in for the broker, and a
/// transport that serves it to swarm clients synchronously. Not shipped.
///
/// `publish` appends one quote per symbol (seq per symbol from 1) and pushes new
/// records to every reading client; connecting with `resumeFrom` replays from
/// those offsets, a fresh connect starts at the log end; a paused client is
/// served from where it stopped when it resumes.
final class SyntheticFeedTransport: SwarmTransport {
    struct Record {
        var symbol: String
        var seq: UInt64
        var timestampNanos: Int64
    }

    struct Reader {
        var sink: any SwarmDeliverySink
        var partitions: [Int32]
        var positions: [Int32: Int64]
        var paused = false
    }

    struct State {
        var log: [[Record]]
        var nextSeq: [String: UInt64] = [:]
        var readers: [Int: Reader] = [:]
        var connects = 0
    }

    let symbols: [String]
    let partitionCount: Int32
    private let state: Mutex<State>

    init(symbols: [String], partitions: Int32) {
        self.symbols = symbols
        partitionCount = partitions
        state = Mutex(State(log: Array(repeating: [], count: Int(partitions))))
    }

    func partition(for symbol: String) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in symbol.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int32(hash % UInt32(partitionCount))
    }

    var connects: Int { state.withLock { $0.connects } }

    /// Appends one quote for every symbol and serves the readers.
    func publish(timestampNanos: Int64) {
        state.withLock { state in
            for symbol in symbols {
                let seq = state.nextSeq[symbol, default: 1]
                state.nextSeq[symbol] = seq + 1
                state.log[Int(partition(for: symbol))].append(Record(symbol: symbol, seq: seq, timestampNanos: timestampNanos))
            }
            for client in state.readers.keys { serve(client, &state) }
        }
    }

    private func serve(_ client: Int, _ state: inout State) {
        guard var reader = state.readers[client], !reader.paused else { return }
        for partition in reader.partitions {
            let records = state.log[Int(partition)]
            var position = reader.positions[partition] ?? Int64(records.count)
            while position < Int64(records.count) {
                let record = records[Int(position)]
                reader.sink.deliver(Delivery(symbol: record.symbol, seq: record.seq, timestampNanos: record.timestampNanos,
                                             partition: partition, offset: position, receivedNanos: WallClock.nowNanos(), bytes: 100),
                                    to: client)
                position += 1
            }
            reader.positions[partition] = position
        }
        state.readers[client] = reader
    }

    func connect(_ subscription: SwarmSubscription, sink: any SwarmDeliverySink) async throws {
        state.withLock { state in
            state.connects += 1
            var positions = subscription.resumeFrom
            for partition in subscription.partitions where positions[partition] == nil {
                let end = Int64(state.log[Int(partition)].count)
                positions[partition] = end
                sink.startedReading(client: subscription.client, partition: partition, at: end)
            }
            state.readers[subscription.client] = Reader(sink: sink, partitions: subscription.partitions, positions: positions)
            serve(subscription.client, &state)
        }
    }

    func pause(client: Int) async {
        state.withLock { _ = $0.readers[client]?.paused = true }
    }

    func resume(client: Int) async {
        state.withLock { state in
            state.readers[client]?.paused = false
            serve(client, &state)
        }
    }

    func disconnect(client: Int) async {
        state.withLock { _ = $0.readers.removeValue(forKey: client) }
    }

    func shutdown() async {
        state.withLock { $0.readers.removeAll() }
    }
}
