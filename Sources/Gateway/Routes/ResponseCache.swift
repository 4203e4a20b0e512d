import Pipeline
import Synchronization

/// Answers of the event-list endpoints, kept while nothing new was sequenced: a list's bytes
/// depend only on its query and on the store's contents, which change only when `lastSeq` moves,
/// so an answer computed at seq N is exact for every identical request until N+1. Under a live
/// feed that is still most requests (clients poll far more often than opportunities change),
/// and it spares the JSON encoding that dominated these requests (Benchmarks/run.sh).
final class ResponseCache: Sendable {
    private struct Entry: Sendable {
        let seq: UInt64
        let response: Response
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    /// The cached answer for `key` at the store's current seq, else `compute()`'s, kept when it is
    /// a complete 200 computed without the store moving meanwhile.
    func respond(key: String, store: EventStore, _ compute: () -> Response) -> Response {
        let seq = store.lastSeq
        if let hit = entries.withLock({ $0[key] }), hit.seq == seq { return hit.response }
        let response = compute()
        guard response.status == 200, response.deferred == nil, store.lastSeq == seq else { return response }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(seq: seq, response: response)
        }
        return response
    }
}
