import Locks
import Pipeline
import Synchronization

/// Answers of the event-list endpoints, kept while nothing new was sequenced: a list's bytes
/// depend only on its query and on the store's contents, which change only when its `generation`
/// moves (a sequenced event, or a signal's outcome), so an answer computed at generation N is
/// exact for every identical request until N+1. Under a live
/// feed that is still most requests (clients poll far more often than opportunities change),
/// and it spares the JSON encoding that dominated these requests (Benchmarks/run.sh).
final class ResponseCache: Sendable {
    private struct Entry: Sendable {
        let seq: UInt64
        let response: Response
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
    }

    private let state = PThreadLocked(State())
    private let capacity: Int
    private let maxBytes: Int

    /// At most `capacity` answers and `maxBytes` of bodies (a list may be 1000 events long);
    /// when full it starts over, which costs one encoding per query.
    init(capacity: Int = 256, maxBytes: Int = 8 << 20) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    /// The cached answer for `key` at the store's current seq, else `compute()`'s, kept when it is
    /// a complete 200 computed without the store moving meanwhile.
    func respond(key: String, store: EventStore, _ compute: () -> Response) -> Response {
        let seq = store.generation
        if let hit = state.withLock({ $0.entries[key] }), hit.seq == seq { return hit.response }
        let response = compute()
        guard response.status == 200, response.deferred == nil, store.generation == seq else { return response }
        let size = response.body.count + key.utf8.count
        guard size <= maxBytes / 4 else { return response }
        state.withLock { state in
            if let old = state.entries[key] { state.bytes -= old.response.body.count + key.utf8.count }
            if state.entries.count >= capacity || state.bytes + size > maxBytes {
                state.entries.removeAll(keepingCapacity: true)
                state.bytes = 0
            }
            state.entries[key] = Entry(seq: seq, response: response)
            state.bytes += size
        }
        return response
    }
}
