import Foundation
import KafkaClient
import Logging
import Market
import NIOCore
import ServiceLifecycle
import Synchronization

/// The exactly-once history sink: a consumer-group member on the quotes topic that writes
/// every quote into SQLite once, with each partition's next offset in the same transaction.
///
/// - On assignment it `claim`s the partitions in SQLite with its member id and generation;
///   the poll task then seeks them to the next offsets stored in SQLite (none → earliest),
///   never to the broker's committed offsets.
/// - Records are batched (`batchSize` records or `batchInterval`) and written by
///   `HistoryStore.write` in one transaction that re-checks ownership: a sink that lost a
///   partition in a rebalance can never commit rows for it (`.fenced`), and records below
///   the stored offset are skipped, so a crash at any instant loses and duplicates nothing.
/// - A record that is not a quote is counted and logged; its offset is stored all the same.
/// - After each transaction the offsets are also committed to the group, for Kafka tools'
///   lag; SQLite stays the source of truth.
///
/// A `Service`: it runs until graceful shutdown (or cancellation), then writes what it
/// has, leaves the group and returns.
public final class HistorySink: Service, Sendable {
    public let configuration: HistorySinkConfiguration
    let logger: Logger
    let ownership = SinkOwnership()
    let counters = Mutex(SinkStatistics())
    private let started = ContinuousClock.now

