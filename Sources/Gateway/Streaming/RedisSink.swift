import Contracts
import Dispatch
import Pipeline
import Reactor
import Redis
import Store
import Synchronization

/// The Redis Streams sink (config `redis.url`), compatible with the seed's key names: signals
/// and opportunities are XADDed to `dfp:strategy_signals` / `dfp:opportunities` (MAXLEN ~),
/// opportunities and risk alerts are PUBLISHed to `dfp:opportunities:ws` / `dfp:risk_alerts`,
/// features to `dfp:features`. It is one more consumer of the worker on loop 0, writing each
/// batch as one pipelined burst. Sequenced events are delivered at least once and in seq order:
/// the sink records in `dfp:sink:{instance}` the seq up to which Redis acknowledged every event
/// (a SET after the acknowledgements), and whenever the link (re)connects — a restart after a
/// crash included — it sends what the journal holds after that, holding live events back
/// meanwhile (they are journaled before the sink sees them, so the journal brings them in
/// order). Entries carry `seq`, so readers drop the repeats a link drop can make.
final class RedisSink: @unchecked Sendable {
    let client: RedisClient
    let output: EventOutput
    let journal: Journal?
    let maxLength: Int
    private let loop: EventLoop
    /// Highest seq whose XADD/PUBLISH Redis answered.
    private(set) var ackedSeq: UInt64 = 0 { didSet { stats.ackedSeq.store(ackedSeq, ordering: .relaxed) } }
    /// Highest seq handed to the link since it connected (what follows must be above it).
    private var sentSeq: UInt64 = 0
    /// Every sequenced event up to this seq was acknowledged: where a catch-up starts, and what
    /// `dfp:sink:{instance}` records. On a cluster the replies of different nodes come in any
    /// order, so it advances over `sentOrder` as the acknowledgements fill it in; a failed one
    /// holds it until the catch-up after the reconnect sends it again.
    private var contiguous: UInt64 = 0
    private var sentOrder: [UInt64] = []
    private var sentHead = 0
    private var confirmed: Set<UInt64> = []
    private var progressWriting = false
    private var progressWritten: UInt64 = 0
    /// Reading the journal after a (re)connect: live sequenced events wait in the journal.
    private var catchingUp = false
    /// The highest live seq held back while catching up: the catch-up reads on until it.
    private var heldBackSeq: UInt64 = 0
    /// Whether the progress key was read (once, at the first connect).
    private var progressRead = false
    /// One catch-up at a time: a reconnect starts a new chain and the old one stops.
    private var chain = 0
    /// For health, from any thread.
    let stats = Stats()

    final class Stats: Sendable {
        let ackedSeq = Atomic<UInt64>(0)
        let sent = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
    }

    /// This instance's name, on what it publishes for its peers.
    let instance: String

    init(host: String, port: Int, loop: EventLoop, output: EventOutput, journal: Journal?, startSeq: UInt64, maxLength: Int,
         instance: String, cluster: Bool = false) {
        self.instance = instance
        client = RedisClient(host: host, port: port, loop: loop, cluster: cluster)
        self.output = output
        self.journal = journal
        self.loop = loop
        self.maxLength = maxLength
        ackedSeq = startSeq
        contiguous = startSeq
        stats.ackedSeq.store(startSeq, ordering: .relaxed)
        progressKey = "dfp:sink:\(instance)"
        output.want(lossy: [.features])  // ticks and bars are not published (`append`)
        client.onConnected = { [weak self] in self?.connected() }
    }

    /// Where `contiguous` is recorded in Redis.
    let progressKey: String

    func start() { loop.execute { self.client.start() } }

    /// On the loop when the worker rang: one pipelined burst for the batch. With a journal,
    /// sequenced events go live only while the link is up and caught up; otherwise they wait
    /// in the journal for the catch-up.
    func drain() {
        var bytes: [UInt8] = []
        var replies: [(RESPValue) -> Void] = []
        let live = journal == nil || (client.state == .connected && !catchingUp)
        output.drain { event, _, envelope in
            if let seq = event.seq, journal != nil {
                guard live else {
                    heldBackSeq = max(heldBackSeq, seq)
                    return
                }
                guard seq > sentSeq else { return }
                sentSeq = seq
            }
            append(event, envelope: envelope, &bytes, &replies)
        }
        guard !replies.isEmpty else { return }
        client.send(encoded: bytes, replies: replies)
    }

    /// Records `contiguous` in Redis once it moved (one SET at a time).
    private func writeProgress() {
        guard journal != nil, !progressWriting, contiguous > progressWritten, client.state == .connected else { return }
        progressWriting = true
        let value = contiguous
        client.send(["SET", progressKey, String(value)]) { [weak self] reply in
            guard let self else { return }
            self.progressWriting = false
            if case .error = reply { return }
            self.progressWritten = max(self.progressWritten, value)
            self.writeProgress()
        }
    }

