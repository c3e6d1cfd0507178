/// A one-slot rendezvous between the task that polls the consumer and the task that
/// writes batches: `put` waits until its item is taken (so the consumer's own prefetch
/// limit stays the only buffer), and `take` can give up after a timeout (so a batch is
/// written after `batchInterval` even when no more records come).
actor RecordHandoff<Item: Sendable> {
    private var item: Item?
    private var putWaiter: CheckedContinuation<Void, Never>?
    private var takeWaiter: CheckedContinuation<Item?, Never>?
    private var takeToken: UInt64 = 0
    private(set) var isClosed = false

    /// Hands `item` over and waits until it is taken (or the handoff closes).
    func put(_ newItem: Item) async {
        guard !isClosed else { return }
        if let waiter = takeWaiter {
            takeWaiter = nil
            waiter.resume(returning: newItem)
            return
        }
        item = newItem
        await withCheckedContinuation { putWaiter = $0 }
    }

    /// The next item; nil after `timeout` (when given) or once closed.
    func take(timeout: Duration?) async -> Item? {
        if let current = item {
            item = nil
            putWaiter?.resume()
            putWaiter = nil
            return current
        }
        guard !isClosed else { return nil }
        if timeout == .zero { return nil }
        takeToken &+= 1
        let token = takeToken
        if let timeout {
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(token)
            }
        }
        return await withCheckedContinuation { takeWaiter = $0 }
    }

    private func expire(_ token: UInt64) {
        guard token == takeToken, let waiter = takeWaiter else { return }
        takeWaiter = nil
        waiter.resume(returning: nil)
    }

    /// Wakes both sides; later puts are dropped and takes return what is left, then nil.
    func close() {
        isClosed = true
        takeWaiter?.resume(returning: nil)
        takeWaiter = nil
        putWaiter?.resume()
        putWaiter = nil
    }
}
