import Contracts
import Reactor
import Redis
import Synchronization

/// Multi-instance fan-out: every gateway XADDs its opportunities to the `dfp:opportunities`
/// stream, each entry naming its origin (`instance`) and `seq` (the sink does), and reads the
/// stream here (XREAD, its own connection) to hand the other instances' opportunities to its own
/// WebSocket clients. Symbols are partitioned between instances, so each opportunity has one
/// origin and reaches every client once: from its own instance directly, from the others
/// through the stream. Unlike pub/sub, a stream keeps what was added while this link was down:
/// after a reconnect the reader goes on from the last entry it read, so nothing is missed while
/// the stream still holds it. Delivery is at least once (a sink resends after its own link
/// drops), so entries are de-duplicated by origin and seq: an origin's seqs only grow, and one
/// at or below the highest already delivered for that origin is a repeat.
///
/// Each entry goes into the `RemoteHistory` before any loop is handed it, and the first
/// connect backfills that history from the newest entries the stream holds: a client that
/// resumes here with a cursor (or fails over from another gateway) is replayed the other
/// origins' events it missed, then continues live.
final class RedisPeers: @unchecked Sendable {
    let client: RedisClient
    let instance: String
    private let loop: EventLoop
    private let broadcasters: [Broadcaster]
    let history: RemoteHistory
    let received = Atomic<Int>(0)
    let duplicates = Atomic<Int>(0)
    static let stream = "dfp:opportunities"
    /// The last entry read; nil until the first connect has asked the stream for its newest
    /// entry (from there on, nothing added later is missed, even before the first arrives).
    private var lastID: String?
    /// One XREAD at a time; a reconnect starts a new chain.
    private var generation = 0

    init(host: String, port: Int, loop: EventLoop, instance: String, broadcasters: [Broadcaster], history: RemoteHistory,
         cluster: Bool = false) {
        client = RedisClient(host: host, port: port, loop: loop, cluster: cluster)
        self.history = history
        self.loop = loop
        self.instance = instance
        self.broadcasters = broadcasters
        client.onConnected = { [weak self] in self?.connected() }
    }

    func start() { loop.execute { self.client.start() } }

    private func connected() {
        generation += 1
        let chain = generation
        if let lastID {
            // Back after a drop: if the stream was trimmed past the last entry read, what was
            // trimmed is lost here, and a cursor from before it must get a gap.
            // (Redis 7 reports the newest entry it deleted or trimmed.)
            client.send(["XINFO", "STREAM", Self.stream]) { [weak self] reply in
                guard let self else { return }
                if case .error(let message) = reply, message.hasPrefix("ERR link down") { return }
                let fields = reply.array ?? []
                var i = 0
                while i + 1 < fields.count {
                    if fields[i].string == "max-deleted-entry-id", let deleted = fields[i + 1].string,
                       Self.id(deleted, isAfter: lastID) {
                        self.history.lostBeforeNewest()
                    }
                    i += 2
                }
                self.read(chain)
            }
            return
        }
        // The first connect: the history is backfilled from the newest entries (every origin's
        // recent events, for clients that resume here), then reading goes on after the newest.
        let count = backfillCount
        client.send(["XREVRANGE", Self.stream, "+", "-", "COUNT", String(count)]) { [weak self] reply in
            guard let self else { return }
            if case .error = reply { return }  // link down: `connected` starts again
            let entries = reply.array ?? []
            self.history.beginBackfill(wholeStream: entries.count < count)
            for entry in entries.reversed() {
                guard let pair = entry.array, pair.count == 2 else { continue }
                self.take(pair[1].array ?? [], live: false)
            }
            self.lastID = entries.first?.array?.first?.string ?? "0-0"
            self.history.endBackfill()
            for broadcaster in self.broadcasters { broadcaster.loop.execute { broadcaster.remoteBackfilled() } }
            self.read(chain)
        }
    }

    /// Whether stream id `a` (`ms-seq`) comes after `b`.
    static func id(_ a: String, isAfter b: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64)? {
            let p = id.split(separator: "-")
            guard p.count == 2, let ms = UInt64(p[0]), let seq = UInt64(p[1]) else { return nil }
            return (ms, seq)
        }
        guard let x = parts(a), let y = parts(b) else { return false }
        return x > y
    }

    /// Entries read back at start: enough for every origin's history when a few share the stream.
    private var backfillCount: Int { min(4 * history.capacity, 200_000) }

    private func read(_ chain: Int) {
        guard chain == generation, client.state == .connected, let lastID else { return }
        client.send(["XREAD", "COUNT", "512", "BLOCK", "500", "STREAMS", Self.stream, lastID]) { [weak self] reply in
            self?.received(reply, chain)
        }
    }

    private func received(_ reply: RESPValue, _ chain: Int) {
        if case .error = reply { return }  // link down: `connected` starts a new chain
        for streamReply in reply.array ?? [] {
            guard let parts = streamReply.array, parts.count == 2 else { continue }
            for entry in parts[1].array ?? [] {
                guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { continue }
                lastID = id
                take(pair[1].array ?? [], live: true)
            }
        }
        read(chain)
    }

    /// One entry: `seq`, `instance` and `data` (the envelope). Entries without an origin (another
    /// producer's) and this instance's own are skipped; a live one goes to every loop once it is
    /// in the history.
    private func take(_ fields: [RESPValue], live: Bool) {
        var data: [UInt8]?
        var origin: String?
        var i = 0
        while i + 1 < fields.count {
            switch fields[i].string {
            case "data": if case .bulk(let bytes?) = fields[i + 1] { data = bytes }
            case "instance": origin = fields[i + 1].string
            default: break
            }
            i += 2
        }
        if origin == instance { return }  // own entries: not even decoded
        if let origin, ResumeCursor.nameProblem(origin) != nil { return }  // could not be named in a cursor
        guard let data, let decoded = EventDecoder.decode(data), case .opportunity(let o) = decoded.event else { return }
        guard let origin = origin ?? decoded.instance, origin != instance else { return }
        let event = decoded.event
        guard history.append(origin: origin, seq: o.seq, event: event, json: data) else {
            duplicates.wrappingAdd(1, ordering: .relaxed)
            return
        }
        guard live else { return }
        received.wrappingAdd(1, ordering: .relaxed)
        let seq = o.seq
        for broadcaster in broadcasters {
            broadcaster.loop.execute { broadcaster.deliverRemote(event, origin: origin, seq: seq, json: data) }
        }
    }
}
