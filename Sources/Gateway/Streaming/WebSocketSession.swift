import CLinux
import Contracts
import Deflate
import Foundation
import Pipeline
import Reactor
import Store
import WebSocket

/// What a client subscribed to.
struct Subscription {
    static let channels: Set<String> = ["opportunities", "signals", "risk_alerts", "ticks", "bars", "features"]
    var channels: Set<String> = []
    /// nil = every symbol.
    var symbols: Set<String>?
    var minConfidence = 0.0

    func wants(_ event: PipelineEvent) -> Bool {
        switch event {
        case .opportunity(let o):
            channels.contains("opportunities") && o.confidence >= minConfidence && symbols.map { $0.contains(o.symbol) } ?? true
        case .signal(let s): channels.contains("signals") && symbols.map { $0.contains(s.symbol) } ?? true
        case .alert(let a): channels.contains("risk_alerts") && (symbols == nil || a.symbol == nil || symbols!.contains(a.symbol!))
        case .tick(let t): channels.contains("ticks") && symbols.map { $0.contains(t.symbol) } ?? true
        case .bar(let b): channels.contains("bars") && symbols.map { $0.contains(b.symbol) } ?? true
        case .features(let f): channels.contains("features") && symbols.map { $0.contains(f.symbol) } ?? true
        }
    }
}

/// One WebSocket client after the upgrade: reads its frames and commands, streams the events it
/// subscribed to, answers pings, sends heartbeats, and enforces the per-client outbound cap
/// (lossy channels drop, sequenced channels close with 1013 so the client resumes by seq).
final class WebSocketSession: ConnectionHandler {
    private let broadcaster: Broadcaster
    private var reader: WSFrameReader
    let compresses: Bool
    private var subscription: Subscription {
        didSet { if subscription.channels != oldValue.channels { countChannels(subscription.channels) } }
    }
    /// The channels this session is counted under in `StreamingStats.subscribers`.
    private var countedChannels: Set<String> = []
    private var initialSince: UInt64?
    /// Sequenced events up to here were sent or deliberately skipped (replay bookkeeping).
    private var coveredSeq: UInt64 = 0
    private var lastReceivedMs: Int64 = 0
    /// When the next heartbeat is due, and since when a message has been arriving unfinished
    /// (nil: none): one connection deadline serves both.
    private var nextPingMs: Int64 = 0
    private var partialSinceMs: Int64?
    private weak var connection: Connection?
    private var closing = false
    /// The close code sent or received first (metrics); `closeCounted` once it was counted.
    private var closeCode: Int?
    private var closeCounted = false
    /// How long a closing client has to read its last frames before it is dropped.
    static let closeFlushMs: Int64 = 5_000
    /// A sequenced event did not fit under the outbound cap: close after this batch.
    private var overflowed = false
    /// A resume is reading the journal on another thread: live events wait (the store replay
    /// that follows the journal part covers them).
    private var readingJournal = false

    /// The X-API-Key of the upgrade request, for tick ingest when `api.ingest_key` is set.
    private let ingestKey: String?

    init(broadcaster: Broadcaster, deflate: PerMessageDeflate?, subscription: Subscription, sinceSeq: UInt64?,
         ingestKey: String? = nil) {
        self.ingestKey = ingestKey
        self.broadcaster = broadcaster
        // Server messages are compressed with the loop's shared deflater (no context takeover,
        // 15-bit window), so a session holds no zlib state of its own; a client that asked for
        // a smaller window gets them uncompressed (RFC 7692 lets any message go either way).
        compresses = deflate != nil && deflate?.serverMaxWindowBits == 15
        reader = WSFrameReader(maxMessageBytes: broadcaster.settings.maxMessageBytes,
                               inflateWindowBits: deflate?.clientMaxWindowBits,
                               noContextTakeover: deflate?.clientNoContextTakeover ?? true)
        self.subscription = subscription
        initialSince = sinceSeq
    }

    /// Moves this session's entries in the subscribers-per-channel gauge to `channels`.
    private func countChannels(_ channels: Set<String>) {
        let stats = broadcaster.settings.stats
        for gone in countedChannels.subtracting(channels) { stats.subscribers.add(gone, -1) }
        for new in channels.subtracting(countedChannels) { stats.subscribers.add(new, 1) }
        countedChannels = channels
    }

    func wants(_ event: PipelineEvent) -> Bool {
        guard !closing, !readingJournal else { return false }
        if let seq = event.seq, seq <= coveredSeq { return false }  // already sent by a replay
        return subscription.wants(event)
    }

