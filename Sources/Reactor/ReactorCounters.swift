import Synchronization

/// Process-wide reactor counters, readable from any thread (health, metrics). The loop threads
/// bump them with relaxed atomics: they are statistics, not synchronisation.
public final class ReactorCounters: Sendable {
    public let openConnections = Atomic<Int>(0)
    public let acceptedTotal = Atomic<Int>(0)
    public let refusedOverLimit = Atomic<Int>(0)
    public let tlsHandshakes = Atomic<Int>(0)
    public let tlsHandshakeFailures = Atomic<Int>(0)
    public let tlsHandshakeTimeouts = Atomic<Int>(0)
    public let writeQueueOverflows = Atomic<Int>(0)

    public init() {}

    @inline(__always)
    static func bump(_ counter: borrowing Atomic<Int>, by delta: Int = 1) {
        counter.wrappingAdd(delta, ordering: .relaxed)
    }
}
