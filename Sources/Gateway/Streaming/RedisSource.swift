import Contracts
import Pipeline
import Reactor
import Redis
import Synchronization

/// The Redis Streams source: reads ticks from `dfp:clean_ticks` (or `dfp:clean_ticks:{p}` for
/// the partitions this instance owns) in a consumer group on its own connection of loop 0,
/// hands them to the pipeline, and XACKs an entry only once the worker has processed its tick
/// and journaled the events it made (`TickInput.committed`). Entries of consumers idle longer
/// than `claimIdleMs` are taken over with XAUTOCLAIM; entries delivered to this consumer before
/// a crash are read again first (at-least-once). An entry that is not a tick is counted and
/// acknowledged, so it cannot block the stream.
final class RedisSource: @unchecked Sendable {
    let client: RedisClient
    let input: TickInput
    let streams: [String]
    let group: String
    let consumer: String
    let claimIdleMs: Int
    private let loop: EventLoop
    /// Ticks handed to the pipeline so far, and the entries to acknowledge once that many are committed.
    private var submitted = 0
    private var unacked: [(stream: String, id: String, upTo: Int)] = []
    /// Decoded ticks waiting for room in the ring (the reactor never waits for it).
    private var held: [(stream: String, id: String, tick: Tick?)] = []
    private var readingPending = true
    /// Entries taken and not yet acknowledged: XAUTOCLAIM also returns this consumer's own
    /// entries once they are idle long enough, and those must not be processed twice.
    private var inFlight: Set<String> = []
    /// XAUTOCLAIMs sent and not yet answered, and the entries acknowledged meanwhile: a claim
    /// sent before an XACK is answered after it with the entry still listed (Redis runs them in
    /// order), when it has already left `inFlight` — taking it again would process it twice
    /// (seen under AddressSanitizer, where entries idle past claim_idle_ms more often).
    private var claimsOutstanding = 0
    private var ackedDuringClaims: Set<String> = []
    private var lastClaimMs: Int64 = 0
    let stats = Stats()

    final class Stats: Sendable {
        let read = Atomic<Int>(0)
        let acked = Atomic<Int>(0)
        let rejected = Atomic<Int>(0)
        let claimed = Atomic<Int>(0)
    }

    init(host: String, port: Int, loop: EventLoop, input: TickInput, streams: [String], group: String, consumer: String,
         claimIdleMs: Int) {
        client = RedisClient(host: host, port: port, loop: loop)
        self.loop = loop
        self.input = input
        self.streams = streams
        self.group = group
        self.consumer = consumer
        self.claimIdleMs = claimIdleMs
        client.onConnected = { [weak self] in self?.connected() }
    }

    func start() { loop.execute { self.client.start(); self.tickTimer() } }

    private func connected() {
        for stream in streams {
            // From the start of the stream for a new group: ticks added before it must not be lost.
            client.send(["XGROUP", "CREATE", stream, group, "0", "MKSTREAM"])  // BUSYGROUP when it exists: fine
        }
        readingPending = true
        read()
    }

    /// One XREADGROUP at a time: this consumer's own pending entries first ("0"), then new ones (">").
    private func read() {
        guard client.state == .connected, held.isEmpty else { return }
        let id = readingPending ? "0" : ">"
        var command = ["XREADGROUP", "GROUP", group, consumer, "COUNT", "512"]
        if !readingPending { command += ["BLOCK", "500"] }
        command += ["STREAMS"] + streams + Array(repeating: id, count: streams.count)
        client.send(command) { [weak self] reply in self?.received(reply) }
    }

    private func received(_ reply: RESPValue) {
        if case .error = reply { return }  // link down: `connected` starts again
        var count = 0
        for streamReply in reply.array ?? [] {
            guard let parts = streamReply.array, parts.count == 2, let stream = parts[0].string else { continue }
            for entry in parts[1].array ?? [] {
                take(stream, entry)
                count += 1
            }
        }
        if readingPending && count == 0 { readingPending = false }
        submitHeld()
        ackDue()
        read()
    }