    public init(configuration: HistorySinkConfiguration, logger: Logger = Logger(label: "tickstream.sink")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// A snapshot of the counters.
    public var statistics: SinkStatistics {
        var snapshot = counters.withLock { $0 }
        snapshot.elapsedSeconds = (ContinuousClock.now - started).seconds
        return snapshot
    }

    public func run() async throws {
        let store = try HistoryStore(path: configuration.databasePath, busyTimeoutSeconds: configuration.busyTimeout.seconds)
        var clientConfiguration = ClientConfiguration()
        clientConfiguration.allowAutoTopicCreation = false
        let client = try KafkaClusterClient(bootstrap: configuration.bootstrap, configuration: clientConfiguration)
        do {
            try await cancelWhenGracefulShutdown { try await self.waitForTopic(client) }
        } catch {
            await client.close()
            throw error
        }
        let group = makeGroup(client: client, store: store)
        let handoff = RecordHandoff<PolledRecords>()
        logger.info("sink joining group", metadata: [
            "group": "\(configuration.groupID)", "topic": "\(configuration.topic)", "db": "\(configuration.databasePath)",
        ])
        do {
            try await group.start()
        } catch {
            await group.close()
            await client.close()
            throw error
        }
        let poller = Task { await self.pollLoop(group: group, store: store, handoff: handoff) }
        let status = Task { await self.statusLoop(group: group) }
        let result: Result<Void, any Error>
        do {
            try await withGracefulShutdownHandler {
                try await withTaskCancellationHandler {
                    try await writeLoop(group: group, store: store, handoff: handoff)
                } onCancel: {
                    Task { await handoff.close() }
                }
            } onGracefulShutdown: {
                Task { await handoff.close() }
            }
            result = .success(())
        } catch {
            logger.error("sink stopping on an error", metadata: ["error": "\(error)"])
            result = .failure(error)
        }
        logger.debug("write loop ended; leaving the group")
        poller.cancel()
        await handoff.close()
        await refreshLag(group: group)
        await group.close()
        await client.close()
        _ = await poller.value
        status.cancel()
        _ = await status.value
        finishProgress()
        try result.get()
    }

    /// The group's assignment is computed from the topic's partitions at join time, so the
    /// sink waits until the topic exists (the pricer creates it) instead of joining with none.
    private func waitForTopic(_ client: KafkaClusterClient) async throws {
        var waited = false
        while true {
            if let metadata = try? await client.refreshMetadata(topics: [configuration.topic]),
               let count = metadata.partitionCount(of: configuration.topic), count > 0 {
                return
            }
            if !waited {
                logger.info("waiting for topic \(configuration.topic) to exist")
                waited = true
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    private func makeGroup(client: KafkaClusterClient, store: HistoryStore) -> KafkaGroupConsumer {
        var groupConfiguration = GroupConfiguration()
        groupConfiguration.sessionTimeout = .nanoseconds(Int64(configuration.sessionTimeout.seconds * 1e9))
        groupConfiguration.heartbeatInterval = .nanoseconds(Int64(configuration.heartbeatInterval.seconds * 1e9))
        groupConfiguration.rebalanceTimeout = max(groupConfiguration.sessionTimeout, .seconds(10))
        var consumerConfiguration = ConsumerConfiguration()
        consumerConfiguration.maxPollRecords = max(500, min(configuration.batchSize, 10_000))
        consumerConfiguration.prefetchRecords = max(1000, 2 * consumerConfiguration.maxPollRecords)
        consumerConfiguration.autoOffsetReset = .earliest
        consumerConfiguration.maxWait = .milliseconds(100)
        let reference = GroupReference()
        let group = KafkaGroupConsumer(
            client: client, groupID: configuration.groupID, topics: [configuration.topic],
            configuration: groupConfiguration, consumerConfiguration: consumerConfiguration, logger: logger,
            onAssigned: { [self] assignment in await self.assigned(assignment, store: store, group: reference.group) },
            onRevoked: { [self] partitions in self.revoked(partitions) })
        reference.group = group
        return group
    }

    // MARK: Rebalances (called from the group's task)

    /// A takeover's claim: the stored generations it may replace, and the ownership version
    /// it was decided at (a newer assignment installed meanwhile wins).
    private struct Takeover {
        var replacing: [TopicPartition: Int32]
        var ownershipVersion: UInt64
    }

    private func assigned(_ assignment: GroupAssignment, store: HistoryStore, group: KafkaGroupConsumer?,
                          takeover: Takeover? = nil) async {
        let overriding = takeover != nil
        do {
            let offsets = try await store.claim(partitions: assignment.partitions, owner: assignment.memberID,
                                                generation: assignment.generationID, replacing: takeover?.replacing ?? [:])
            guard ownership.install(owner: assignment.memberID, generation: assignment.generationID,
                                    partitions: assignment.partitions, ifVersion: takeover?.ownershipVersion) else {
                logger.info("a newer assignment arrived during the takeover; keeping it", metadata: [
                    "generation": "\(assignment.generationID)",
                ])
                return
            }
            counters.withLock {
                $0.assignments += 1
                $0.partitions = assignment.partitions.count
            }
            let resume = offsets.sorted { $0.key < $1.key }.map { "\($0.key.partition)@\($0.value.map(String.init) ?? "earliest")" }
            logger.info("claimed partitions", metadata: [
                "generation": "\(assignment.generationID)", "member": "\(assignment.memberID)",
                "resume": "\(resume.joined(separator: " "))",
            ])
        } catch {
            // A failed takeover leaves alone the claims a rebalance installed meanwhile.
            guard ownership.clear(ifVersion: takeover?.ownershipVersion) else { return }
            counters.withLock { $0.partitions = 0 }
            logger.warning("could not claim partitions; waiting for the next rebalance", metadata: [
                "generation": "\(assignment.generationID)", "error": "\(error)",
            ])
            if case HistoryError.fenced = error, let group, !overriding {
                Task { await self.takeOverIfGenerationHolds(assignment, store: store, group: group) }
            }
        }
    }

    /// A claim fenced by a higher stored generation means either that this member is
    /// stale (the coordinator will soon say so) or that the group was recreated (a broker
    /// restart resets generations to 1). After a session timeout and a few heartbeats, a
    /// member whose generation the coordinator still confirms is in the second case and
    /// claims over the old owners.
    ///
    /// The confirmation is a Heartbeat round trip (`confirmGeneration`), not the member's
    /// local state: heartbeats that fail in transport leave the local generation as it was,
    /// so a member cut off from the coordinator would otherwise claim over live owners.
    /// While the coordinator cannot be reached it retries every heartbeat interval, until
    /// it answers, the local assignment changes, or the group closes.
    private func takeOverIfGenerationHolds(_ assignment: GroupAssignment, store: HistoryStore, group: KafkaGroupConsumer) async {
        do { try await Task.sleep(for: configuration.sessionTimeout + configuration.heartbeatInterval * 3) } catch { return }
        // What the takeover may replace: the owners stored now, each at a generation above
        // ours. Read before the coordinator confirms ours; a row that changes after this
        // (another member's claim) fences the takeover's claim (compare-and-set).
        let stale: [TopicPartition: Int32]
        do {
            stale = try await store.ownerGenerations(assignment.partitions).filter { $0.value > assignment.generationID }
        } catch {
            logger.warning("cannot read the stored owners; not taking the partitions over", metadata: ["error": "\(error)"])
            return
        }
        let versionBefore = ownership.version
        var warned = false
        confirming: while true {
            let generation = await group.generationID
            let member = await group.memberID
            let current = await group.assignment
            guard generation == assignment.generationID, member == assignment.memberID,
                  Set(current) == Set(assignment.partitions), ownership.snapshot.generation != generation
            else { return }
            do {
                guard let confirmed = try await group.confirmGeneration() else {
                    logger.info("the coordinator did not confirm the generation; not taking the partitions over", metadata: [
                        "generation": "\(generation)",
                    ])
                    return
                }
                guard confirmed.generationID == assignment.generationID, confirmed.memberID == assignment.memberID,
                      Set(confirmed.partitions) == Set(assignment.partitions), ownership.snapshot.generation != generation
                else { return }
                break confirming
            } catch KafkaClientError.closed {
                return
            } catch {
                if !warned {
                    logger.warning("cannot confirm the generation with the coordinator; not taking the partitions over until it does", metadata: [
                        "generation": "\(generation)", "error": "\(error)",
                    ])
                    warned = true
                }
                do { try await Task.sleep(for: configuration.heartbeatInterval) } catch { return }
            }
        }
        logger.notice("the group's generation went back (a new group on a restarted broker?): taking the partitions over", metadata: [
            "generation": "\(assignment.generationID)",
        ])
        guard ownership.version == versionBefore else { return }  // a rebalance's claims came meanwhile
        await assigned(assignment, store: store, group: nil, takeover: Takeover(replacing: stale, ownershipVersion: versionBefore))
    }

    private func revoked(_ partitions: [TopicPartition]) {
        ownership.clear()
        counters.withLock { $0.partitions = 0 }
        logger.debug("partitions revoked", metadata: ["count": "\(partitions.count)"])
    }

    // MARK: Polling

    /// Records handed out by one poll, and the ownership version they are valid for.
    struct PolledRecords: Sendable {
        var version: UInt64
        var records: [ConsumerRecord]
    }

    /// Polls and hands records to the write loop. Before polling it re-seeks the claimed
    /// partitions to the offsets stored in SQLite whenever the ownership version moved, so
    /// a poll never mixes positions of two versions; a poll during which the version moved
    /// is dropped (and re-sought).
    private func pollLoop(group: KafkaGroupConsumer, store: HistoryStore, handoff: RecordHandoff<PolledRecords>) async {
        var soughtVersion: UInt64?
        while !Task.isCancelled {
            do {
                let before = ownership.version
                if before != soughtVersion {
                    try await seekToStoredOffsets(group.consumer, store: store)
                    soughtVersion = before
                }
                let records = try await pollOrSeekOnChange(group: group, store: store, version: before)
                guard ownership.version == before else { continue }
                await handoff.put(PolledRecords(version: before, records: records))
            } catch KafkaClientError.closed {
                break
            } catch is CancellationError {
                break
            } catch {
                logger.warning("poll failed; retrying", metadata: ["error": "\(error)"])
                soughtVersion = nil
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        await handoff.close()
    }

    private enum PollEvent: Sendable {
        case records([ConsumerRecord])
        case ownershipChanged
    }

    /// Polls; if the ownership changes while the poll waits (a claim on an idle topic, say),
    /// seeks to the stored offsets at once so that records flow again. The poll's records
    /// are then stale, and the caller drops them and seeks again.
    private func pollOrSeekOnChange(group: KafkaGroupConsumer, store: HistoryStore, version: UInt64) async throws -> [ConsumerRecord] {
        try await withThrowingTaskGroup(of: PollEvent.self) { tasks in
            tasks.addTask { .records(try await group.poll()) }
            tasks.addTask {
                while self.ownership.version == version {
                    try await Task.sleep(for: .milliseconds(20))
                }
                return .ownershipChanged
            }
            while let event = try await tasks.next() {
                switch event {
                case .records(let records):
                    tasks.cancelAll()
                    return records
                case .ownershipChanged:
                    try await seekToStoredOffsets(group.consumer, store: store)
                }
            }
            return []
        }
    }

    private func seekToStoredOffsets(_ consumer: KafkaConsumer, store: HistoryStore) async throws {
        let claims = ownership.snapshot
        var known: [TopicPartition: Int64] = [:]
        for partition in claims.partitions.sorted() {
            if let next = try store.nextOffset(partition) {
                known[partition] = next
            } else {
                do {
                    try await consumer.seek(partition, to: .beginning)
                } catch KafkaClientError.invalidState {
                    continue // no longer assigned: a rebalance is under way
                }
            }
        }
        await consumer.seek(known)
    }
}

/// The group member, for its own rebalance callbacks (set right after it is made).
private final class GroupReference: Sendable {
    private let stored = Mutex<KafkaGroupConsumer?>(nil)

    var group: KafkaGroupConsumer? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
