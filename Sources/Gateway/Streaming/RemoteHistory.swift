import Contracts
import Synchronization

/// The other gateways' recent opportunities, per origin, as the peers reader received them
/// from `dfp:opportunities`: what a client that fails over to this gateway, or resumes here
/// with a cursor, is replayed for the origins that are not this one. Appended on the peers'
/// loop before any loop is handed the live event, read by every loop under one lock.
///
/// An origin's seqs only grow, so an entry at or below the highest held is a repeat (the
/// stream is delivered at least once) and is refused. Each origin keeps at least `capacity`
/// entries (at most twice that: the oldest half goes at once). Each origin knows after which
/// seq it holds everything (`heldAfter`): 0 when it was first seen while the reader held the
/// whole stream, else just below its first entry, and raised to the last entry trimmed. A
/// cursor below that is a gap.
final class RemoteHistory: Sendable {
    struct Entry: Sendable {
        let seq: UInt64
        let event: PipelineEvent
        /// The envelope as its origin encoded it (it names the origin): the frame's text.
        let json: [UInt8]
    }

    struct Origin: Sendable {
        var entries: [Entry] = []
        /// When its last entry came (an append counter), to let the longest-silent go first.
        var lastAppend = 0
        /// Every entry of this origin after this seq is held.
        var heldAfter: UInt64
        var highest: UInt64 = 0

        /// The entries after `seq`, oldest first.
        func after(_ seq: UInt64) -> ArraySlice<Entry> {
            var lo = 0
            var hi = entries.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if entries[mid].seq <= seq { lo = mid + 1 } else { hi = mid }
            }
            return entries[lo...]
        }
    }

    let capacity: Int
    private let state = Mutex<State>(State())

    private struct State: Sendable {
        var origins: [String: Origin] = [:]
        /// Whether every entry the stream held when the reader started is in (the backfill
        /// reached its start): origins first seen from then on are complete.
        var holdsWholeStream = false
        var appends = 0
        /// The backfill is in: a resume now sees every origin the stream holds.
        var backfilled = false
    }

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Origins held at most (a cursor names at most `ResumeCursor.maxOrigins`, this one's included).
    static let maxOrigins = ResumeCursor.maxOrigins / 2

    /// Entries may have been lost before every origin's newest (the stream was trimmed past
    /// what the reader had read while its link was down): a cursor older than that is a gap.
    func lostBeforeNewest() {
        state.withLock { s in
            for key in s.origins.keys { s.origins[key]!.heldAfter = s.origins[key]!.highest }
        }
    }

    /// Adds an origin's entry; false when it is a repeat (at or below the origin's highest).
    func append(origin: String, seq: UInt64, event: PipelineEvent, json: [UInt8]) -> Bool {
        state.withLock { s in
            var o = s.origins[origin] ?? Origin(heldAfter: s.holdsWholeStream ? 0 : seq - 1)
            guard seq > o.highest else { return false }
            o.highest = seq
            s.appends += 1
            o.lastAppend = s.appends
            o.entries.append(Entry(seq: seq, event: event, json: json))
            if o.entries.count >= 2 * capacity {
                let trimmed = o.entries.count - capacity
                o.heldAfter = max(o.heldAfter, o.entries[trimmed - 1].seq)
                o.entries.removeFirst(trimmed)
            }
            s.origins[origin] = o
            // Gateways come and go (a default name changes with each start): the origins silent
            // longest go beyond `maxOrigins`, so memory and every cursor stay bounded.
            if s.origins.count > Self.maxOrigins, let oldest = s.origins.min(by: { $0.value.lastAppend < $1.value.lastAppend })?.key {
                s.origins.removeValue(forKey: oldest)
            }
            return true
        }
    }

    /// Called before the backfill is appended (oldest first): whether it holds the stream from
    /// its start, which makes every origin in it, and those first seen from now on, complete.
    func beginBackfill(wholeStream: Bool) {
        state.withLock { $0.holdsWholeStream = wholeStream }
    }

    /// The backfill is appended; sessions that resumed before are replayed again then.
    func endBackfill() { state.withLock { $0.backfilled = true } }

    var isBackfilled: Bool { state.withLock { $0.backfilled } }

    /// The highest seq held per origin: a new client's starting point.
    func positions() -> [String: UInt64] {
        state.withLock { s in s.origins.mapValues(\.highest) }
    }

    /// Per origin, what follows `marks[origin]` (every entry for an origin not in `marks`), and
    /// `heldAfter` when it is above the mark (entries between them may be missing).
    func entries(after marks: [String: UInt64]) -> [(origin: String, gapAfter: UInt64?, entries: [Entry])] {
        state.withLock { s in
            var out: [(origin: String, gapAfter: UInt64?, entries: [Entry])] = []
            for (name, o) in s.origins {
                let mark = marks[name] ?? 0
                guard o.highest > mark else { continue }
                out.append((name, mark < o.heldAfter ? o.heldAfter : nil, Array(o.after(mark))))
            }
            return out
        }
    }

    /// Held entries across origins (health).
    var count: Int { state.withLock { s in s.origins.values.reduce(0) { $0 + $1.entries.count } } }
}
