/// A resume in three steps, so that the log is read outside whatever owns the book
/// (an actor's turn, an event loop's tick) while live quotes keep flowing:
/// `beginResume` subscribes and starts holding the client's live quotes,
/// `readMissed` reads the log (async, touches no book), `finishResume` queues what
/// was read and then the held live quotes that are newer.
///
/// A partition the log no longer holds (`.outOfRange`), or cannot be replayed
/// (no reader, a read error, more than `maxResumeRecords`), gets one `gap` frame
/// and then a fresh `snapshot` of the subscribed symbols that live on it; nothing
/// replayed from that partition is sent. Symbols on partitions the token does not
/// name get a snapshot. Live quotes arriving while the log is read are held and
/// sent afterwards, skipping those the replay or snapshots already covered.
struct ResumePlan: Sendable {
    var id: ClientID
    var token: ResumeToken
    /// The symbols newly subscribed, and whether `*` was.
    var symbols: [String]
    var wildcard: Bool
    /// Newest offset published per partition when the read began: the replay stops there.
    var targets: [Int32: Int64]

    /// The symbols to read back; nil means every symbol.
    var wanted: Set<String>? { wildcard ? nil : Set(symbols) }
}

enum ReplayOutcome: Sendable {
    case replayed([LogRecord])
    case gap(GapReason)
}

extension HubBook {
    /// Subscribes and starts holding live quotes; nil when there is nothing to read
    /// (the client is gone, a resume is already running — answered with an error frame —
    /// or no new symbol was subscribed).
    mutating func beginResume(_ id: ClientID, token: ResumeToken, symbols: [String]) -> ResumePlan? {
        guard let current = clients[id] else { return nil }
        if current.resuming {
            sendControl(.error(code: .badRequest, message: "a resume is already in progress"), to: id)
            return nil
        }
        guard let added = addSubscriptions(id, symbols: symbols) else { return nil }
        if !added.wildcard && added.symbols.isEmpty { return nil }
        clients[id]?.resuming = true
        var targets: [Int32: Int64] = [:]
        for partition in token.offsets.keys { targets[partition] = partitionHigh[partition] }
        return ResumePlan(id: id, token: token, symbols: added.symbols, wildcard: added.wildcard, targets: targets)
    }

    /// Reads what the plan's client missed on each of the token's partitions.
    static func readMissed(_ plan: ResumePlan, reader: (any QuoteLogReader)?, configuration: HubConfiguration)
        async -> [Int32: ReplayOutcome]
    {
        var outcomes: [Int32: ReplayOutcome] = [:]
        for (partition, lastSeen) in plan.token.offsets.sorted(by: { $0.key < $1.key }) {
            outcomes[partition] = await replay(
                reader: reader, configuration: configuration, partition: partition, after: lastSeen,
                target: plan.targets[partition], symbols: plan.wanted)
        }
        return outcomes
    }

    /// Queues gap frames, the replay, snapshots and then the live quotes held meanwhile.
    mutating func finishResume(_ plan: ResumePlan, outcomes: [Int32: ReplayOutcome]) {
        let id = plan.id
        guard let index = clients.index(forKey: id) else { return }
        var replayed: [(symbol: String, frame: ServerFrame)] = []
        var gaps: [(partition: Int32, reason: GapReason)] = []
        var partitionFloor: [Int32: Int64] = [:]
        for (partition, lastSeen) in plan.token.offsets.sorted(by: { $0.key < $1.key }) {
            switch outcomes[partition] ?? .gap(.readFailed) {
            case .replayed(let records):
                var floor = lastSeen
                for record in records {
                    replayed.append((record.symbol, .update(quote: record.value, partition: partition, offset: record.offset)))
                    floor = max(floor, record.offset)
                }
                partitionFloor[partition] = floor
            case .gap(let reason):
                gaps.append((partition, reason))
            }
        }

        if gaps.isEmpty { counters.resumesReplayed += 1 } else { counters.resumeGaps += 1 }
        // Gap frames first, one per reason, then the replay, then snapshots.
        var reasons: [GapReason] = []
        for gap in gaps where !reasons.contains(gap.reason) { reasons.append(gap.reason) }
        for reason in reasons {
            let partitions = gaps.filter { $0.reason == reason }.map(\.partition)
            clients.values[index].outbox.enqueueControl(.gap(reason: reason, partitions: partitions), droppable: false)
        }
        for entry in replayed {
            clients.values[index].outbox.enqueueQuote(symbol: entry.symbol, frame: entry.frame)
        }
        let covered = Set(plan.token.offsets.keys).subtracting(gaps.map(\.partition))
        let subscribed = plan.wildcard ? latest.keys.sorted() : plan.symbols
        var symbolFloor: [String: Int64] = [:]
        for symbol in subscribed {
            guard let stored = latest[symbol], !covered.contains(stored.partition) else { continue }
            clients.values[index].outbox.enqueueQuote(
                symbol: symbol, frame: .snapshot(quote: stored.value, partition: stored.partition, offset: stored.offset))
            symbolFloor[symbol] = stored.offset
        }
        for gap in gaps { partitionFloor[gap.partition] = partitionHigh[gap.partition] ?? -1 }

        // Live quotes that came in while reading: only what is newer than the replay.
        let held = clients.values[index].resumeBuffer
        clients.values[index].resumeBuffer = []
        clients.values[index].resuming = false
        markDirty(at: index)
        let now = clock.monotonicNanos()
        for entry in held {
            guard let partition = entry.frame.partition else { continue }
            if entry.frame.offset <= partitionFloor[partition, default: -1] { continue }
            if entry.frame.offset <= symbolFloor[entry.symbol, default: -1] { continue }
            deliver(entry.frame, symbol: entry.symbol, to: id, now: now)
        }
    }

    /// Reads `partition` after offset `lastSeen` up to `target` (the newest offset
    /// published when the read began); `symbols` nil means every symbol.
    private static func replay(reader: (any QuoteLogReader)?, configuration: HubConfiguration, partition: Int32,
                               after lastSeen: Int64, target: Int64?, symbols: Set<String>?) async -> ReplayOutcome {
        guard let reader else { return .gap(.unavailable) }
        if let target, lastSeen >= target { return .replayed([]) }
        var records: [LogRecord] = []
        var from = lastSeen + 1
        let filter = symbols ?? []
        while true {
            let batch = max(1, configuration.resumeReadBatch)
            let result: LogReadResult
            do {
                result = try await reader.read(partition: partition, fromOffset: from, symbols: filter, limit: batch)
            } catch {
                return .gap(.readFailed)
            }
            guard case .records(let page) = result else { return .gap(.outOfRange) }
            for record in page where record.offset >= from {
                if let target, record.offset > target { break }
                records.append(record)
            }
            if records.count > configuration.maxResumeRecords { return .gap(.tooFarBehind) }
            guard let last = page.last, page.count >= batch else { break }
            if let target, last.offset >= target { break }
            from = last.offset + 1
        }
        return .replayed(records)
    }
}
