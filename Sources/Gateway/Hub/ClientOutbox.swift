/// A client's outbound queue: bounded, conflating, drained in batches by the
/// connection's writer.
///
/// Quote frames (snapshots and updates) go into `frames` while it holds fewer than
/// `bound`. Past the bound — or while a newer quote of the same symbol is already
/// waiting in a slot — a quote goes into its symbol's slot instead, replacing what
/// was there (that replacement is one *conflated* quote). So a client that does not
/// drain holds at most `bound` frames plus one slot per subscribed symbol, however
/// fast quotes arrive, and still gets the latest price of every symbol.
///
/// Control frames (gap, error, stats) have their own small queue: stats are dropped
/// when it is full; anything else sets `overflowed` so the server can close a client
/// that sends requests without reading answers.
struct ClientOutbox: Sendable {
    /// Most quote frames queued in order before quotes are conflated.
    let bound: Int
    /// Most control frames queued.
    let controlCapacity: Int

    private(set) var control: [ServerFrame] = []
    private(set) var frames: [ServerFrame] = []
    private var slots: [String: ServerFrame] = [:]
    /// Quotes replaced by a newer quote of the same symbol before being sent.
    private(set) var conflatedCount = 0
    /// A control frame could not be queued.
    private(set) var overflowed = false

    init(bound: Int, controlCapacity: Int) {
        self.bound = max(1, bound)
        self.controlCapacity = max(1, controlCapacity)
    }

    var isEmpty: Bool { control.isEmpty && frames.isEmpty && slots.isEmpty }

    /// Quote frames waiting in order (never more than `bound`).
    var queuedCount: Int { frames.count }

    /// Symbols whose latest quote waits in a conflation slot.
    var slotCount: Int { slots.count }

    /// Queues a quote frame of `symbol`, conflating when the queue is full.
    mutating func enqueueQuote(symbol: String, frame: ServerFrame) {
        if frames.count < bound && slots.isEmpty {
            frames.append(frame)
            return
        }
        if slots.updateValue(frame, forKey: symbol) != nil {
            conflatedCount += 1
        }
    }

    /// Queues a control frame; `droppable` ones (stats) are dropped when full.
    mutating func enqueueControl(_ frame: ServerFrame, droppable: Bool) {
        if control.count < controlCapacity {
            control.append(frame)
        } else if !droppable {
            overflowed = true
        }
    }

    /// Drops any waiting quote of `symbol` held in a slot (after unsubscribe).
    mutating func dropSlot(symbol: String) {
        slots.removeValue(forKey: symbol)
    }

    /// Everything queued, in sending order: control frames, queued quotes, then the
    /// conflated latest quotes ordered by offset (so per-partition positions only
    /// move forward).
    mutating func drain() -> [ServerFrame] {
        var batch = control
        batch.reserveCapacity(control.count + frames.count + slots.count)
        batch.append(contentsOf: frames)
        if !slots.isEmpty {
            batch.append(contentsOf: slots.values.sorted { ($0.offset, $0.partition ?? -1) < ($1.offset, $1.partition ?? -1) })
        }
        control.removeAll(keepingCapacity: true)
        frames.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        return batch
    }
}