    // MARK: - ConnectionHandler

    func connectionDidOpen(_ connection: Connection) {
        self.connection = connection
        // The session's own cap (1013 for sequenced channels) must trip before the reactor's
        // generic write-queue cap, which would drop the client without a close frame.
        connection.setWriteQueueLimit(2 * broadcaster.settings.outboundCapBytes + broadcaster.settings.maxMessageBytes + 65_536)
        lastReceivedMs = connection.now
        broadcaster.add(self)
        countChannels(subscription.channels)
        coveredSeq = broadcaster.store.lastSeq
        sendJSON { w in
            w.string("type", "hello")
            w.string("server", "dongfeng/\(DongfengVersion.current)")
            w.uint64("seq", coveredSeq)
        }
        if !subscription.channels.isEmpty { acknowledge(subscription) }
        if let since = initialSince { replay(after: since) }
        nextPingMs = connection.now + broadcaster.settings.pingIntervalMs
        armDeadline(connection)
    }

    /// The earlier of the next heartbeat and the unfinished message's time limit.
    private func armDeadline(_ connection: Connection) {
        var at = nextPingMs
        if let since = partialSinceMs { at = min(at, since + broadcaster.settings.messageTimeoutMs) }
        connection.setDeadline(afterMs: max(1, at - connection.now))
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        lastReceivedMs = connection.now
        reader.append(bytes)
        while !closing {
            switch reader.next() {
            case .needMore:
                // A client that sends (pings, commands) without reading our answers is read no
                // further until it does: TCP backpressure, as for pipelined HTTP, so its replies
                // stay within the outbound cap instead of growing to the write-queue limit.
                if connection.queuedBytes > broadcaster.settings.outboundCapBytes { connection.pauseReading() }
                // A message must arrive whole within the message timeout of its first byte:
                // a client trickling one (or never sending its last fragment, pinging to look
                // alive) would otherwise hold up to max_message_bytes for as long as it likes.
                if reader.isIdle {
                    if partialSinceMs != nil {
                        partialSinceMs = nil
                        armDeadline(connection)
                    }
                } else if partialSinceMs == nil {
                    partialSinceMs = connection.now
                    armDeadline(connection)
                }
                return
            case .text(let bytes): command(bytes)
            case .binary: close(.unsupportedData, "binary messages are not supported; send JSON text")
            case .ping(let payload): write(WSFrameWriter.frame(.pong, payload))
            case .pong: break
            case .close(let code, _):
                // Echo the close (RFC 6455 §5.5.1), then close once it is sent.
                closing = true
                closeCode = closeCode ?? Int(code ?? 1005)
                if let code, let known = WSCloseCode(rawValue: code) {
                    write(WSFrameWriter.close(known, reason: ""))
                } else if let code {
                    write(WSFrameWriter.frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)]))
                } else {
                    write(WSFrameWriter.frame(.close, []))
                }
                connection.closeAfterFlush()
                connection.setDeadline(afterMs: Self.closeFlushMs)
            case .failure(let error): close(error.code, error.reason)
            }
        }
    }

    func connectionDidDrainWrites(_ connection: Connection) {
        connection.resumeReading()
    }

    func connectionDeadlineExpired(_ connection: Connection) {
        // A client we are closing that does not read its last frames is dropped.
        if closing {
            connection.close()
            return
        }
        let now = connection.now
        if let since = partialSinceMs, now - since >= broadcaster.settings.messageTimeoutMs {
            close(.policyViolation, "message not received whole within \(broadcaster.settings.messageTimeoutMs / 1000) s")
            return
        }
        if now < nextPingMs {
            armDeadline(connection)
            return
        }
        if now - lastReceivedMs > broadcaster.settings.idleTimeoutMs {
            close(.goingAway, "idle for \(broadcaster.settings.idleTimeoutMs / 1000) s")
            return
        }
        sendJSON { w in
            w.string("type", "heartbeat")
            w.int64("ts", Int64(Date().timeIntervalSince1970 * 1000))
            w.uint64("seq", broadcaster.store.lastSeq)
        }
        write(WSFrameWriter.frame(.ping, []))
        nextPingMs = now + broadcaster.settings.pingIntervalMs
        armDeadline(connection)
    }

    func connectionShouldDrain(_ connection: Connection) { close(.goingAway, "server shutting down") }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        closing = true
        if !closeCounted {
            closeCounted = true
            broadcaster.settings.stats.closes.add(closeCode ?? 1006)
        }
        countChannels([])
        broadcaster.remove(self)
    }

    // MARK: - Sending

    /// Whether an event's frame may join this client's batch (`corked` bytes so far). Over the
    /// outbound cap a lossy event is skipped (counted); a sequenced one ends the client's stream:
    /// the frames admitted so far are still sent by `flush`, then it closes with 1013 naming the
    /// last seq sent, where the client resumes.
    func admit(_ event: PipelineEvent, frameBytes: Int, corked: Int) -> Bool {
        guard !closing, !overflowed, let connection, connection.isOpen else { return false }
        if connection.queuedBytes + corked + frameBytes > broadcaster.settings.outboundCapBytes {
            if event.seq == nil {
                broadcaster.countDrop()  // lossy channel: this update is skipped
            } else {
                overflowed = true
            }
            return false
        }
        if let seq = event.seq { coveredSeq = seq }
        return true
    }

    /// Writes a batch of admitted frames with one call; then closes if the batch overflowed.
    func flush(_ frames: [UInt8]) {
        guard !closing else { return }
        if !frames.isEmpty { write(frames) }
        if overflowed {
            broadcaster.countSlowClose()
            close(.tryAgainLater, "too slow: reconnect with since_seq=\(coveredSeq)")
        }
    }

    /// Another instance's event: filtered like local ones, never part of the local seq.
    func wantsRemote(_ event: PipelineEvent) -> Bool {
        !closing && !readingJournal && !overflowed && subscription.wants(event)
    }

    /// Over the cap a remote event is skipped and counted (it is not in this instance's seq,
    /// so a resume could not bring it back; the origin's REST has it).
    func deliverRemote(_ frame: [UInt8]) {
        guard let connection, connection.isOpen else { return }
        if connection.queuedBytes + frame.count > broadcaster.settings.outboundCapBytes {
            broadcaster.countDrop()
            return
        }
        write(frame)
    }

    /// One event's shared frame (replay path).
    func deliver(_ event: PipelineEvent, frame: [UInt8]) {
        flush(admit(event, frameBytes: frame.count, corked: 0) ? frame : [])
    }

    func write(_ bytes: [UInt8]) {
        _ = connection?.write(bytes)
    }

    private func sendJSON(_ build: (inout JSONWriter) -> Void) {
        var w = JSONWriter()
        w.beginObject()
        build(&w)
        w.endObject()
        sendText(w.bytes)
    }

    private func sendText(_ text: [UInt8]) {
        if compresses, let deflater = broadcaster.deflater {
            var body: [UInt8] = []
            if (try? text.withUnsafeBytes { try deflater.compressMessage($0, into: &body) }) != nil {
                write(WSFrameWriter.frame(.text, body, compressed: true))
                return
            }
        }
        write(WSFrameWriter.frame(.text, text))
    }

    private func error(_ code: String, _ message: String) {
        sendJSON { w in
            w.string("type", "error")
            w.string("code", code)
            w.string("message", message)
        }
    }

    private func close(_ code: WSCloseCode, _ reason: String) {
        guard !closing, let connection else { return }
        closing = true
        closeCode = Int(code.rawValue)
        write(WSFrameWriter.close(code, reason: reason))
        connection.closeAfterFlush()
        connection.setDeadline(afterMs: Self.closeFlushMs)
    }

    // MARK: - Commands

    private func command(_ bytes: [UInt8]) {
        guard case .success(.object(let message)) = JSONValue.parse(Data(bytes)) else {
            return error("invalid_message", "messages are JSON objects with an \"op\"")
        }
        guard case .string(let op)? = message["op"] else { return error("invalid_message", "missing \"op\"") }
        switch op {
        case "subscribe":
            do {
                let (channels, symbols, minConfidence, since) = try Self.parseSubscription(
                    message, maxSymbols: broadcaster.settings.maxSymbols)
                subscription.channels.formUnion(channels.isEmpty ? ["opportunities"] : channels)
                if let symbols { subscription.symbols = symbols.contains("*") ? nil : symbols }
                if let minConfidence { subscription.minConfidence = minConfidence }
                acknowledge(subscription)
                if let since { replay(after: since) }
            } catch let e as SubscriptionError {
                error("invalid_subscription", e.message)
            } catch {}
        case "unsubscribe":
            let channels = Self.strings(message["channels"]) ?? []
            subscription.channels.subtract(channels.isEmpty ? subscription.channels : Set(channels))
            sendJSON { w in
                w.string("type", "unsubscribed")
                w.beginArray("channels")
                for c in subscription.channels.sorted() { w.string(nil, c) }
                w.endArray()
            }
        case "ping":
            sendJSON { w in
                w.string("type", "pong")
                w.uint64("seq", broadcaster.store.lastSeq)
            }
        case "ticks":
            var presented = ingestKey
            if case .string(let key)? = message["api_key"] { presented = key }
            if let denied = broadcaster.settings.ingestGuard.check(presented: presented) {
                return error(denied.code, denied.message)
            }
            ingest(message["ticks"])
        default:
            error("unknown_op", "unknown op \(op.debugDescription): use subscribe, unsubscribe, ticks or ping")
        }
    }

    private func acknowledge(_ s: Subscription) {
        sendJSON { w in
            w.string("type", "subscribed")
            w.beginArray("channels")
            for c in s.channels.sorted() { w.string(nil, c) }
            w.endArray()
            w.beginArray("symbols")
            for sym in (s.symbols.map { $0.sorted() } ?? ["*"]) { w.string(nil, sym) }
            w.endArray()
            w.double("min_confidence", s.minConfidence)
        }
    }

    /// Sends every stored sequenced event after `since` that the subscription wants, in seq
    /// order, then continues live: events up to the store's seq at this moment count as covered,
    /// so the live stream neither repeats nor skips one.
    private func replay(after since: UInt64) {
        let store = broadcaster.store
        if let start = store.historyStartsAt, since + 1 < start {
            if let journal = broadcaster.settings.journal, let connection {
                replayFromJournal(journal, after: since, until: start - 1, connection.eventLoop)
                return
            }
            error("history_gap", "events after seq \(since) are no longer all in memory; the oldest complete seq is \(start)")
        }
        replayFromStore(after: since)
    }

    /// Older than memory: reads the journal on another thread (file I/O stays off the reactor),
    /// sends what the subscription wants, then resumes from the store where the journal part
    /// ended — reading the journal again if memory moved on meanwhile.
    private func replayFromJournal(_ journal: Journal, after since: UInt64, until end: UInt64, _ loop: EventLoop) {
        readingJournal = true
        let box = SessionBox(self)
        let limit = max(1_000, broadcaster.store.capacity)
        DispatchQueue.global().async {
            let (records, oldest) = journal.read(after: since, upTo: end, limit: limit)
            loop.execute { box.session?.finishJournalReplay(after: since, records, oldest: oldest) }
        }
    }

    fileprivate func finishJournalReplay(after since: UInt64, _ records: [(seq: UInt64, payload: [UInt8])], oldest: UInt64?) {
        readingJournal = false
        guard !closing else { return }
        if let oldest, since + 1 < oldest {
            error("history_gap", "events after seq \(since) are no longer kept; the oldest in the journal is \(oldest)")
        }
        coveredSeq = min(coveredSeq, since)
        var last = since
        for record in records {
            guard !closing else { return }
            last = record.seq
            guard let event = JournalEvents.decode(record.payload), subscription.wants(event) else { continue }
            deliver(event, frame: broadcaster.frame(event, compress: compresses))
        }
        if records.isEmpty {
            if oldest == nil { error("history_gap", "events after seq \(since) are no longer kept") }
            replayFromStore(after: since)
        } else {
            replay(after: last)
        }
    }

    private func replayFromStore(after since: UInt64) {
        let store = broadcaster.store
        let upTo = store.lastSeq
        var events: [PipelineEvent] = []
        let limit = store.capacity
        if subscription.channels.contains("opportunities") {
            events += store.opportunities(sinceSeq: since, limit: limit).map(PipelineEvent.opportunity)
        }
        if subscription.channels.contains("signals") { events += store.signals(sinceSeq: since, limit: limit).map(PipelineEvent.signal) }
        if subscription.channels.contains("risk_alerts") { events += store.alerts(sinceSeq: since, limit: limit).map(PipelineEvent.alert) }
        events.sort { ($0.seq ?? 0) < ($1.seq ?? 0) }
        coveredSeq = min(coveredSeq, since)
        for event in events where (event.seq ?? 0) <= upTo && subscription.wants(event) {
            guard !closing else { return }
            deliver(event, frame: broadcaster.frame(event, compress: compresses))
        }
        coveredSeq = max(coveredSeq, upTo)
    }

    private func ingest(_ value: JSONValue?) {
        guard case .array(let items)? = value else { return error("invalid_message", "\"ticks\" must be an array of tick objects") }
        var ticks: [Tick] = []
        var rejected: [(Int, String)] = []
        var fields: [String] = []
        for (i, item) in items.enumerated() {
            switch Self.tick(item) {
            case .success(let t): ticks.append(t)
            case .failure(let e):
                rejected.append((i, e.description))
                fields.append(e.field == "tick" ? "record" : e.field)
            }
        }
        guard let input = broadcaster.ingest else { return error("pipeline_unavailable", "the pipeline is not running") }
        input.countInvalid(fields)
        if input.freeCapacity < ticks.count {
            input.rejectedFull.wrappingAdd(ticks.count, ordering: .relaxed)
            return error("pipeline_busy", "the pipeline is busy: \(ticks.count) ticks not accepted, retry shortly")
        }
        let receivedNs = dfl_monotonic_ns()
        for t in ticks { input.submit(t, receivedNs: receivedNs) }
        sendJSON { w in
            w.string("type", "ack")
            w.int("accepted", ticks.count)
            w.beginArray("rejected")
            for (i, message) in rejected {
                w.beginObject()
                w.int("index", i)
                w.string("error", message)
                w.endObject()
            }
            w.endArray()
        }
    }

    // MARK: - Parsing helpers

    struct SubscriptionError: Error { let message: String }

    static func strings(_ value: JSONValue?) -> [String]? {
        switch value {
        case .array(let items)?: return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        case .string(let s)?: return s.split(separator: ",").map { String($0) }
        default: return nil
        }
    }

    /// A subscription's fields, checked. The symbol list is held per connection for as long as
    /// it is open, so it is bounded (`maxSymbols`) and each name must be one a tick could carry:
    /// a megabyte of names on each of thousands of connections would otherwise hold gigabytes.
    static func parseSubscription(_ m: [String: JSONValue], maxSymbols: Int) throws -> (Set<String>, Set<String>?, Double?, UInt64?) {
        let channels = Set(strings(m["channels"]) ?? [])
        if let unknown = channels.subtracting(Subscription.channels).first {
            throw SubscriptionError(message: "unknown channel \(unknown.prefix(64).debugDescription) (channels: \(Subscription.channels.sorted().joined(separator: ", ")))")
        }
        let symbols = strings(m["symbols"]).map(Set.init)
        if let symbols {
            guard symbols.count <= maxSymbols else {
                throw SubscriptionError(message: "\(symbols.count) symbols: a subscription names at most \(maxSymbols) (or \"*\" for all)")
            }
            for s in symbols where s != "*" {
                if let problem = Tick.symbolProblem(s) {
                    throw SubscriptionError(message: "symbol \(s.prefix(64).debugDescription) \(problem)")
                }
            }
        }
        var minConfidence: Double?
        if let v = m["min_confidence"] {
            guard let n = v.number, (0...1).contains(n) else { throw SubscriptionError(message: "min_confidence must be a number from 0 to 1") }
            minConfidence = n
        }
        var since: UInt64?
        if let v = m["since_seq"] {
            guard case .int(let n) = v, n >= 0 else { throw SubscriptionError(message: "since_seq must be a non-negative integer") }
            since = UInt64(n)
        }
        return (channels, symbols, minConfidence, since)
    }

    static func tick(_ value: JSONValue) -> Result<Tick, TickFieldError> {
        guard case .object(let o) = value else { return .failure(TickFieldError(field: "tick", message: "must be an object")) }
        guard case .string(let symbol)? = o["symbol"] else { return .failure(TickFieldError(field: "symbol", message: "is missing or not a string")) }
        let ts: Int64
        switch o["ts"] {
        case .int(let v)?: ts = Int64(v)
        case .string(let s)?:
            switch Timestamp.parseISO8601(s) {
            case .success(let v): ts = v
            case .failure(let e): return .failure(e)
            }
        default: return .failure(TickFieldError(field: "ts", message: "must be integer milliseconds or an ISO-8601 string"))
        }
        guard let price = o["price"]?.number else { return .failure(TickFieldError(field: "price", message: "is missing or not a number")) }
        guard let volume = o["volume"]?.number else { return .failure(TickFieldError(field: "volume", message: "is missing or not a number")) }
        let tick = Tick(symbol: symbol, ts: ts, price: price, volume: volume, bid: o["bid"]?.number, ask: o["ask"]?.number)
        if let problem = tick.validate() { return .failure(problem) }
        return .success(tick)
    }
}

/// Carries a session across threads to its own loop (weak: it may have closed meanwhile).
private final class SessionBox: @unchecked Sendable {
    weak var session: WebSocketSession?
    init(_ session: WebSocketSession) { self.session = session }
}
