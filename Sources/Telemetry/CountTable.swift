import Locks
import Synchronization

/// Counts by key (HTTP requests by route and status, WebSocket closes by code), bumped by
/// several threads and read by the metrics scrape. One uncontended lock per bump: for events
/// that cost microseconds anyway (a request, a disconnect), never for per-tick work.
public final class CountTable<Key: Hashable & Sendable>: Sendable {
    private let counts = PThreadLocked<[Key: Int]>([:])

    public init() {}

    public func add(_ key: Key, _ n: Int = 1) {
        counts.withLock { $0[key, default: 0] += n }
    }

    public var snapshot: [Key: Int] { counts.withLock { $0 } }
}
