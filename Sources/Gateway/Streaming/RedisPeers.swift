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
final class RedisPeers: @unchecked Sendable {
    let client: RedisClient
    let instance: String
    private let loop: EventLoop
    private let broadcasters: [Broadcaster]
    let received = Atomic<Int>(0)
    let duplicates = Atomic<Int>(0)
    static let stream = "dfp:opportunities"
    /// The last entry read; nil until the first connect has asked the stream for its newest
    /// entry (from there on, nothing added later is missed, even before the first arrives).
    private var lastID: String?
    /// The highest seq delivered per origin (loop thread only).
    private var highest: [String: UInt64] = [:]
    /// One XREAD at a time; a reconnect starts a new chain.
    private var generation = 0

    init(host: String, port: Int, loop: EventLoop, instance: String, broadcasters: [Broadcaster]) {
        client = RedisClient(host: host, port: port, loop: loop)
        self.loop = loop
        self.instance = instance
        self.broadcasters = broadcasters
        client.onConnected = { [weak self] in self?.connected() }
    }

    func start() { loop.execute { self.client.start() } }

    private func connected() {
        generation += 1
        let chain = generation
        guard lastID == nil else { return read(chain) }
        // From what arrives after this start: the newest entry now ("0-0" for an empty stream).
        client.send(["XREVRANGE", Self.stream, "+", "-", "COUNT", "1"]) { [weak self] reply in
            guard let self else { return }
            if case .error = reply { return }  // link down: `connected` starts again
            self.lastID = reply.array?.first?.array?.first?.string ?? "0-0"
            self.read(chain)
        }
    }

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
                take(pair[1].array ?? [])
            }
        }
        read(chain)
    }

    /// One entry: `seq`, `instance` and `data` (the envelope). Entries without an origin (another
    /// producer's) and this instance's own are skipped.
    private func take(_ fields: [RESPValue]) {
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
        guard let data, let decoded = EventDecoder.decode(data), case .opportunity(let o) = decoded.event else { return }
        guard let origin = origin ?? decoded.instance, origin != instance else { return }
        if let seen = highest[origin], o.seq <= seen {
            duplicates.wrappingAdd(1, ordering: .relaxed)
            return
        }
        highest[origin] = o.seq
        received.wrappingAdd(1, ordering: .relaxed)
        let event = decoded.event
        for broadcaster in broadcasters {
            broadcaster.loop.execute { broadcaster.deliverRemote(event, json: data) }
        }
    }
}
