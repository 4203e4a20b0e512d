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
    /// The streams read now: fixed, or the partitions held (`PartitionLeases`).
    private(set) var streams: [String]
    let group: String
    let consumer: String
    let claimIdleMs: Int
    let loop: EventLoop
    /// Ticks handed to the pipeline so far, and the entries to acknowledge once that many are committed.
    private var submitted = 0
    private var unacked: [(stream: String, id: String, upTo: Int)] = []
    /// Decoded ticks waiting for room in the ring (the reactor never waits for it).
    private var held: [(stream: String, id: String, tick: Tick?)] = []
    /// The read links: one for every stream on a single Redis; one per stream on a cluster,
    /// where an XREADGROUP may name streams of one hash slot only (and a blocking read holds
    /// its connection).
    private var chains: [ReadChain] = []
    let cluster: Bool
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
    private var submittedSinceWait = false
    /// XACKs sent and not yet confirmed, and those a dropped link lost (sent again).
    private var acking: [Int: (stream: String, ids: [String])] = [:]
    private var ackToken = 0
    private var failedAcks: [(stream: String, ids: [String])] = []
    /// Acknowledgements and claims go on their own link: on the reading one they would wait
    /// behind a blocking XREADGROUP (up to 500 ms), widening the window in which a crash leaves
    /// processed ticks unacknowledged for a gateway taking over to process again.
    let ackClient: RedisClient
    let stats = Stats()

    final class Stats: Sendable {
        let read = Atomic<Int>(0)
        let acked = Atomic<Int>(0)
        let rejected = Atomic<Int>(0)
        let claimed = Atomic<Int>(0)
    }

    /// One XREADGROUP chain: its link, its streams, whether a read is out (one at a time; a
    /// change of streams applies to the next) and whether it still reads its own pending entries.
    final class ReadChain {
        let client: RedisClient
        var streams: [String]
        var reading = false
        var readingPending = true
        /// Reading pending entries: after which id, per stream (they are read in pages).
        var pendingFrom: [String: String] = [:]
        init(client: RedisClient, streams: [String]) {
            self.client = client
            self.streams = streams
        }
    }

    init(host: String, port: Int, loop: EventLoop, input: TickInput, streams: [String], group: String, consumer: String,
         claimIdleMs: Int, cluster: Bool = false) {
        self.host = host
        self.port = port
        self.cluster = cluster
        client = RedisClient(host: host, port: port, loop: loop, cluster: cluster)
        self.loop = loop
        self.input = input
        self.streams = streams
        self.group = group
        self.consumer = consumer
        self.claimIdleMs = claimIdleMs
        ackClient = RedisClient(host: host, port: port, loop: loop, cluster: cluster)
        if cluster {
            for stream in streams { chains.append(makeChain([stream])) }
        } else {
            let chain = ReadChain(client: client, streams: streams)
            client.onConnected = { [weak self, unowned chain] in self?.connected(chain) }
            chains = [chain]
        }
    }

    private let host: String
    private let port: Int

    /// A cluster chain: a link of its own (started when the source is).
    private func makeChain(_ streams: [String]) -> ReadChain {
        let chain = ReadChain(client: RedisClient(host: host, port: port, loop: loop, cluster: true), streams: streams)
        chain.client.onConnected = { [weak self, unowned chain] in self?.connected(chain) }
        return chain
    }

    func start() {
        loop.execute {
            self.client.start()
            self.ackClient.start()
            if self.cluster { for chain in self.chains { chain.client.start() } }
            self.tickTimer()
        }
    }

    /// (Re)connected. A read still out stays out (on a cluster, another master's link may be
    /// what dropped); the one a drop failed has cleared `reading` with its error.
    private func connected(_ chain: ReadChain) {
        for stream in chain.streams { createGroup(stream, on: chain.client) }
        chain.readingPending = true
        chain.pendingFrom = [:]
        read(chain)
    }

    /// From the start of the stream for a new group: ticks added before it must not be lost.
    private func createGroup(_ stream: String, on link: RedisClient) {
        link.send(["XGROUP", "CREATE", stream, group, "0", "MKSTREAM"])  // BUSYGROUP when it exists: fine
    }

    /// The partitions held changed (fail-over, `leaseMs` set). Ticks of a partition no longer
    /// held that wait here unsubmitted are let go (left pending for the new holder), and so is
    /// what a read still outstanding brings from it. A partition taken comes with the pending
    /// entries its previous holder left: while a partition is held, entries of other consumers
    /// idle for half a lease are claimed, now and every half lease — long after a gateway that
    /// handed the partition over has finished what it had submitted.
    func setStreams(_ streams: [String], taken: [String]) {
        self.streams = streams
        let kept = Set(streams)
        for entry in held where !kept.contains(entry.stream) { inFlight.remove(entry.stream + " " + entry.id) }
        held.removeAll { !kept.contains($0.stream) }
        if cluster {
            // A chain per stream held: new ones start (creating their group when connected).
            for chain in chains where !kept.contains(chain.streams[0]) { chain.client.stop() }
            chains.removeAll { !kept.contains($0.streams[0]) }
            for stream in streams where !chains.contains(where: { $0.streams[0] == stream }) {
                let chain = makeChain([stream])
                chains.append(chain)
                chain.client.start()
            }
        } else {
            chains[0].streams = streams
            if client.state == .connected { for stream in taken { createGroup(stream, on: client) } }  // else `connected` does
        }
        if let leaseMs, !taken.isEmpty { claim(taken, minIdleMs: leaseMs / 2) }
        readAll()
    }

    private func readAll() { for chain in chains { read(chain) } }

    /// Lease mode (`PartitionLeases`): the streams read are the partitions held.
    var leaseMs: Int?
    private var lastLeaseClaimMs: Int64 = 0

    /// One XREADGROUP at a time per chain: this consumer's own pending entries first ("0"),
    /// then new ones (">").
    private func read(_ chain: ReadChain) {
        guard chain.client.state == .connected, held.isEmpty, !chain.reading, !chain.streams.isEmpty else { return }
        chain.reading = true
        var command = ["XREADGROUP", "GROUP", group, consumer, "COUNT", "512"]
        if !chain.readingPending { command += ["BLOCK", "500"] }
        command += ["STREAMS"] + chain.streams
        command += chain.streams.map { chain.readingPending ? chain.pendingFrom[$0] ?? "0" : ">" }
        chain.client.send(command) { [weak self, weak chain] reply in
            guard let chain else { return }
            self?.received(reply, chain)
        }
    }

    private func received(_ reply: RESPValue, _ chain: ReadChain) {
        chain.reading = false
        if case .error(let message) = reply {
            // Link down: `connected` starts again. Anything else (the group deleted, a stream of
            // another slot): the group is made again and the read retried in a second.
            guard !message.hasPrefix("ERR link down") else { return }
            loop.schedule(afterMs: 1_000) { [weak self, weak chain] in
                guard let self, let chain, chain.client.state == .connected else { return }
                for stream in chain.streams { self.createGroup(stream, on: chain.client) }
                self.read(chain)
            }
            return
        }
        // Pending entries are read in pages, each after the last one seen (those still in flight
        // are skipped), until a page comes back empty; then new ones, blocking.
        var count = 0
        for streamReply in reply.array ?? [] {
            guard let parts = streamReply.array, parts.count == 2, let stream = parts[0].string else { continue }
            let entries = parts[1].array ?? []
            for entry in entries where take(stream, entry) { count += 1 }
            if chain.readingPending, let last = entries.last?.array?.first?.string {
                chain.pendingFrom[stream] = last
                count += 1  // another page may follow
            }
        }
        if chain.readingPending && count == 0 {
            chain.readingPending = false
            chain.pendingFrom = [:]
        }
        submitHeld()
        ackDue()
        readAll()
    }

    /// Takes an entry unless it is in flight already (or its partition was handed over);
    /// whether it was taken.
    @discardableResult
    private func take(_ stream: String, _ entry: RESPValue) -> Bool {
        guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { return false }
        guard leaseMs == nil || streams.contains(stream) else { return false }  // handed over meanwhile: left pending
        guard inFlight.insert(stream + " " + id).inserted else { return false }
        stats.read.wrappingAdd(1, ordering: .relaxed)
        switch Self.tick(pair[1].array ?? []).flatMap({ tick in input.markets.violation(tick).map { .failure($0) } ?? .success(tick) }) {
        case .success(let tick): held.append((stream, id, tick))
        case .failure(let problem):
            input.countInvalid([problem.field])
            held.append((stream, id, nil))
        }
        return true
    }

    /// Hands held ticks to the ring while it has room; the rest wait for the next timer tick.
    private func submitHeld() {
        var i = 0
        while i < held.count {
            let entry = held[i]
            if let tick = entry.tick {
                guard input.freeCapacity > 0, input.submit(tick, wakeLater: true) else { break }
                submitted += 1
                submittedSinceWait = true
                unacked.append((entry.stream, entry.id, submitted))
            } else {
                stats.rejected.wrappingAdd(1, ordering: .relaxed)
                unacked.append((entry.stream, entry.id, submitted))
            }
            i += 1
        }
        held.removeFirst(i)
        if submittedSinceWait { input.wake() }
        // Acknowledged as soon as the worker commits them (not at the next timer tick): the
        // shorter that window, the fewer ticks a gateway taking over after a crash sees again.
        if submittedSinceWait {
            submittedSinceWait = false
            let source = SourceBox(self)
            input.whenCommitted { _ in source.loop.execute { source.value?.ackDue() } }
        }
    }

    /// At shutdown, once the loops and the worker have stopped: acknowledges what the worker
    /// committed and Redis has not confirmed (a blocking connection), so a gateway taking the
    /// partition over does not process those ticks again. What was read and not processed
    /// stays pending for it.
    func acknowledgeCommittedAtShutdown() {
        let done = input.committed.load(ordering: .relaxed)
        var byStream: [String: [String]] = [:]
        for entry in unacked where entry.upTo <= done { byStream[entry.stream, default: []].append(entry.id) }
        for batch in Array(acking.values) + failedAcks { byStream[batch.stream, default: []] += batch.ids }
        let commands = byStream.sorted { $0.key < $1.key }.map { ["XACK", $0.key, group] + $0.value }
        if RedisBlockingCall.send(commands, host: client.host, port: client.port, followingRedirects: cluster) != nil {
            unacked.removeAll { $0.upTo <= done }
            acking.removeAll()
            failedAcks.removeAll()
        }
    }

    /// XACKs every entry whose tick the worker has committed, one command per stream, on the
    /// acknowledgement link (never behind a blocking read); an entry leaves `inFlight` once
    /// Redis confirms, and a batch the link lost is sent again.
    private func ackDue() {
        guard ackClient.state == .connected else { return }
        let done = input.committed.load(ordering: .relaxed)
        var n = 0
        while n < unacked.count && unacked[n].upTo <= done { n += 1 }
        guard n > 0 || !failedAcks.isEmpty else { return }
        var byStream: [String: [String]] = [:]
        for batch in failedAcks { byStream[batch.stream, default: []] += batch.ids }
        failedAcks.removeAll()
        for entry in unacked[0..<n] {
            byStream[entry.stream, default: []].append(entry.id)
            if claimsOutstanding > 0 { ackedDuringClaims.insert(entry.stream + " " + entry.id) }
        }
        unacked.removeFirst(n)
        for (stream, ids) in byStream {
            ackToken += 1
            let token = ackToken
            acking[token] = (stream, ids)
            ackClient.send(["XACK", stream, group] + ids) { [weak self] reply in
                guard let self, let batch = self.acking.removeValue(forKey: token) else { return }
                guard case .integer = reply else {
                    self.failedAcks.append(batch)
                    return
                }
                self.stats.acked.wrappingAdd(batch.ids.count, ordering: .relaxed)
                for id in batch.ids { self.inFlight.remove(batch.stream + " " + id) }
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
            if wasHolding && self.held.isEmpty { self.readAll() }
            if self.ackClient.state == .connected && self.loop.now - self.lastClaimMs >= Int64(max(1_000, self.claimIdleMs / 2)) {
                self.lastClaimMs = self.loop.now
                self.claim(self.streams, minIdleMs: self.claimIdleMs)
            }
            if let leaseMs = self.leaseMs, self.ackClient.state == .connected, self.loop.now - self.lastLeaseClaimMs >= Int64(leaseMs / 2) {
                self.lastLeaseClaimMs = self.loop.now
                self.claim(self.streams, minIdleMs: leaseMs / 2)
            }
            self.tickTimer()
        }
    }

    /// XAUTOCLAIM over each stream's pending entries idle at least `minIdleMs`, following the
    /// cursor through the whole list.
    private func claim(_ streams: [String], minIdleMs: Int, from start: String = "0-0") {
        for stream in streams {
            claimsOutstanding += 1
            ackClient.send(["XAUTOCLAIM", stream, group, consumer, String(minIdleMs), start, "COUNT", "512"]) { [weak self] reply in
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
                if let next = parts[0].string, next != "0-0" { self.claim([stream], minIdleMs: minIdleMs, from: next) }
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

/// The source handed to the worker's commit callback (weak: it may be gone at shutdown).
private final class SourceBox: @unchecked Sendable {
    weak var value: RedisSource?
    let loop: EventLoop
    init(_ source: RedisSource) {
        value = source
        loop = source.loop
    }
}
