import CLinux
import Synchronization
import Contracts
import Deflate
import Pipeline
import Reactor
import Store
import Telemetry
import WebSocket

/// One reactor loop's fan-out: drains the loop's ring from the pipeline worker (woken through
/// an eventfd), encodes each event once — and compresses it once for permessage-deflate
/// subscribers — and hands the shared bytes to every matching session of this loop.
/// Touched only on its loop's thread.
final class Broadcaster: @unchecked Sendable {
    let loopIndex: Int
    /// The loop this broadcaster lives on (other threads hand it work with `execute`).
    let loop: EventLoop
    let output: EventOutput
    let store: EventStore
    let ingest: TickInput?
    let settings: StreamingSettings
    private(set) var sessions: [ObjectIdentifier: WebSocketSession] = [:]
    /// Shared by this loop's sessions: no context takeover, so messages are independent.
    let deflater: RawDeflater?
    private var json = JSONWriter(capacity: 4096)
    /// Tick arrival → the last subscriber's frame handed to its socket, for sequenced events
    /// (signals, opportunities, alerts) made by a tick: stage "ws_write".
    let latency = LatencyRecorder(stages: ["ws_write"], nowNs: dfl_monotonic_ns())

    init(loop: EventLoop, output: EventOutput, store: EventStore, ingest: TickInput?, settings: StreamingSettings) {
        self.loop = loop
        loopIndex = loop.index
        self.output = output
        self.store = store
        self.ingest = ingest
        self.settings = settings
        deflater = try? RawDeflater(level: 6, windowBits: 15, noContextTakeover: true)
        output.want(lossy: [])  // no session yet
    }

    /// This loop's sessions per channel: the worker copies ticks, bars and features into the
    /// ring only while a session here reads them.
    private var subscribed: [Channel: Int] = [:]

    /// A session's channels moved from `old` to `new` (open, subscribe, unsubscribe, close).
    func subscriptionsChanged(from old: Set<Channel>, to new: Set<Channel>) {
        for gone in old.subtracting(new) { subscribed[gone, default: 0] -= 1 }
        for added in new.subtracting(old) { subscribed[added, default: 0] += 1 }
        output.want(lossy: subscribed.compactMap { $0.value > 0 && !$0.key.isSequenced ? $0.key : nil })
    }

    func add(_ session: WebSocketSession) {
        sessions[ObjectIdentifier(session)] = session
        settings.stats.sessions.wrappingAdd(1, ordering: .relaxed)
    }

    func remove(_ session: WebSocketSession) {
        guard sessions.removeValue(forKey: ObjectIdentifier(session)) != nil else { return }
        settings.stats.sessions.wrappingSubtract(1, ordering: .relaxed)
    }

    /// The batch being fanned out, and each event's frames once encoded (reused between batches).
    private var batch: [PipelineEvent] = []
    private var origins: [Int64] = []
    /// Each event's envelope as the worker encoded it (empty: encode it here).
    private var envelopes: [[UInt8]] = []
    private var plainFrames: [[UInt8]?] = []
    private var compressedFrames: [[UInt8]?] = []
    /// One subscriber's frames of a batch, written with one call (uSockets' cork buffer).
    private var cork: [UInt8] = []

    /// Called on the loop thread when the worker rang this loop's eventfd: takes every event
    /// waiting in the ring as one batch, encodes each event at most once per form (plain,
    /// compressed) when the first subscriber wants it, and flushes each subscriber once.
    func drain() {
        batch.removeAll(keepingCapacity: true)
        origins.removeAll(keepingCapacity: true)
        envelopes.removeAll(keepingCapacity: true)
        output.drain { event, origin, envelope in
            batch.append(event)
            origins.append(origin)
            envelopes.append(envelope)
        }
        guard !batch.isEmpty, !sessions.isEmpty else { return }
        plainFrames.removeAll(keepingCapacity: true)
        compressedFrames.removeAll(keepingCapacity: true)
        plainFrames.append(contentsOf: repeatElement(nil, count: batch.count))
        compressedFrames.append(contentsOf: repeatElement(nil, count: batch.count))
        for session in sessions.values {
            cork.removeAll(keepingCapacity: true)
            for i in batch.indices where session.wants(batch[i]) {
                let frame: [UInt8]
                if session.compresses {
                    if compressedFrames[i] == nil { compressedFrames[i] = self.frame(i, compress: true) }
                    frame = compressedFrames[i]!
                } else {
                    if plainFrames[i] == nil { plainFrames[i] = self.frame(i, compress: false) }
                    frame = plainFrames[i]!
                }
                // A burst bigger than the cap goes out in pieces, so the cap measures what the
                // kernel did not take (the client's backlog), not the size of a batch.
                if !cork.isEmpty && cork.count + frame.count > settings.outboundCapBytes {
                    session.write(cork)
                    cork.removeAll(keepingCapacity: true)
                }
                if !session.admit(batch[i], frameBytes: frame.count, corked: cork.count) { continue }
                cork.append(contentsOf: frame)
            }
            session.flush(cork)
        }
        recordLatency()
        // A big batch must not pin its memory until the next one.
        if cork.capacity > 256 << 10 { cork = [] }
    }

