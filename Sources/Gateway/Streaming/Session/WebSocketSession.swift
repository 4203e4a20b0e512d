import Contracts
import Reactor
import WebSocket

/// One WebSocket client after the upgrade: reads its frames, answers pings and closes, sends
/// heartbeats, and times out idle clients and unfinished messages. What it does with a message
/// is split by idea: the command protocol (`+Commands`), streaming with the per-client outbound
/// cap (`+Sending`), and resuming from the store or the journal (`+Replay`). It talks to its
/// connection through `StreamTransport`, so a test drives it without a socket.
final class WebSocketSession {
    let broadcaster: Broadcaster
    private var reader: WSFrameReader
    let compresses: Bool
    var subscription: Subscription {
        didSet { if subscription.channels != oldValue.channels { countChannels(subscription.channels) } }
    }
    /// The channels this session is counted under in `StreamingStats.subscribers`.
    private var countedChannels: Set<Channel> = []
    private var initialSince: UInt64?
    private var initialCursor: ResumeCursor?
    /// Sequenced events up to here were sent or deliberately skipped (replay bookkeeping).
    var coveredSeq: UInt64 = 0
    /// The same per other gateway (multi-instance): the highest seq of each origin sent or
    /// passed over, so history replays and live remote events never repeat one.
    var marks: [String: UInt64] = [:]
    /// A live remote event was passed over while the journal was read: once the local replay
    /// is done, the history brings it (and whatever else followed the marks).
    var remoteBehind = false
    /// Resumed with a cursor before the remote history was backfilled: replayed again once it is.
    var awaitingBackfill = false
    /// The cursor's origins not yet checked for a `history_gap`.
    var gapOrigins: Set<String> = []
    private var lastReceivedMs: Int64 = 0
    /// When the next heartbeat is due, and since when a message has been arriving unfinished
    /// (nil: none): one connection deadline serves both.
    private var nextPingMs: Int64 = 0
    private var partialSinceMs: Int64?
    private(set) weak var transport: StreamTransport?
    var closing = false
    /// The close code sent or received first (metrics); `closeCounted` once it was counted.
    private var closeCode: Int?
    private var closeCounted = false
    /// How long a closing client has to read its last frames before it is dropped.
    static let closeFlushMs: Int64 = 5_000
    /// A sequenced event did not fit under the outbound cap: close after this batch.
    var overflowed = false
    /// A resume is reading the journal on another thread: live events wait (the store replay
    /// that follows the journal part covers them).
    var readingJournal = false
    /// The X-API-Key of the upgrade request, for tick ingest when `api.ingest_key` is set.
    let ingestKey: String?
    var settings: StreamingSettings { broadcaster.settings }

    init(broadcaster: Broadcaster, deflate: PerMessageDeflate?, subscription: Subscription, sinceSeq: UInt64?,
         cursor: ResumeCursor? = nil, ingestKey: String? = nil) {
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
        initialCursor = cursor
    }

    /// Moves this session's entries in the subscribers-per-channel gauge to `channels`.
    private func countChannels(_ channels: Set<Channel>) {
        let stats = settings.stats
        for gone in countedChannels.subtracting(channels) { stats.subscribers.add(gone.rawValue, -1) }
        for new in channels.subtracting(countedChannels) { stats.subscribers.add(new.rawValue, 1) }
        broadcaster.subscriptionsChanged(from: countedChannels, to: channels)
        countedChannels = channels
    }

    // MARK: - Transport events

    /// The upgrade's 101 is out: greet, acknowledge the URL's subscription, replay if asked.
    func open(_ transport: StreamTransport) {
        self.transport = transport
        // The session's own cap (1013 for sequenced channels) must trip before the reactor's
        // generic write-queue cap, which would drop the client without a close frame.
        transport.setWriteQueueLimit(2 * settings.outboundCapBytes + settings.maxMessageBytes + 65_536)
        lastReceivedMs = transport.now
        broadcaster.add(self)
        countChannels(subscription.channels)
        coveredSeq = broadcaster.store.lastSeq
        if let remote = settings.remote { marks = remote.positions() }
        sendJSON { w in
            w.string("type", "hello")
            w.string("server", "dongfeng/\(DongfengVersion.current)")
            w.uint64("seq", coveredSeq)
            if let instance = settings.instance {
                w.string("instance", instance)
                w.string("cursor", cursor.text)
            }
        }
        if !subscription.channels.isEmpty { acknowledge(subscription) }
        if let cursor = initialCursor {
            resume(cursor)
        } else if let since = initialSince {
            replay(after: since)
        }
        nextPingMs = transport.now + settings.pingIntervalMs
        armDeadline(transport)
    }

