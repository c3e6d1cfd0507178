import DequeModule
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// Reads records from manually assigned partitions: positions, seeks (ListOffsets),
/// a fetch loop with prefetch that sends one Fetch per leader for all of its partitions,
/// pause/resume and lag.
///
/// Light by construction, for thousands per process: an actor with at most one fetch
/// round in flight and no timers; it shares the cluster client's connections when
/// given one. Fetching starts with the first `poll` and then keeps one long-poll in flight.
public actor KafkaConsumer {
    struct PartitionState {
        /// The next offset `poll` hands out.
        var position: Int64?
        /// The next offset to fetch (ahead of `position` by what is buffered).
        var fetchPosition: Int64?
        var highWatermark: Int64 = -1
        var paused = false
        /// Changed by every seek, pause and reset, so a fetch answer for an older position
        /// is discarded. Drawn from the consumer's `nextEpoch`, never per partition: a
        /// partition unassigned and assigned again must not reach an epoch that a fetch
        /// still in flight from its earlier life carries.
        var epoch: UInt64
    }

    private var nextEpoch: UInt64 = 0

    /// An epoch no partition state of this consumer has had.
    private func freshEpoch() -> UInt64 {
        nextEpoch &+= 1
        return nextEpoch
    }

    /// The cluster client this consumer fetches through; closed by `close()` only when the consumer owns it.
    public nonisolated let client: KafkaClusterClient
    /// The settings this consumer was created with.
    public nonisolated let configuration: ConsumerConfiguration
    private let ownsClient: Bool
    private var partitions: [TopicPartition: PartitionState] = [:]
    private var buffered: Deque<ConsumerRecord> = []
    private var fetching = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var pendingError: (any Error)?
    private var isClosed = false

    /// A consumer over `client`. With `closesClient` the consumer owns the client and
    /// closes it (and so its connections) in `close()`: a consumer with a connection of
    /// its own, built over a cluster client seeded with shared metadata.
    public init(client: KafkaClusterClient, configuration: ConsumerConfiguration = ConsumerConfiguration(), closesClient: Bool = false) {
        self.client = client
        self.configuration = configuration
        self.ownsClient = closesClient
    }

    /// A consumer with a cluster client of its own, closed with the consumer.
    public init(
        bootstrap: String,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        configuration: ConsumerConfiguration = ConsumerConfiguration(),
        clientConfiguration: ClientConfiguration = ClientConfiguration()
    ) throws {
        var clientConfiguration = clientConfiguration
        clientConfiguration.allowAutoTopicCreation = false
        self.client = try KafkaClusterClient(bootstrap: bootstrap, eventLoopGroup: eventLoopGroup, configuration: clientConfiguration)
        self.configuration = configuration
        self.ownsClient = true
    }

    // MARK: Assignment and positions

    /// Replaces the assignment. Partitions kept keep their positions; new ones start
    /// per `autoOffsetReset` unless sought.
    public func assign(_ newAssignment: [TopicPartition]) {
        var next: [TopicPartition: PartitionState] = [:]
        for partition in newAssignment {
            next[partition] = partitions[partition] ?? PartitionState(epoch: freshEpoch())
        }
        let removed = Set(partitions.keys).subtracting(next.keys)
        partitions = next
        if !removed.isEmpty {
            buffered.removeAll { removed.contains($0.topicPartition) }
        }
    }

    /// The partitions assigned now, sorted by topic then partition.
    public var assignment: [TopicPartition] { partitions.keys.sorted() }

    /// Moves a partition's position; buffered records of it are dropped.
    public func seek(_ partition: TopicPartition, to target: SeekPosition) async throws {
        guard partitions[partition] != nil else {
            throw KafkaClientError.invalidState("seek on \(partition), which is not assigned")
        }
        let offset: Int64
        switch target {
        case let .offset(value): offset = value
        case .beginning: offset = try await lookup(partition, timestamp: KafkaClusterClient.earliestTimestamp)
        case .end: offset = try await lookup(partition, timestamp: KafkaClusterClient.latestTimestamp)
        case let .timestamp(milliseconds): offset = try await lookup(partition, timestamp: milliseconds)
        }
        setPosition(partition, offset)
    }

    /// Seeks several partitions to exact offsets at once (committed offsets, say).
    public func seek(_ offsets: [TopicPartition: Int64]) {
        for (partition, offset) in offsets where partitions[partition] != nil {
            setPosition(partition, offset)
        }
    }

    private func lookup(_ partition: TopicPartition, timestamp: Int64) async throws -> Int64 {
        let answer = try await client.listOffsets([partition: timestamp])
        guard let offset = answer[partition] else { throw KafkaClientError.leaderNotAvailable(topic: partition.topic, partition: partition.partition) }
        return offset
    }

    private func setPosition(_ partition: TopicPartition, _ offset: Int64) {
        guard var state = partitions[partition] else { return }
        state.position = offset
        state.fetchPosition = offset
        state.epoch = freshEpoch()
        partitions[partition] = state
        buffered.removeAll { $0.partition == partition.partition && $0.topic == partition.topic }
    }

    /// The offset of the next record `poll` will hand out for `partition`.
    public func position(of partition: TopicPartition) -> Int64? {
        partitions[partition]?.position
    }

    /// The high watermark seen in the last fetch of `partition`.
    public func highWatermark(of partition: TopicPartition) -> Int64? {
        guard let value = partitions[partition]?.highWatermark, value >= 0 else { return nil }
        return value
    }

    /// Records between the position and the high watermark.
    public func lag(of partition: TopicPartition) -> Int64? {
        guard let state = partitions[partition], let position = state.position, state.highWatermark >= 0 else { return nil }
        return max(0, state.highWatermark - position)
    }

    /// Stops fetching `paused` partitions; their buffered records go back to be fetched again after `resume`.
    public func pause(_ paused: [TopicPartition]) {
        for partition in paused {
            guard var state = partitions[partition] else { continue }
            state.paused = true
            state.fetchPosition = state.position
            state.epoch = freshEpoch()
            partitions[partition] = state
        }
        let set = Set(paused)
        buffered.removeAll { set.contains($0.topicPartition) }
    }

    /// Fetches paused partitions again, from their positions. Partitions not assigned or not paused are ignored.
    public func resume(_ resumed: [TopicPartition]) {
        for partition in resumed { partitions[partition]?.paused = false }
    }

    /// The assigned partitions that are paused, sorted.
    public var paused: [TopicPartition] { partitions.filter(\.value.paused).map(\.key).sorted() }

    // MARK: Records

    /// Hands out buffered records (at most `maxPollRecords`), waiting for a fetch round
    /// when none are buffered. Throws fetch errors (a compressed batch, an offset out of
    /// range with no reset policy) once each. Retriable trouble (a broker down or
    /// restarting, a leader moving) is not thrown: fetching resumes from the same
    /// positions once the cluster answers, so records come without gaps or duplicates.
    /// While the cluster is unreachable this waits; `poll(timeout:)` bounds the wait and
    /// `lastFetchError` says why nothing comes.
    public func poll() async throws -> [ConsumerRecord] {
        try await poll(until: nil)
    }

    /// `poll()` waiting at most `timeout`: an empty array when no record came in time
    /// (as the Java client's `poll(Duration)`); then `lastFetchError` tells a quiet
    /// topic from an unreachable cluster.
    public func poll(timeout: TimeAmount) async throws -> [ConsumerRecord] {
        try await poll(until: .now() + timeout)
    }

    /// The retriable error that made the latest fetch round fail (a broker unreachable, a
    /// request timed out, a leader unknown), or nil when the latest round succeeded.
    /// `poll` does not throw these; long-running readers log them, bounded ones give up on them.
    public private(set) var lastFetchError: KafkaClientError?

    /// How many times `poll` has parked waiting for records or its deadline: a quiet
    /// consumer parks about once per fetch round, never in a loop (tests read it).
    internal private(set) var pollWaits = 0

    private func poll(until deadline: NIODeadline?) async throws -> [ConsumerRecord] {
        while true {
            if let error = pendingError {
                pendingError = nil
                throw error
            }
            guard !isClosed else { throw KafkaClientError.closed }
            if !buffered.isEmpty {
                let count = min(max(1, configuration.maxPollRecords), buffered.count)
                let out = Array(buffered.prefix(count))
                buffered.removeFirst(count)
                // Records arrive in runs per partition: move each run's position once.
                var runStart = 0
                for index in 1...count where index == count || !out[index].isSamePartition(as: out[runStart]) {
                    partitions[out[runStart].topicPartition]?.position = out[index - 1].offset + 1
                    runStart = index
                }
                startFetchIfNeeded()
                return out
            }
            startFetchIfNeeded()
            guard let deadline else {
                await withCheckedContinuation { waiters.append($0) }
                continue
            }
            let remaining = deadline - .now()
            guard remaining > .zero else { return [] }
            // Waiters re-check their own state when woken, so an early wake costs one loop.
            // A cancelled timer must not wake anyone: it would wake the next round's wait,
            // which cancels its own timer, which wakes the round after — a spin that also
            // piles up one dispatch timer per turn (the gateway's idle 400 MB).
            let timer = Task { [weak self] in
                do { try await Task.sleep(nanoseconds: UInt64(remaining.nanoseconds)) } catch { return }
                await self?.wakeWaiters()
            }
            pollWaits += 1
            await withCheckedContinuation { waiters.append($0) }
            timer.cancel()
        }
    }

    /// The records as an async sequence; it ends when the consumer closes.
    public nonisolated var records: ConsumerRecordSequence { ConsumerRecordSequence(consumer: self) }

    /// Stops fetching: pending and later `poll`s throw `KafkaClientError.closed` (the `records` sequence ends),
    /// and the cluster client is closed if this consumer owns it. Commits nothing (a plain consumer has no group). Idempotent.
    public func close() async {
        guard !isClosed else { return }
        isClosed = true
        wakeWaiters()
        if ownsClient { await client.close() }
    }

    private func wakeWaiters() {
        let current = waiters
        waiters.removeAll()
        for waiter in current { waiter.resume() }
    }

    // MARK: Fetching

    private func startFetchIfNeeded() {
        guard !fetching, !isClosed, buffered.count < configuration.prefetchRecords else { return }
        fetching = true
        Task { await self.fetchRound() }
    }

    private func fetchRound() async {
        defer {
            fetching = false
            wakeWaiters()
            if !isClosed && buffered.count < configuration.prefetchRecords && (pendingError == nil) {
                startFetchIfNeeded()
            }
        }
        do {
            try await resetMissingPositions()
            let fetchable = partitions.filter { !$0.value.paused && $0.value.fetchPosition != nil }
            guard !fetchable.isEmpty else {
                try await Task.sleep(nanoseconds: UInt64(configuration.maxWait.nanoseconds))
                return
            }
            let cache = try await client.metadata(for: Array(Set(fetchable.keys.map(\.topic))))
            let routed = cache.route(fetchable.keys.sorted())
            if !routed.unroutable.isEmpty { await client.markStale() }
            var snapshot: [TopicPartition: (offset: Int64, epoch: UInt64)] = [:]
            for (partition, state) in fetchable { snapshot[partition] = (state.fetchPosition!, state.epoch) }
            let results = await withTaskGroup(of: (Int32, Result<FetchResponse, any Error>).self) { group in
                for (node, nodePartitions) in routed.byLeader {
                    let request = makeFetchRequest(nodePartitions, snapshot: snapshot)
                    let client = self.client
                    let extra = configuration.maxWait
                    group.addTask {
                        do { return (node, .success(try await client.send(request, to: node, extraTimeout: extra))) } catch { return (node, .failure(error)) }
                    }
                }
                var all: [(Int32, Result<FetchResponse, any Error>)] = []
                for await result in group { all.append(result) }
                return all
            }
            var failed = routed.byLeader.isEmpty
            for (node, result) in results {
                switch result {
                case let .success(response):
                    if let error = try absorb(response, snapshot: snapshot) {
                        lastFetchError = error
                        failed = true
                    }
                case let .failure(error):
                    if let clientError = error as? KafkaClientError, !clientError.isRetriable { throw error }
                    lastFetchError = error as? KafkaClientError
                        ?? .connectionClosed(broker: "node \(node)", reason: "\(error)")
                    failed = true
                }
            }
            if routed.byLeader.isEmpty, let first = routed.unroutable.first {
                lastFetchError = .leaderNotAvailable(topic: first.topic, partition: first.partition)
            }
            if failed {
                if !buffered.isEmpty { wakeWaiters() }  // what other leaders sent does not wait out the backoff
                try await Task.sleep(nanoseconds: retryBackoffNanoseconds)
            } else {
                lastFetchError = nil
            }
        } catch is CancellationError {
        } catch let error as KafkaClientError where error.isRetriable {
            // A broker restarting or unreachable, a leader moving: not the caller's problem.
            // Fetch again from the same positions after a backoff and a metadata refresh.
            lastFetchError = error
            await client.markStale()
            try? await Task.sleep(nanoseconds: retryBackoffNanoseconds)
        } catch {
            pendingError = error
        }
    }

    /// `retryBackoff`, but at least 10 ms: a cluster refusing connections at once must not turn the fetch loop into a spin.
    private var retryBackoffNanoseconds: UInt64 { UInt64(max(configuration.retryBackoff.nanoseconds, 10_000_000)) }

    private func makeFetchRequest(_ nodePartitions: [TopicPartition], snapshot: [TopicPartition: (offset: Int64, epoch: UInt64)]) -> FetchRequest {
        var topics: [FetchRequest.FetchTopic] = []
        for partition in nodePartitions {
            let entry = FetchRequest.FetchPartition(partition: partition.partition, fetchOffset: snapshot[partition]!.offset, partitionMaxBytes: configuration.partitionMaxBytes)
            if topics.last?.topic == partition.topic {
                topics[topics.count - 1].partitions.append(entry)
            } else {
                topics.append(FetchRequest.FetchTopic(topic: partition.topic, partitions: [entry]))
            }
        }
        return FetchRequest(
            replicaID: -1, maxWaitMs: Int32(configuration.maxWait.nanoseconds / 1_000_000), minBytes: configuration.minBytes,
            maxBytes: configuration.maxBytes, isolationLevel: 0, sessionID: 0, sessionEpoch: -1, topics: topics)
    }

    /// Buffers the records of a fetch answer; returns the first retriable partition error
    /// (those partitions are fetched again after a metadata refresh).
    private func absorb(_ response: FetchResponse, snapshot: [TopicPartition: (offset: Int64, epoch: UInt64)]) throws -> KafkaClientError? {
        var staleMetadata = false
        var retriable: KafkaClientError?
        for topic in response.responses {
            for data in topic.partitions {
                let partition = TopicPartition(topic.topic, data.partitionIndex)
                // An answer counts only for the position it was asked for.
                guard let asked = snapshot[partition], var state = partitions[partition], state.epoch == asked.epoch,
                      state.fetchPosition == asked.offset, !state.paused else { continue }
                let code = KafkaErrorCode(data.errorCode)
                if code == .offsetOutOfRange {
                    guard configuration.autoOffsetReset != .none else {
                        throw KafkaClientError.broker(code, context: "fetch \(partition) at \(asked.offset)")
                    }
                    state.position = nil
                    state.fetchPosition = nil
                    state.epoch = freshEpoch()
                    partitions[partition] = state
                    continue
                }
                guard code == .none else {
                    if code.invalidatesMetadata || code.isRetriable {
                        staleMetadata = true
                        if retriable == nil { retriable = .broker(code, context: "fetch \(partition)") }
                        continue
                    }
                    throw KafkaClientError.broker(code, context: "fetch \(partition)")
                }
                state.highWatermark = data.highWatermark
                let parsed = try FetchedRecords.parse(data.records, topic: partition.topic, partition: partition.partition,
                                                      position: asked.offset, verifyCRC: configuration.checkCRCs)
                state.fetchPosition = parsed.nextFetchOffset
                partitions[partition] = state
                buffered.append(contentsOf: parsed.records)
            }
        }
        if staleMetadata { Task { await client.markStale() } }
        return retriable
    }

    /// Partitions without a position start per `autoOffsetReset`.
    private func resetMissingPositions() async throws {
        let missing = partitions.filter { $0.value.fetchPosition == nil }.map(\.key)
        guard !missing.isEmpty else { return }
        let timestamp: Int64
        switch configuration.autoOffsetReset {
        case .earliest: timestamp = KafkaClusterClient.earliestTimestamp
        case .latest: timestamp = KafkaClusterClient.latestTimestamp
        case .none: throw KafkaClientError.invalidState("no position for \(missing.sorted()) and autoOffsetReset is none")
        }
        var epochs: [TopicPartition: UInt64] = [:]
        for partition in missing { epochs[partition] = partitions[partition]!.epoch }
        let offsets = try await client.listOffsets(Dictionary(uniqueKeysWithValues: missing.map { ($0, timestamp) }))
        for (partition, offset) in offsets {
            // A seek while the lookup ran wins.
            guard let state = partitions[partition], state.epoch == epochs[partition], state.fetchPosition == nil else { continue }
            setPosition(partition, offset)
        }
    }
}

/// The consumer's records, one at a time, fetched a `poll` at a time.
public struct ConsumerRecordSequence: AsyncSequence, Sendable {
    /// Each element is one record.
    public typealias Element = ConsumerRecord
    let consumer: KafkaConsumer

    /// Iterates a `poll` at a time. Not `Sendable`: use one iterator from one task.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        var batch: [ConsumerRecord] = []
        var index = 0

        /// The next record, waiting for a fetch when none is buffered; nil once the consumer is closed.
        /// Rethrows every other `poll` error (the sequence can be iterated again afterwards).
        public mutating func next() async throws -> ConsumerRecord? {
            while index >= batch.count {
                do {
                    batch = try await consumer.poll()
                    index = 0
                } catch KafkaClientError.closed {
                    return nil
                }
            }
            defer { index += 1 }
            return batch[index]
        }
    }

    /// A new iterator. Iterators share the consumer: two of them split the records between them.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
}