    /// One clock reading per batch: every sequenced event written to at least one subscriber.
    private func recordLatency() {
        var any = false
        for i in batch.indices where origins[i] != 0 && (plainFrames[i] != nil || compressedFrames[i] != nil) {
            if batch[i].seq != nil { any = true; break }
        }
        guard any else { return }
        let now = dfl_monotonic_ns()
        latency.record(nowNs: now) { add in
            for i in batch.indices where origins[i] != 0 && batch[i].seq != nil
                && (plainFrames[i] != nil || compressedFrames[i] != nil) {
                add(0, now - origins[i])
            }
        }
    }

    /// Another instance's opportunity (multi-instance, through Redis, already in the remote
    /// history): its JSON as received, framed at most once per form, to every session that
    /// has not had it.
    func deliverRemote(_ event: PipelineEvent, origin: String, seq: UInt64, json: [UInt8]) {
        var plain: [UInt8]?
        var compressed: [UInt8]?
        for session in sessions.values where session.wantsRemote(event, origin: origin, seq: seq) {
            if session.compresses {
                if compressed == nil { compressed = frame(json, compress: true) }
                session.deliverRemote(compressed!, origin: origin, seq: seq)
            } else {
                if plain == nil { plain = frame(json, compress: false) }
                session.deliverRemote(plain!, origin: origin, seq: seq)
            }
        }
    }

    /// The remote history's backfill is in: sessions that resumed with a cursor before it are
    /// replayed what it brought (after their marks).
    func remoteBackfilled() {
        for session in sessions.values where session.awaitingBackfill { session.finishAwaitingBackfill() }
    }

    /// The WebSocket frame of the batch's event `i`: its JSON envelope, as the worker encoded
    /// it when it did (sequenced events), else encoded here.
    private func frame(_ i: Int, compress: Bool) -> [UInt8] {
        envelopes[i].isEmpty ? frame(batch[i], compress: compress) : frame(envelopes[i], compress: compress)
    }

    /// The WebSocket frame of an event's JSON envelope (a replay's events, read back); a
    /// sequenced one names this gateway in a multi-instance deployment, as the worker's do.
    func frame(_ event: PipelineEvent, compress: Bool) -> [UInt8] {
        json.reset()
        event.envelope(&json, instance: event.seq == nil ? nil : settings.instance)
        return frame(json.bytes, compress: compress)
    }

    /// The frame of an envelope as encoded, compressed when asked and the deflater can.
    func frame(_ envelope: [UInt8], compress: Bool) -> [UInt8] {
        if compress, let deflater {
            var body: [UInt8] = []
            if (try? envelope.withUnsafeBytes { try deflater.compressMessage($0, into: &body) }) != nil {
                return WSFrameWriter.frame(.text, body, compressed: true)
            }
        }
        return WSFrameWriter.frame(.text, envelope)
    }

    func countDrop() { settings.stats.droppedLossy.wrappingAdd(1, ordering: .relaxed) }
    func countSlowClose() { settings.stats.slowClosed.wrappingAdd(1, ordering: .relaxed) }
}

/// Streaming limits (docs/CONTRACTS.md, "WebSocket limits").
public struct StreamingSettings: Sendable {
    public var maxMessageBytes = 1 << 20
    public var outboundCapBytes = 1 << 20
    /// Symbols one subscription may name (each a valid tick symbol, or "*").
    public var maxSymbols = 1000
    public var pingIntervalMs: Int64 = 30_000
    public var idleTimeoutMs: Int64 = 120_000
    /// A message must arrive whole within this long of its first byte (else close 1008).
    public var messageTimeoutMs: Int64 = 30_000
    /// Browser origins allowed besides the server's own host; ["*"] = any.
    public var allowedOrigins: [String] = []
    var ingestGuard = IngestGuard(key: nil)
    /// Where `since_seq` reads what memory no longer holds (nil = no journal).
    var journal: Journal?
    /// This gateway's name when it is one of several (`redis.url` set): sequenced frames carry
    /// it, and clients resume with a cursor naming every origin. nil = a single gateway.
    var instance: String?
    /// The other gateways' recent opportunities (`redis.peers`), for cursor resumes.
    var remote: RemoteHistory?
    /// Counters shared by every loop's broadcaster, read by /admin/health.
    var stats = StreamingStats()
    public init() {}
}


/// WebSocket counters across loops (relaxed atomics: bumped by loop threads, read by health).
final class StreamingStats: Sendable {
    /// Open WebSocket sessions (streams; the test-only echo is not counted).
    let sessions = Atomic<Int>(0)
    /// Lossy events (ticks, bars, features) skipped because a client was over its cap.
    let droppedLossy = Atomic<Int>(0)
    /// Clients closed with 1013 because a sequenced event did not fit under their cap.
    let slowClosed = Atomic<Int>(0)
    /// Ended streams by close code: the code we sent or the client sent first; 1006 when the
    /// connection ended without a close frame.
    let closes = CountTable<Int>()
    /// Open streams subscribed to each channel (a gauge).
    let subscribers = CountTable<String>()
}