    private func take(_ stream: String, _ entry: RESPValue) {
        guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { return }
        guard inFlight.insert(stream + " " + id).inserted else { return }
        stats.read.wrappingAdd(1, ordering: .relaxed)
        switch Self.tick(pair[1].array ?? []).flatMap({ tick in input.markets.violation(tick).map { .failure($0) } ?? .success(tick) }) {
        case .success(let tick): held.append((stream, id, tick))
        case .failure(let problem):
            input.countInvalid([problem.field])
            held.append((stream, id, nil))
        }
    }

    /// Hands held ticks to the ring while it has room; the rest wait for the next timer tick.
    private func submitHeld() {
        var i = 0
        while i < held.count {
            let entry = held[i]
            if let tick = entry.tick {
                guard input.freeCapacity > 0, input.submit(tick) else { break }
                submitted += 1
                unacked.append((entry.stream, entry.id, submitted))
            } else {
                stats.rejected.wrappingAdd(1, ordering: .relaxed)
                unacked.append((entry.stream, entry.id, submitted))
            }
            i += 1
        }
        held.removeFirst(i)
    }

    /// XACKs every entry whose tick the worker has committed, one command per stream.
    private func ackDue() {
        let done = input.committed.load(ordering: .relaxed)
        var n = 0
        while n < unacked.count && unacked[n].upTo <= done { n += 1 }
        guard n > 0, client.state == .connected else { return }
        var byStream: [String: [String]] = [:]
        for entry in unacked[0..<n] {
            byStream[entry.stream, default: []].append(entry.id)
            let key = entry.stream + " " + entry.id
            inFlight.remove(key)
            if claimsOutstanding > 0 { ackedDuringClaims.insert(key) }
        }
        unacked.removeFirst(n)
        for (stream, ids) in byStream {
            let count = ids.count
            client.send(["XACK", stream, group] + ids) { [weak self] reply in
                if case .integer = reply { self?.stats.acked.wrappingAdd(count, ordering: .relaxed) }
            }
        }
    }

    /// Every 100 ms: submit what waited for room, acknowledge what is committed, and now and
    /// then take over the entries of consumers that went quiet.
    private func tickTimer() {
        loop.schedule(afterMs: 100) { [weak self] in
            guard let self else { return }
            let wasHolding = !self.held.isEmpty
            self.submitHeld()
            self.ackDue()
            if wasHolding && self.held.isEmpty { self.read() }
            if self.client.state == .connected && self.loop.now - self.lastClaimMs >= Int64(max(1_000, self.claimIdleMs / 2)) {
                self.lastClaimMs = self.loop.now
                self.claim()
            }
            self.tickTimer()
        }
    }

    private func claim() {
        for stream in streams {
            claimsOutstanding += 1
            client.send(["XAUTOCLAIM", stream, group, consumer, String(claimIdleMs), "0-0", "COUNT", "512"]) { [weak self] reply in
                guard let self else { return }
                self.claimsOutstanding -= 1
                defer { if self.claimsOutstanding == 0 { self.ackedDuringClaims.removeAll() } }
                guard let parts = reply.array, parts.count >= 2 else { return }
                let entries = parts[1].array ?? []
                let before = self.held.count
                for entry in entries {
                    if let id = entry.array?.first?.string, self.ackedDuringClaims.contains(stream + " " + id) { continue }
                    self.take(stream, entry)
                }
                self.stats.claimed.wrappingAdd(self.held.count - before, ordering: .relaxed)
                self.submitHeld()
            }
        }
    }

    /// A tick from an entry: a JSON tick in a `data`, `tick` or `payload` field, or flat fields
    /// `symbol ts price volume [bid ask]`, under the same rules as every other ingest path.
    static func tick(_ fields: [RESPValue]) -> Result<Tick, TickFieldError> {
        var pairs: [(String, String)] = []
        var i = 0
        while i + 1 < fields.count {
            if let k = fields[i].string, let v = fields[i + 1].string { pairs.append((k, v)) }
            i += 2
        }
        for key in ["data", "tick", "payload"] {
            if let body = pairs.first(where: { $0.0 == key })?.1 {
                return Array(body.utf8).withUnsafeBytes { TickDecoder.decodeObject($0) }
            }
        }
        return TickFields.tick(text: pairs)
    }
}
