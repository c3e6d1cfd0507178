import DequeModule
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// Sends records to partition leaders in batches: murmur2 partitioning, per-partition
/// accumulation with linger and batch size, one Produce request per broker carrying
/// every ready partition, retries, idempotence (KIP-98) and bounded buffer memory.
///
/// An actor: the accumulator, sequence numbers and connection table are its state.
/// Requests to one broker are queued on its connection from inside the actor, so they
/// reach the broker in the order the batches were drained.
public actor KafkaProducer {
    /// The cluster client used for metadata, InitProducerId and connections; closed with the producer only when
    /// the producer created it (`init(bootstrap:...)`).
    public nonisolated let client: KafkaClusterClient
    /// The settings this producer was created with.
    public nonisolated let configuration: ProducerConfiguration
    private let ownsClient: Bool
    private var accumulator: RecordAccumulator
    private var partitioner = DefaultPartitioner()
    private var metadata = MetadataCache()
    private var connections: [Int32: BrokerConnection] = [:]
    private var connecting: Set<Int32> = []
    private var refreshing = false
    private var producerID: Int64 = -1
    private var producerEpoch: Int16 = -1
    private var initializingProducerID = false
    private var memoryWaiters: [CheckedContinuation<Void, any Error>] = []
    private var flushWaiters: [CheckedContinuation<Void, Never>] = []
    private var wakeTask: Task<Void, Never>?
    private var wakeDeadline: NIODeadline?
    private var isClosed = false
    /// Set when a bounded close gave up waiting: nothing is retried any more.
    private var abandoned = false

    /// A producer over a shared cluster client, which `close()` leaves open. Nothing is sent until the first record.
    public init(client: KafkaClusterClient, configuration: ProducerConfiguration = ProducerConfiguration()) {
        self.init(client: client, configuration: configuration, ownsClient: false)
    }

    /// A producer with a cluster client of its own, closed with the producer.
    public init(
        bootstrap: String,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        configuration: ProducerConfiguration = ProducerConfiguration(),
        clientConfiguration: ClientConfiguration = ClientConfiguration()
    ) throws {
        let client = try KafkaClusterClient(bootstrap: bootstrap, eventLoopGroup: eventLoopGroup, configuration: clientConfiguration)
        self.init(client: client, configuration: configuration, ownsClient: true)
    }

    private init(client: KafkaClusterClient, configuration: ProducerConfiguration, ownsClient: Bool) {
        self.client = client
        self.configuration = configuration
        self.ownsClient = ownsClient
        self.accumulator = RecordAccumulator(
            batchSize: configuration.batchSize, linger: configuration.linger,
            bufferMemory: configuration.bufferMemory,
            maxInFlightPerPartition: max(1, min(configuration.maxInFlightPerPartition, configuration.idempotent ? 5 : .max)))
    }

    // MARK: Sending

    /// Metadata lookups `send` makes for a topic it cannot route, `retryBackoff` apart,
    /// before it gives up.
    static let metadataAttempts = 50

    /// Sends one record and waits until the broker has it (per `acks`).
    ///
    /// `partition` nil picks one: murmur2 of `key` like the Java client, round robin for
    /// records without a key. `timestamp` is Unix milliseconds, nil for now. Suspends while
    /// buffer memory is full (`bufferMemory`) until earlier batches are answered.
    ///
    /// A topic missing from the metadata is looked up again, up to 50 times
    /// `retryBackoff` apart (so a topic created meanwhile is found); then this throws
    /// `KafkaClientError.broker` with the cluster's error for the topic
    /// (UNKNOWN_TOPIC_OR_PARTITION when it does not exist and auto-creation is off).
    /// It also throws that error for a `partition` the topic does not have,
    /// `KafkaClientError.closed` once the producer is closed, and the broker's error
    /// for the batch when it is not retriable or `maxAttempts` sends all failed.
    /// Connection loss and leader changes are retried after a metadata refresh.
    public func send(
        topic: String, partition: Int32? = nil, key: ByteBuffer?, value: ByteBuffer?,
        headers: [RecordHeader] = [], timestamp: Int64? = nil
    ) async throws -> RecordMetadata {
        let target = try await choosePartition(topic: topic, partition: partition, key: key)
        try await waitForMemory(key: key, value: value, headers: headers)
        return try await withCheckedThrowingContinuation { continuation in
            self.append(target, key: key, value: value, headers: headers, timestamp: timestamp, completion: .continuation(continuation))
        }
    }

    /// Queues one record and returns as soon as it is in the accumulator (suspending only
    /// while buffer memory is full); `completion` runs when the broker answers. Records
    /// queued one after another by the same caller keep their order per partition.
    ///
    /// Throws what `send(topic:partition:key:value:headers:timestamp:)` throws before the
    /// record is queued (unknown topic or partition, closed producer); failures after
    /// that go to `completion`, which runs exactly once per record on the producer's
    /// executor: keep it short and don't block in it.
    public func send(
        topic: String, partition: Int32? = nil, key: ByteBuffer?, value: ByteBuffer?,
        headers: [RecordHeader] = [], timestamp: Int64? = nil,
        completion: @escaping @Sendable (Result<RecordMetadata, any Error>) -> Void
    ) async throws {
        let target = try await choosePartition(topic: topic, partition: partition, key: key)
        try await waitForMemory(key: key, value: value, headers: headers)
        append(target, key: key, value: value, headers: headers, timestamp: timestamp, completion: .callback(completion))
    }

    /// Sends everything queued now, without waiting for linger, and waits for the answers.
    public func flush() async {
        accumulator.flushing = true
        runSender()
        if accumulator.isEmpty {
            accumulator.flushing = false
            return
        }
        await withCheckedContinuation { flushWaiters.append($0) }
    }

    /// Flushes, then closes the producer (and its own cluster client).
    public func close() async {
        guard !isClosed else { return }
        await flush()
        isClosed = true
        wakeTask?.cancel()
        for waiter in memoryWaiters { waiter.resume(throwing: KafkaClientError.closed) }
        memoryWaiters.removeAll()
        if ownsClient { await client.close() }
    }

    /// Closes like `close()`, but waits at most `timeout` for the broker (Java's
    /// `close(Duration)`): then every record still queued fails with
    /// `KafkaClientError.closed`, senders waiting for buffer memory are released with
    /// that error, records in flight fail when their answer or connection loss arrives
    /// instead of being retried, and the call returns. A service stopping while its
    /// broker is gone still stops.
    public func close(timeout: TimeAmount) async {
        guard !isClosed else { return }
        let expiry = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(max(0, timeout.nanoseconds)))
            guard !Task.isCancelled else { return }
            await self?.abandonPending()
        }
        await close()
        expiry.cancel()
    }

    private func abandonPending() {
        guard !isClosed || accumulator.flushing else { return }
        abandoned = true
        for batch in accumulator.removeAllQueued() { batch.fail(KafkaClientError.closed) }
        for waiter in memoryWaiters { waiter.resume(throwing: KafkaClientError.closed) }
        memoryWaiters.removeAll()
        accumulator.flushing = false
        let flushed = flushWaiters
        flushWaiters.removeAll()
        for waiter in flushed { waiter.resume() }
    }

    private func choosePartition(topic: String, partition: Int32?, key: ByteBuffer?) async throws -> TopicPartition {
        guard !isClosed else { throw KafkaClientError.closed }
        var attempt = 0
        while true {
            if let count = metadata.partitionCount(of: topic) {
                if let partition {
                    guard partition >= 0, partition < count else {
                        throw KafkaClientError.broker(.unknownTopicOrPartition, context: "produce to \(topic)-\(partition) (\(count) partitions)")
                    }
                    return TopicPartition(topic, partition)
                }
                return TopicPartition(topic, partitioner.partition(topic: topic, key: key, partitionCount: count))
            }
            attempt += 1
            if attempt > Self.metadataAttempts {
                // Say what the cluster answered (UNKNOWN_TOPIC_OR_PARTITION for a topic that does
                // not exist where auto-creation is off), not just that routing failed.
                if let code = metadata.topics[topic]?.error, code != .none {
                    throw KafkaClientError.broker(code, context: "metadata of topic \(topic)")
                }
                throw KafkaClientError.unknownTopic(topic)
            }
            if attempt > 1 { await client.markStale() }
            if let fresh = try? await client.metadata(for: [topic]) {
                metadata = fresh
            }
            if metadata.partitionCount(of: topic) == nil {
                try await Task.sleep(nanoseconds: UInt64(configuration.retryBackoff.nanoseconds))
            }
        }
    }

    private func waitForMemory(key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader]) async throws {
        let size = RecordBatchBuilder.estimatedSize(keyLength: key?.readableBytes, valueLength: value?.readableBytes, headers: headers)
        while !accumulator.hasRoom(for: size) {
            guard !isClosed else { throw KafkaClientError.closed }
            try await withCheckedThrowingContinuation { memoryWaiters.append($0) }
        }
    }

    private func append(_ target: TopicPartition, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader], timestamp: Int64?, completion: RecordCompletion) {
        let result = accumulator.append(
            to: target, timestamp: timestamp ?? WallClock.nowMilliseconds(), key: key, value: value,
            headers: headers, completion: completion, now: .now())
        switch result {
        case .bufferFull:
            // waitForMemory made room and nothing ran in between: this cannot happen, but fail cleanly.
            completion.complete(.failure(KafkaClientError.invalidState("buffer memory full")))
        case let .appended(batchIsFull):
            if batchIsFull || configuration.linger == .zero {
                runSender()
            } else if let deadline = accumulator.nextLingerDeadline() {
                scheduleWake(at: deadline)
            }
        }
    }

    // MARK: The sender

    /// Drains every ready partition into Produce requests, one per broker per round.
    private func runSender() {
        guard !isClosed || accumulator.flushing else { return }
        if configuration.idempotent && producerID < 0 {
            initProducerID()
            return
        }
        let now = NIODeadline.now()
        var needsMetadata = false
        var blocked = Set<TopicPartition>()
        while true {
            var byNode: [Int32: [ProducerBatch]] = [:]
            for partition in accumulator.readyPartitions(now: now) where !blocked.contains(partition) {
                guard let leader = metadata.leader(for: partition) else {
                    needsMetadata = true
                    blocked.insert(partition)
                    continue
                }
                guard let connection = connections[leader.nodeID], connection.isActive else {
                    connect(leader.nodeID)
                    blocked.insert(partition)
                    continue
                }
                _ = connection
                if let batch = accumulator.drain(partition, idempotent: configuration.idempotent) {
                    byNode[leader.nodeID, default: []].append(batch)
                }
            }
            if byNode.isEmpty { break }
            for (node, batches) in byNode.sorted(by: { $0.key < $1.key }) {
                send(batches, to: node)
            }
        }
        if needsMetadata { refreshMetadata() }
        if let deadline = accumulator.nextLingerDeadline(), deadline > now {
            scheduleWake(at: deadline)
        }
    }

    private func send(_ batches: [ProducerBatch], to node: Int32) {
        guard let connection = connections[node] else { return }
        var topics: [String: [ProduceRequest.PartitionProduceData]] = [:]
        for batch in batches {
            topics[batch.partition.topic, default: []].append(ProduceRequest.PartitionProduceData(
                index: batch.partition.partition,
                records: batch.encoded(producerID: producerID, producerEpoch: producerEpoch)))
        }
        let request = ProduceRequest(
            transactionalID: nil, acks: configuration.acks.rawValue, timeoutMs: configuration.produceTimeoutMs,
            topicData: topics.sorted { $0.key < $1.key }.map { ProduceRequest.TopicProduceData(name: $0.key, partitionData: $0.value) })
        if configuration.acks == .none {
            connection.sendWithoutResponseFuture(request).whenComplete { result in
                Task { await self.handleUnacknowledged(result, batches: batches, node: node) }
            }
        } else {
            connection.sendFuture(request).whenComplete { result in
                Task { await self.handle(result, batches: batches, node: node) }
            }
        }
    }

    private func handleUnacknowledged(_ result: Result<Void, any Error>, batches: [ProducerBatch], node: Int32) {
        switch result {
        case .success:
            for batch in batches {
                accumulator.complete(batch)
                batch.succeed(baseOffset: -1, logAppendTime: -1)
            }
            afterCompletion(retrying: false)
        case let .failure(error):
            handle(.failure(error), batches: batches, node: node)
        }
    }

    private func handle(_ result: Result<ProduceResponse, any Error>, batches: [ProducerBatch], node: Int32) {
        var retrying = false
        var refresh = false
        switch result {
        case let .success(response):
            var answers: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
            for topic in response.responses {
                for partition in topic.partitionResponses { answers[TopicPartition(topic.name, partition.index)] = partition }
            }
            for batch in batches {
                guard let answer = answers[batch.partition] else {
                    retrying = retryOrFail(batch, KafkaClientError.protocolViolation(broker: "node \(node)", reason: "no answer for \(batch.partition)")) || retrying
                    continue
                }
                let code = KafkaErrorCode(answer.errorCode)
                if code == .none || code == .duplicateSequenceNumber {
                    accumulator.complete(batch)
                    batch.succeed(baseOffset: answer.baseOffset, logAppendTime: answer.logAppendTimeMs)
                    continue
                }
                let error = KafkaClientError.broker(code, context: "produce to \(batch.partition)")
                let retriable = code.isRetriable || (configuration.idempotent && code == .outOfOrderSequenceNumber)
                if code.invalidatesMetadata { refresh = true }
                if retriable {
                    retrying = retryOrFail(batch, error) || retrying
                } else {
                    accumulator.complete(batch)
                    batch.fail(error)
                }
            }
        case let .failure(error):
            connections[node] = nil
            refresh = true
            for batch in batches {
                retrying = retryOrFail(batch, error) || retrying
            }
        }
        if refresh {
            Task { await client.markStale() }
            refreshMetadata()
        }
        afterCompletion(retrying: retrying)
    }

    /// Puts a batch back for another send, or fails it when its attempts are used up.
    private func retryOrFail(_ batch: ProducerBatch, _ error: any Error) -> Bool {
        if !abandoned && batch.attempts < configuration.maxAttempts && (!isClosed || accumulator.flushing) {
            accumulator.requeue(batch)
            return true
        }
        accumulator.complete(batch)
        batch.fail(error)
        return false
    }

    private func afterCompletion(retrying: Bool) {
        let waiters = memoryWaiters
        memoryWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
        if accumulator.isEmpty {
            accumulator.flushing = false
            let flushed = flushWaiters
            flushWaiters.removeAll()
            for waiter in flushed { waiter.resume() }
        }
        if retrying {
            scheduleWake(at: .now() + configuration.retryBackoff)
        } else {
            runSender()
        }
    }

    private func connect(_ node: Int32) {
        guard !connecting.contains(node) else { return }
        connecting.insert(node)
        Task {
            do {
                let connection = try await client.connection(to: node)
                self.connected(node, connection)
            } catch {
                self.connectFailed(node)
            }
        }
    }

    private func connected(_ node: Int32, _ connection: BrokerConnection) {
        connecting.remove(node)
        connections[node] = connection
        runSender()
    }

    private func connectFailed(_ node: Int32) {
        connecting.remove(node)
        refreshMetadata()
        scheduleWake(at: .now() + configuration.retryBackoff)
    }

    private func refreshMetadata() {
        guard !refreshing else { return }
        refreshing = true
        let topics = Array(metadata.topics.keys)
        Task {
            let fresh = try? await client.refreshMetadata(topics: topics)
            self.metadataRefreshed(fresh)
        }
    }

    private func metadataRefreshed(_ fresh: MetadataCache?) {
        refreshing = false
        if let fresh { metadata = fresh }
        scheduleWake(at: .now() + (fresh == nil ? configuration.retryBackoff : .zero))
    }

    private func initProducerID() {
        guard !initializingProducerID else { return }
        initializingProducerID = true
        Task {
            do {
                let response = try await client.sendToAny(InitProducerIdRequest(transactionalID: nil, transactionTimeoutMs: 60_000, producerID: -1, producerEpoch: -1))
                guard response.errorCode == 0 else {
                    throw KafkaClientError.broker(KafkaErrorCode(response.errorCode), context: "InitProducerId")
                }
                self.producerIDAssigned(response.producerID, response.producerEpoch)
            } catch {
                self.producerIDFailed()
            }
        }
    }

    private func producerIDAssigned(_ id: Int64, _ epoch: Int16) {
        initializingProducerID = false
        producerID = id
        producerEpoch = epoch
        runSender()
    }

    private func producerIDFailed() {
        initializingProducerID = false
        scheduleWake(at: .now() + configuration.retryBackoff)
    }

    /// One wake-up task per producer at most: re-armed for an earlier deadline, never stacked.
    private func scheduleWake(at deadline: NIODeadline) {
        if let current = wakeDeadline, current <= deadline { return }
        wakeTask?.cancel()
        wakeDeadline = deadline
        wakeTask = Task {
            let delay = deadline - .now()
            if delay > .zero {
                try? await Task.sleep(nanoseconds: UInt64(delay.nanoseconds))
            }
            guard !Task.isCancelled else { return }
            self.wakeFired()
        }
    }

    private func wakeFired() {
        wakeTask = nil
        wakeDeadline = nil
        runSender()
    }
}