    /// The earlier of the next heartbeat and the unfinished message's time limit.
    private func armDeadline(_ transport: StreamTransport) {
        var at = nextPingMs
        if let since = partialSinceMs { at = min(at, since + settings.messageTimeoutMs) }
        transport.setDeadline(afterMs: max(1, at - transport.now))
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        guard !closing, let transport else { return }
        lastReceivedMs = transport.now
        reader.append(bytes)
        while !closing {
            switch reader.next() {
            case .needMore:
                // A client that sends (pings, commands) without reading our answers is read no
                // further until it does: TCP backpressure, as for pipelined HTTP, so its replies
                // stay within the outbound cap instead of growing to the write-queue limit.
                if transport.queuedBytes > settings.outboundCapBytes { transport.pauseReading() }
                // A message must arrive whole within the message timeout of its first byte:
                // a client trickling one (or never sending its last fragment, pinging to look
                // alive) would otherwise hold up to max_message_bytes for as long as it likes.
                if reader.isIdle {
                    if partialSinceMs != nil {
                        partialSinceMs = nil
                        armDeadline(transport)
                    }
                } else if partialSinceMs == nil {
                    partialSinceMs = transport.now
                    armDeadline(transport)
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
                transport.closeAfterFlush()
                transport.setDeadline(afterMs: Self.closeFlushMs)
            case .failure(let error): close(error.code, error.reason)
            }
        }
    }

    func deadlineExpired() {
        guard let transport else { return }
        // A client we are closing that does not read its last frames is dropped.
        if closing {
            transport.close()
            return
        }
        let now = transport.now
        if let since = partialSinceMs, now - since >= settings.messageTimeoutMs {
            close(.policyViolation, "message not received whole within \(settings.messageTimeoutMs / 1000) s")
            return
        }
        if now < nextPingMs {
            armDeadline(transport)
            return
        }
        if now - lastReceivedMs > settings.idleTimeoutMs {
            close(.goingAway, "idle for \(settings.idleTimeoutMs / 1000) s")
            return
        }
        sendJSON { w in
            w.string("type", "heartbeat")
            w.int64("ts", WallClock.milliseconds())
            w.uint64("seq", broadcaster.store.lastSeq)
            if settings.instance != nil { w.string("cursor", cursor.text) }
        }
        write(WSFrameWriter.frame(.ping, []))
        nextPingMs = now + settings.pingIntervalMs
        armDeadline(transport)
    }

    func closed() {
        closing = true
        if !closeCounted {
            closeCounted = true
            settings.stats.closes.add(closeCode ?? 1006)
        }
        countChannels([])
        broadcaster.remove(self)
    }

    /// Sends a close frame, then closes once it is written (or drops a client that does not
    /// read it within `closeFlushMs`).
    func close(_ code: WSCloseCode, _ reason: String) {
        guard !closing, let transport else { return }
        closing = true
        closeCode = Int(code.rawValue)
        write(WSFrameWriter.close(code, reason: reason))
        transport.closeAfterFlush()
        transport.setDeadline(afterMs: Self.closeFlushMs)
    }
}

extension WebSocketSession: ConnectionHandler {
    func connectionDidOpen(_ connection: Connection) { open(connection) }
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) { received(bytes) }
    func connectionDidDrainWrites(_ connection: Connection) { connection.resumeReading() }
    func connectionDeadlineExpired(_ connection: Connection) { deadlineExpired() }
    func connectionShouldDrain(_ connection: Connection) { close(.goingAway, "server shutting down") }
    func connectionDidClose(_ connection: Connection, reason: CloseReason) { closed() }
}
