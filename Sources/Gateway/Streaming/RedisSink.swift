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
/// batch as one pipelined burst. Sequenced events are delivered at least once: the sink
/// remembers the last seq Redis acknowledged, and after the link comes back it reads what it
/// missed from the journal (entries carry `seq`, so readers drop repeats).
final class RedisSink: @unchecked Sendable {
    let client: RedisClient
    let output: EventOutput
    let journal: Journal?
    let maxLength: Int
    private let loop: EventLoop
    /// Highest seq whose XADD/PUBLISH Redis answered.
    private(set) var ackedSeq: UInt64 = 0 { didSet { stats.ackedSeq.store(ackedSeq, ordering: .relaxed) } }
    private var catchingUp = false
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
         instance: String) {
        self.instance = instance
        client = RedisClient(host: host, port: port, loop: loop)
        self.output = output
        self.journal = journal
        self.loop = loop
        self.maxLength = maxLength
        ackedSeq = startSeq
        stats.ackedSeq.store(startSeq, ordering: .relaxed)
        client.onConnected = { [weak self] in self?.catchUp() }
    }

    func start() { loop.execute { self.client.start() } }

    /// On the loop when the worker rang: one pipelined burst for the batch.
    func drain() {
        var bytes: [UInt8] = []
        var replies: [(RESPValue) -> Void] = []
        output.drain { event, _, envelope in append(event, envelope: envelope, &bytes, &replies) }
        guard !replies.isEmpty else { return }
        client.send(encoded: bytes, replies: replies)
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
            replies.append { [weak self] reply in self?.acknowledge(seq, reply) }
        }
        func publish(_ channel: String, seq: UInt64? = nil) {
            RESPEncoder.command([Array("PUBLISH".utf8), Array(channel.utf8), json], into: &bytes)
            if let seq {
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

    private func acknowledge(_ seq: UInt64, _ reply: RESPValue) {
        if case .error = reply {
            stats.failed.wrappingAdd(1, ordering: .relaxed)
            return
        }
        stats.sent.wrappingAdd(1, ordering: .relaxed)
        ackedSeq = max(ackedSeq, seq)
    }

    /// After (re)connecting: sends what the journal holds after the last acknowledged seq, in
    /// chunks read off the loop, while live batches keep flowing (a few events may reach Redis
    /// twice: at-least-once, each entry carrying its `seq`).
    private func catchUp() {
        guard let journal, !catchingUp, journal.stats.lastSeq.load(ordering: .relaxed) > ackedSeq else { return }
        catchingUp = true
        readChunk(journal, after: ackedSeq)
    }

    private func readChunk(_ journal: Journal, after from: UInt64) {
        let sink = self
        DispatchQueue.global().async {
            let (records, _) = journal.read(after: from, limit: 10_000)
            sink.loop.execute { sink.sendChunk(journal, records) }
        }
    }

    private func sendChunk(_ journal: Journal, _ records: [(seq: UInt64, payload: [UInt8])]) {
        var bytes: [UInt8] = []
        var replies: [(RESPValue) -> Void] = []
        for record in records {
            if let event = EventDecoder.decode(record.payload)?.event { append(event, envelope: [], &bytes, &replies) }
        }
        if !replies.isEmpty { client.send(encoded: bytes, replies: replies) }
        if records.count == 10_000, let last = records.last?.seq {
            readChunk(journal, after: last)
        } else {
            catchingUp = false
        }
    }
}