    /// One event's commands. A sequenced event goes as the worker encoded it, naming this
    /// instance (a field of the stream entry too): the other gateways read `dfp:opportunities`
    /// (RedisPeers) and tell origins apart by it. Features are encoded here, in the seed's shape;
    /// a journal record read back for a catch-up is encoded again with the instance.
    private func append(_ event: PipelineEvent, envelope: [UInt8], _ bytes: inout [UInt8], _ replies: inout [(RESPValue) -> Void]) {
        let json: [UInt8]
        switch event {
        case .tick, .bar: return
        case .signal, .opportunity, .alert, .features:
            if !envelope.isEmpty {
                json = envelope
            } else {
                var w = JSONWriter(capacity: 512)
                event.envelope(&w, instance: event.seq == nil ? nil : instance)
                json = w.bytes
            }
        }
        func xadd(_ stream: String, _ seq: UInt64) {
            RESPEncoder.command([Array("XADD".utf8), Array(stream.utf8), Array("MAXLEN".utf8), Array("~".utf8), Array(String(maxLength).utf8),
                                 Array("*".utf8), Array("seq".utf8), Array(String(seq).utf8),
                                 Array("instance".utf8), Array(instance.utf8), Array("data".utf8), json], into: &bytes)
            sent(seq)
            replies.append { [weak self] reply in self?.acknowledge(seq, reply) }
        }
        func publish(_ channel: String, seq: UInt64? = nil) {
            RESPEncoder.command([Array("PUBLISH".utf8), Array(channel.utf8), json], into: &bytes)
            if let seq {
                sent(seq)
                replies.append { [weak self] reply in self?.acknowledge(seq, reply) }
            } else {
                replies.append { _ in }
            }
        }
        switch event {
        case .signal(let s): xadd("dfp:strategy_signals", s.seq)
        case .opportunity(let o):
            xadd("dfp:opportunities", o.seq)
            publish("dfp:opportunities:ws")  // the seed's shape plus the origin instance
        case .alert(let a): publish("dfp:risk_alerts", seq: a.seq)
        case .features: publish("dfp:features")
        case .tick, .bar: break
        }
    }

    private func sent(_ seq: UInt64) {
        if journal != nil { sentOrder.append(seq) }
    }

    private func acknowledge(_ seq: UInt64, _ reply: RESPValue) {
        if case .error(let message) = reply {
            stats.failed.wrappingAdd(1, ordering: .relaxed)
            // Lost with the link: the catch-up after the reconnect sends it again. Refused by
            // Redis (out of memory, a wrong type): counted and passed over, as sending it again
            // would be refused too, and holding the position would hold every later one.
            if message.hasPrefix("ERR link down") { return }
        } else {
            stats.sent.wrappingAdd(1, ordering: .relaxed)
            ackedSeq = max(ackedSeq, seq)
        }
        guard journal != nil else { return }
        confirmed.insert(seq)
        while sentHead < sentOrder.count, confirmed.remove(sentOrder[sentHead]) != nil {
            contiguous = max(contiguous, sentOrder[sentHead])
            sentHead += 1
        }
        if sentHead > 4096 {
            sentOrder.removeFirst(sentHead)
            sentHead = 0
        }
        writeProgress()
    }

    /// After (re)connecting: sends what the journal holds after the last acknowledged seq — at
    /// the first connect, after the seq recorded in Redis when it is lower (a crash lost the
    /// rest) — in chunks read off the loop, then goes live.
    private func connected() {
        guard let journal else { return }
        catchingUp = true
        chain += 1
        let chain = chain
        guard progressRead else {
            client.send(["GET", progressKey]) { [weak self] reply in
                guard let self else { return }
                if case .error = reply { return }  // link down: `connected` comes again
                self.progressRead = true
                if let text = reply.string, let recorded = UInt64(text) { self.contiguous = min(self.contiguous, recorded) }
                self.restart(journal, chain)
            }
            return
        }
        restart(journal, chain)
    }

    /// The catch-up starts after the last seq all of whose predecessors were acknowledged;
    /// what was sent after it goes again (readers drop the repeats).
    private func restart(_ journal: Journal, _ chain: Int) {
        sentOrder = []
        sentHead = 0
        confirmed = []
        sentSeq = contiguous
        readChunk(journal, after: sentSeq, chain)
    }

    private func readChunk(_ journal: Journal, after from: UInt64, _ chain: Int) {
        let sink = self
        DispatchQueue.global().async {
            let (records, _) = journal.read(after: from, limit: Self.chunk)
            sink.loop.execute { sink.sendChunk(journal, records, chain) }
        }
    }

    static let chunk = 10_000

    private func sendChunk(_ journal: Journal, _ records: [(seq: UInt64, payload: [UInt8])], _ chain: Int) {
        guard chain == self.chain, client.state == .connected else { return }  // `connected` starts again
        var bytes: [UInt8] = []
        var replies: [(RESPValue) -> Void] = []
        for record in records where record.seq > sentSeq {
            sentSeq = record.seq
            if let event = EventDecoder.decode(record.payload)?.event { append(event, envelope: [], &bytes, &replies) }
        }
        if !replies.isEmpty { client.send(encoded: bytes, replies: replies) }
        if records.count == Self.chunk {
            readChunk(journal, after: sentSeq, chain)
        } else if heldBackSeq > sentSeq {
            // Held back live, journaled before it reached the sink: read again, unhurried.
            loop.schedule(afterMs: records.isEmpty ? 20 : 0) { [weak self] in
                guard let self, chain == self.chain else { return }
                self.readChunk(journal, after: self.sentSeq, chain)
            }
        } else {
            catchingUp = false
        }
    }
}
