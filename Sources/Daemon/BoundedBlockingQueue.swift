import Foundation

/// A bounded hand-off between two blocking threads (the COPY decoder and the Parquet encoder), so
/// that reading, decoding and encoding overlap while memory stays at `capacity` batches.
final class BoundedBlockingQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private let capacity: Int
    private var closed = false
    private var failure: (any Error)?
    /// Whether the consumer waits in ``pop()`` for an element (done with everything it took).
    private var consumerWaiting = false

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks while the pipe is full; throws the consumer's error once it has failed.
    func push(_ item: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        items.append(item)
        condition.broadcast()
    }

    /// The next element, or nil once the producer closed the pipe and it is drained. Throws when
    /// the producer failed.
    func pop() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed && failure == nil {
            consumerWaiting = true
            condition.broadcast()
            condition.wait()
        }
        consumerWaiting = false
        if let failure { throw failure }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// Blocks until the consumer has taken every element and asks for the next one, i.e. is done
    /// with all of them (a producer about to make another large element waits here, so that large
    /// elements are held one at a time); throws the consumer's error once it has failed.
    func waitUntilConsumed() throws {
        condition.lock()
        defer { condition.unlock() }
        while !(items.isEmpty && consumerWaiting) && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// No more elements will come.
    func close() {
        condition.lock(); closed = true; condition.broadcast(); condition.unlock()
    }

    /// Stops both sides with `error` (the first one wins).
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }
}
