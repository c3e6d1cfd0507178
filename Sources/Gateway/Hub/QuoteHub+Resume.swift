extension QuoteHub {
    /// Resumes a client from `token`: subscribes it to `symbols` and replays what it
    /// missed on the token's partitions from the `QuoteLogReader`, filtered to those
    /// symbols, as `update` frames in offset order.
    ///
    /// A partition the log no longer holds (`.outOfRange`), or cannot be replayed
    /// (no reader, a read error, more than `maxResumeRecords`), gets one `gap` frame
    /// and then a fresh `snapshot` of the subscribed symbols that live on it; nothing
    /// replayed from that partition is sent. Symbols on partitions the token does not
    /// name get a snapshot. Live quotes arriving while the log is read are held and
    /// sent afterwards, skipping those the replay or snapshots already covered.
    public func resume(_ id: ClientID, token: ResumeToken, symbols: [String]) async {
        guard let current = clients[id] else { return }
        if current.resuming {
            sendControl(.error(code: .badRequest, message: "a resume is already in progress"), to: id)
            return
        }
        guard let added = addSubscriptions(id, symbols: symbols) else { return }
        let wanted = added.wildcard ? nil : Set(added.symbols)
        if !added.wildcard && added.symbols.isEmpty { wake(id); return }
        clients[id]?.resuming = true

        var replayed: [ServerFrame] = []
        var replayedSymbols: [String] = []
        var gaps: [(partition: Int32, reason: GapReason)] = []
        var partitionFloor: [Int32: Int64] = [:]
        for (partition, lastSeen) in token.offsets.sorted(by: { $0.key < $1.key }) {
            let outcome = await replay(partition: partition, after: lastSeen, symbols: wanted)
            switch outcome {
            case .replayed(let records):
                var floor = lastSeen
                for record in records {
                    replayed.append(.update(quote: record.value, partition: partition, offset: record.offset))
                    replayedSymbols.append(record.symbol)
                    floor = max(floor, record.offset)
                }
                partitionFloor[partition] = floor
            case .gap(let reason):
                gaps.append((partition, reason))
            }
        }

        guard var state = clients[id] else { return }
        if gaps.isEmpty { counters.resumesReplayed += 1 } else { counters.resumeGaps += 1 }
        // Gap frames first, one per reason, then the replay, then snapshots.
        var reasons: [GapReason] = []
        for gap in gaps where !reasons.contains(gap.reason) { reasons.append(gap.reason) }
        for reason in reasons {
            let partitions = gaps.filter { $0.reason == reason }.map(\.partition)
            state.outbox.enqueueControl(.gap(reason: reason, partitions: partitions), droppable: false)
        }
        for (frame, symbol) in zip(replayed, replayedSymbols) {
            state.outbox.enqueueQuote(symbol: symbol, frame: frame)
        }
        let covered = Set(token.offsets.keys).subtracting(gaps.map(\.partition))
        let subscribed = added.wildcard ? latest.keys.sorted() : added.symbols
        var symbolFloor: [String: Int64] = [:]
        for symbol in subscribed {
            guard let stored = latest[symbol], !covered.contains(stored.partition) else { continue }
            state.outbox.enqueueQuote(
                symbol: symbol, frame: .snapshot(quote: stored.value, partition: stored.partition, offset: stored.offset))
            symbolFloor[symbol] = stored.offset
        }
        for gap in gaps { partitionFloor[gap.partition] = partitionHigh[gap.partition] ?? -1 }

        // Live quotes that came in while reading: only what is newer than the replay.
        let held = state.resumeBuffer
        state.resumeBuffer = []
        state.resuming = false
        clients[id] = state
        for entry in held {
            guard let partition = entry.frame.partition else { continue }
            if entry.frame.offset <= partitionFloor[partition, default: -1] { continue }
            if entry.frame.offset <= symbolFloor[entry.symbol, default: -1] { continue }
            deliver(entry.frame, symbol: entry.symbol, to: id)
        }
        wake(id)
    }

    enum ReplayOutcome: Sendable {
        case replayed([LogRecord])
        case gap(GapReason)
    }

    /// Reads `partition` after offset `lastSeen` up to the newest offset published
    /// when the read began; `symbols` nil means every symbol.
    private func replay(partition: Int32, after lastSeen: Int64, symbols: Set<String>?) async -> ReplayOutcome {
        guard let reader = logReader else { return .gap(.unavailable) }
        let target = partitionHigh[partition]
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
