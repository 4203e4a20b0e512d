import Contracts
@testable import Gateway
import Pipeline
import Reactor
import XCTest

/// A `WebSocketSession` driven without a socket: a recording transport stands in for the
/// connection, the loop is never run, and every byte the session sends is decoded here.
final class WebSocketSessionTests: XCTestCase {
    /// Records what the session does to its connection.
    final class RecordingTransport: StreamTransport {
        var now: Int64 = 1_000
        var isOpen = true
        var queuedBytes = 0
        var sent: [UInt8] = []
        var deadlineMs: Int64?
        var paused = false
        var closingAfterFlush = false
        var closedNow = false
        var tasks: [@Sendable () -> Void] = []
        var writeQueueLimit = 0

        func send(_ bytes: [UInt8]) { sent += bytes }
        func setWriteQueueLimit(_ bytes: Int) { writeQueueLimit = bytes }
        func setDeadline(afterMs: Int64) { deadlineMs = now + afterMs }
        func pauseReading() { paused = true }
        func resumeReading() { paused = false }
        func closeAfterFlush() { closingAfterFlush = true }
        func close() { closedNow = true; isOpen = false }
        func execute(_ task: @escaping @Sendable () -> Void) { tasks.append(task) }

        /// The server frames sent since the last call: (opcode, payload).
        func frames() -> [(opcode: UInt8, payload: [UInt8])] {
            var out: [(UInt8, [UInt8])] = []
            var i = 0
            while i + 2 <= sent.count {
                let opcode = sent[i] & 0x0F
                var length = Int(sent[i + 1] & 0x7F)
                var at = i + 2
                if length == 126 { length = Int(sent[at]) << 8 | Int(sent[at + 1]); at += 2 }
                else if length == 127 { length = (0..<8).reduce(0) { $0 << 8 | Int(sent[at + $1]) }; at += 8 }
                out.append((opcode, Array(sent[at..<(at + length)])))
                i = at + length
            }
            sent.removeAll()
            return out
        }

        /// The JSON text messages sent since the last call.
        func messages() throws -> [[String: Any]] {
            try frames().filter { $0.opcode == 1 }.map {
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any])
            }
        }
    }

    private var group: EventLoopGroup!
    private var store: EventStore!
    private var input: TickInput!
    private var broadcaster: Broadcaster!

    override func setUpWithError() throws {
        group = try EventLoopGroup(loopCount: 1, maxConnections: 16)
        store = EventStore(capacity: 100)
        let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, store: store)
        input = worker.makeInput(name: "ws", capacity: 8, policy: .reject)
        var settings = StreamingSettings()
        settings.outboundCapBytes = 4_096
        settings.maxSymbols = 3
        broadcaster = Broadcaster(loop: group.loops[0], output: worker.addOutput { }, store: store, ingest: input, settings: settings)
    }

    private func session(_ subscription: Subscription = Subscription(), since: UInt64? = nil) -> (WebSocketSession, RecordingTransport) {
        let s = WebSocketSession(broadcaster: broadcaster, deflate: nil, subscription: subscription, sinceSeq: since)
        let t = RecordingTransport()
        s.open(t)
        return (s, t)
    }

    /// A client frame: masked, final, with a zero-free mask so the bytes differ on the wire.
    private func clientFrame(_ opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var f: [UInt8] = [0x80 | opcode]
        if payload.count < 126 { f.append(0x80 | UInt8(payload.count)) }
        else { f += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] }
        f += mask
        f += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return f
    }

    private func send(_ s: WebSocketSession, _ text: String) {
        clientFrame(1, Array(text.utf8)).withUnsafeBytes { s.received($0) }
    }

    private func signal(_ seq: UInt64, _ symbol: String) -> StrategySignal {
        StrategySignal(seq: seq, ts: Int64(seq), symbol: symbol, strategy: "s", direction: .long, strength: 0.5, price: 1, reason: "r")
    }

    func testHelloCommandsAndErrors() throws {
        store.record(.signal(signal(1, "A")))
        let (s, t) = session()
        let hello = try t.messages()
        XCTAssertEqual(hello.first?["type"] as? String, "hello")
        XCTAssertEqual(hello.first?["seq"] as? Int, 1)
        XCTAssertEqual(broadcaster.sessions.count, 1)
        XCTAssertGreaterThan(t.writeQueueLimit, broadcaster.settings.outboundCapBytes, "the session's cap trips first")

        send(s, #"{"channels":"signals,bars","op":"subscribe","symbols":["A"]}"#)
        let ack = try XCTUnwrap(t.messages().first)
        XCTAssertEqual(ack["type"] as? String, "subscribed")
        XCTAssertEqual(ack["channels"] as? [String], ["bars", "signals"])
        XCTAssertEqual(s.subscription.channels, [.signals, .bars])

        send(s, #"{"op":"ping"}"#)
        XCTAssertEqual(try t.messages().first?["type"] as? String, "pong")
        send(s, #"{"op":"subscribe","channels":["gossip"]}"#)
        XCTAssertEqual(try t.messages().first?["code"] as? String, "invalid_subscription")
        XCTAssertEqual(s.subscription.channels, [.signals, .bars], "a refused subscribe changes nothing")
        send(s, "not json")
        XCTAssertEqual(try t.messages().first?["code"] as? String, "invalid_message")
        send(s, #"{"op":"unsubscribe","channels":["bars"]}"#)
        XCTAssertEqual(try t.messages().first?["channels"] as? [String], ["signals"])

        // A ping frame is answered with a pong carrying its payload.
        clientFrame(9, [1, 2, 3]).withUnsafeBytes { s.received($0) }
        let pong = t.frames()
        XCTAssertEqual(pong.first?.opcode, 10)
        XCTAssertEqual(pong.first?.payload, [1, 2, 3])

        // A binary message closes with 1003 once the close frame is written.
        clientFrame(2, [0]).withUnsafeBytes { s.received($0) }
        let close = try XCTUnwrap(t.frames().first)
        XCTAssertEqual(close.opcode, 8)
        XCTAssertEqual(Int(close.payload[0]) << 8 | Int(close.payload[1]), 1003)
        XCTAssertTrue(t.closingAfterFlush)
        s.closed()
        XCTAssertEqual(broadcaster.sessions.count, 0)
    }

    func testTicksAreQueuedAndRejectionsNamed() throws {
        let (s, t) = session()
        _ = t.frames()
        send(s, #"{"op":"ticks","ticks":[{"symbol":"A","ts":1,"price":2,"volume":1},{"symbol":"A","ts":1,"price":0,"volume":1}]}"#)
        let ack = try XCTUnwrap(t.messages().first)
        XCTAssertEqual(ack["type"] as? String, "ack")
        XCTAssertEqual(ack["accepted"] as? Int, 1)
        let rejected = try XCTUnwrap(ack["rejected"] as? [[String: Any]])
        XCTAssertEqual(rejected.first?["index"] as? Int, 1)
        XCTAssertEqual(rejected.first?["field"] as? String, "price")
        XCTAssertEqual(input.freeCapacity, 7, "the valid tick is in the ring")
        // More ticks than the ring holds: refused as a whole, nothing half-accepted.
        let many = (0..<9).map { #"{"symbol":"A","ts":\#($0 + 2),"price":2,"volume":1}"# }.joined(separator: ",")
        send(s, #"{"op":"ticks","ticks":[\#(many)]}"#)
        XCTAssertEqual(try t.messages().first?["code"] as? String, "pipeline_busy")
        XCTAssertEqual(input.freeCapacity, 7)
    }

    func testResumeFromTheStoreInSeqOrderThenLiveWithoutRepeats() throws {
        for seq: UInt64 in 1...4 { store.record(.signal(signal(seq, seq % 2 == 0 ? "A" : "B"))) }
        store.record(.alert(RiskAlert(seq: 5, ts: 5, symbol: nil, kind: "signal_rate", severity: .warning, message: "m",
                                      value: 1, threshold: 1)))
        var sub = Subscription()
        sub.channels = [.signals, .riskAlerts]
        sub.symbols = ["A"]
        let (s, t) = session(sub, since: 1)
        let messages = try t.messages()
        XCTAssertEqual(messages.map { $0["type"] as? String }, ["hello", "subscribed", "signal", "signal", "risk_alert"])
        XCTAssertEqual(messages.compactMap { $0["seq"] as? Int }.dropFirst(), [2, 4, 5], "A's signals and the market-wide alert")
        XCTAssertFalse(s.wants(.signal(signal(4, "A"))), "already sent by the replay")
        XCTAssertTrue(s.wants(.signal(signal(6, "A"))))
        XCTAssertFalse(s.wants(.signal(signal(7, "B"))))
    }

    func testOverTheCapLossyIsSkippedAndSequencedCloses1013() throws {
        var sub = Subscription()
        sub.channels = [.signals, .bars]
        let (s, t) = session(sub)
        _ = t.frames()
        t.queuedBytes = 4_000
        let bar = PipelineEvent.bar(Bar(symbol: "A", interval: "1s", start: 0, open: 1, high: 1, low: 1, close: 1, volume: 1, vwap: 1, trades: 1))
        XCTAssertFalse(s.admit(bar, frameBytes: 200, corked: 0))
        XCTAssertEqual(broadcaster.settings.stats.droppedLossy.load(ordering: .relaxed), 1)
        XCTAssertTrue(s.admit(.signal(signal(1, "A")), frameBytes: 50, corked: 0))
        XCTAssertFalse(s.admit(.signal(signal(2, "A")), frameBytes: 200, corked: 50))
        s.flush([0x81, 0])  // the admitted frame goes out first
        let frames = t.frames()
        XCTAssertEqual(frames.map(\.opcode), [1, 8])
        let reason = String(decoding: frames[1].payload.dropFirst(2), as: UTF8.self)
        XCTAssertEqual(Int(frames[1].payload[0]) << 8 | Int(frames[1].payload[1]), 1013)
        XCTAssertEqual(reason, "too slow: reconnect with since_seq=1")
    }

    private func opportunity(_ seq: UInt64, _ symbol: String) -> Opportunity {
        Opportunity(seq: seq, id: "\(symbol)-long-\(seq)", symbol: symbol, direction: .long, status: .new, confidence: 0.6, price: 10,
                    strategies: ["s"], signalCount: 1, createdTs: Int64(seq), updatedTs: Int64(seq), expiresTs: Int64(seq) + 60_000,
                    riskStatus: .ok, riskAlerts: [], untradable: nil)
    }

    /// Gateway "A" of several: its own opportunities in the store, gateway "B"'s in the remote
    /// history as the peers reader appends them (envelopes naming B).
    private func multiInstance(remoteCapacity: Int = 100, backfilled: Bool = true) -> (Broadcaster, RemoteHistory) {
        var settings = broadcaster.settings
        settings.instance = "A"
        let history = RemoteHistory(capacity: remoteCapacity)
        if backfilled { history.endBackfill() }
        settings.remote = history
        let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, store: store)
        return (Broadcaster(loop: group.loops[0], output: worker.addOutput { }, store: store, ingest: nil, settings: settings), history)
    }

    private func remote(_ history: RemoteHistory, _ b: Broadcaster, _ seq: UInt64, _ symbol: String = "X", live: Bool = true) {
        let event = PipelineEvent.opportunity(opportunity(seq, symbol))
        var w = JSONWriter()
        event.envelope(&w, instance: "B")
        guard history.append(origin: "B", seq: seq, event: event, json: w.bytes), live else { return }
        b.deliverRemote(event, origin: "B", seq: seq, json: w.bytes)
    }

    private func origins(_ messages: [[String: Any]]) -> [String] {
        messages.filter { $0["type"] as? String == "opportunity" }.map { "\($0["instance"] as? String ?? "?"):\($0["seq"] as? Int ?? -1)" }
    }

    /// A cursor resumes every origin: this gateway's from the store (frames re-encoded naming
    /// it), the other's from the remote history; then live remote events at or below what was
    /// sent are not sent again, and an origin the cursor does not name is replayed whole.
    func testCursorResumesEveryOriginOnceThenLive() throws {
        let (b, history) = multiInstance()
        for seq: UInt64 in 1...3 { store.record(.opportunity(opportunity(seq, "X"))) }
        for seq: UInt64 in [2, 5, 9] { remote(history, b, seq, live: false) }
        var sub = Subscription()
        sub.channels = [.opportunities]
        let s = WebSocketSession(broadcaster: b, deflate: nil, subscription: sub, sinceSeq: nil,
                                 cursor: try ResumeCursor(parsing: "A:1,B:2"))
        let t = RecordingTransport()
        s.open(t)
        let messages = try t.messages()
        XCTAssertEqual(messages.first?["instance"] as? String, "A")
        XCTAssertEqual(messages.first?["cursor"] as? String, "A:3,B:9", "hello: where a new client stands")
        XCTAssertEqual(origins(messages), ["B:5", "B:9", "A:2", "A:3"])
        XCTAssertEqual(s.cursor.text, "A:3,B:9")
        // The live copies of what the replay sent are dropped; a newer one goes out, once.
        b.deliverRemote(.opportunity(opportunity(9, "X")), origin: "B", seq: 9, json: Array("{}".utf8))
        remote(history, b, 12)
        remote(history, b, 12)
        XCTAssertEqual(origins(try t.messages()), ["B:12"])
        // A second client without B in its cursor gets all of B that is held.
        let s2 = WebSocketSession(broadcaster: b, deflate: nil, subscription: sub, sinceSeq: nil, cursor: try ResumeCursor(parsing: "A:3"))
        let t2 = RecordingTransport()
        s2.open(t2)
        XCTAssertEqual(origins(try t2.messages()), ["B:2", "B:5", "B:9", "B:12"])
        // A client with no cursor starts live at hello's cursor.
        let (s3, t3) = (WebSocketSession(broadcaster: b, deflate: nil, subscription: sub, sinceSeq: nil), RecordingTransport())
        s3.open(t3)
        XCTAssertEqual(try t3.messages().first?["cursor"] as? String, "A:3,B:12")
        remote(history, b, 13)
        XCTAssertEqual(origins(try t3.messages()), ["B:13"])
        XCTAssertEqual(origins(try t.messages()), ["B:13"])
    }

    /// A cursor older than what the history still holds of an origin is a named gap (what is
    /// held still follows); a remote event over the cap closes 1013 with the cursor, whose
    /// position for that origin is the last one actually sent.
    func testCursorGapsAndTheCapOnRemoteEvents() throws {
        let (b, history) = multiInstance(remoteCapacity: 2)
        history.beginBackfill(wholeStream: true)
        for seq: UInt64 in [1, 2, 3, 4] { remote(history, b, seq, live: false) }  // 1 and 2 are trimmed
        var sub = Subscription()
        sub.channels = [.opportunities]
        let s = WebSocketSession(broadcaster: b, deflate: nil, subscription: sub, sinceSeq: nil, cursor: try ResumeCursor(parsing: "B:1"))
        let t = RecordingTransport()
        s.open(t)
        let messages = try t.messages()
        let gap = try XCTUnwrap(messages.first { $0["code"] as? String == "history_gap" })
        XCTAssertEqual(gap["message"] as? String, "events of B after seq 1 are no longer all held here; complete after 2")
        XCTAssertEqual(origins(messages), ["B:3", "B:4"])
        // Resuming at the trimmed edge is no gap.
        let s2 = WebSocketSession(broadcaster: b, deflate: nil, subscription: sub, sinceSeq: nil, cursor: try ResumeCursor(parsing: "B:2"))
        let t2 = RecordingTransport()
        s2.open(t2)
        XCTAssertNil(try t2.messages().first { $0["type"] as? String == "error" })

        t.queuedBytes = 4_090
        remote(history, b, 7)
        let frames = t.frames()
        XCTAssertEqual(frames.map(\.opcode), [8])
        XCTAssertEqual(Int(frames[0].payload[0]) << 8 | Int(frames[0].payload[1]), 1013)
        XCTAssertEqual(String(decoding: frames[0].payload.dropFirst(2), as: UTF8.self), "too slow: reconnect with cursor=A:0,B:4")
        XCTAssertEqual(broadcaster.settings.stats.slowClosed.load(ordering: .relaxed), 1)
    }

    /// A client that resumes before the history's backfill is in (a gateway just started) is
    /// replayed what the backfill brings once it is, and only that.
    func testCursorResumeBeforeTheBackfillCatchesUpAfterIt() throws {
        let (b, history) = multiInstance(backfilled: false)
        var sub = Subscription()
        sub.channels = [.opportunities]
        let s = WebSocketSession(broadcaster: b, deflate: nil, subscription: sub, sinceSeq: nil, cursor: try ResumeCursor(parsing: "B:4"))
        let t = RecordingTransport()
        s.open(t)
        XCTAssertEqual(origins(try t.messages()), [])
        history.beginBackfill(wholeStream: true)
        for seq: UInt64 in [3, 4, 6, 8] { remote(history, b, seq, live: false) }
        history.endBackfill()
        b.remoteBackfilled()
        XCTAssertEqual(origins(try t.messages()), ["B:6", "B:8"])
        b.remoteBackfilled()
        remote(history, b, 9)
        XCTAssertEqual(origins(try t.messages()), ["B:9"], "nothing twice")
    }

    /// The history stays bounded when gateways come and go (the longest-silent origin goes),
    /// and entries lost while the reader was away (the stream trimmed past what it had read)
    /// make a cursor from before them a gap.
    func testRemoteHistoryBoundsOriginsAndMarksLostEntries() throws {
        let history = RemoteHistory(capacity: 10)
        history.beginBackfill(wholeStream: true)
        let event = PipelineEvent.opportunity(opportunity(1, "X"))
        for i in 0...RemoteHistory.maxOrigins {
            XCTAssertTrue(history.append(origin: "g\(i)", seq: 1, event: event, json: []))
        }
        XCTAssertTrue(history.append(origin: "g1", seq: 2, event: event, json: []))
        XCTAssertTrue(history.append(origin: "g\(RemoteHistory.maxOrigins + 1)", seq: 1, event: event, json: []))
        let positions = history.positions()
        XCTAssertEqual(positions.count, RemoteHistory.maxOrigins)
        XCTAssertNil(positions["g0"], "the longest silent went first")
        XCTAssertNil(positions["g2"])
        XCTAssertEqual(positions["g1"], 2, "an origin heard from lately stays")
        XCTAssertNil(history.entries(after: ["g1": 0]).first { $0.origin == "g1" }?.gapAfter)
        history.lostBeforeNewest()
        XCTAssertEqual(history.entries(after: ["g1": 1]).first { $0.origin == "g1" }?.gapAfter, 2)
        XCTAssertTrue(RedisPeers.id("1700000000001-0", isAfter: "1700000000000-5"))
        XCTAssertTrue(RedisPeers.id("1700000000000-6", isAfter: "1700000000000-5"))
        XCTAssertFalse(RedisPeers.id("1700000000000-5", isAfter: "1700000000000-5"))
        XCTAssertFalse(RedisPeers.id("0-0", isAfter: "1700000000000-5"))
    }

    /// On a single gateway a cursor is refused with the way to resume there.
    func testCursorNeedsSeveralGateways() throws {
        let (s, t) = session()
        _ = t.frames()
        send(s, #"{"op":"subscribe","channels":["opportunities"],"cursor":"A:1"}"#)
        let error = try XCTUnwrap(t.messages().first)
        XCTAssertEqual(error["code"] as? String, "invalid_subscription")
        XCTAssertEqual(error["message"] as? String, WebSocketSession.cursorNeedsInstances)
        XCTAssertEqual(s.subscription.channels, [], "a refused subscribe changes nothing")
    }

    func testHeartbeatsIdleCloseAndUnfinishedMessages() throws {
        let (s, t) = session()
        _ = t.frames()
        let interval = broadcaster.settings.pingIntervalMs
        XCTAssertEqual(t.deadlineMs, t.now + interval)
        t.now += interval
        s.deadlineExpired()
        let beat = t.frames()
        XCTAssertEqual(beat.map(\.opcode), [1, 9], "a heartbeat message and a ping")
        XCTAssertEqual(t.deadlineMs, t.now + interval)

        // Half a message starts the message timer; the deadline moves up to it.
        Array(clientFrame(1, Array(#"{"op":"ping"}"#.utf8)).prefix(5)).withUnsafeBytes { s.received($0) }
        let timeout = broadcaster.settings.messageTimeoutMs
        XCTAssertEqual(t.deadlineMs, t.now + min(interval, timeout))
        t.now += timeout
        s.deadlineExpired()
        let close = try XCTUnwrap(t.frames().last)
        XCTAssertEqual(Int(close.payload[0]) << 8 | Int(close.payload[1]), 1008)
        // A client that does not read its close frame is dropped after the flush time.
        s.deadlineExpired()
        XCTAssertTrue(t.closedNow)
    }

    func testIdleClientIsClosedWith1001() throws {
        let (s, t) = session()
        _ = t.frames()
        t.now += broadcaster.settings.idleTimeoutMs + broadcaster.settings.pingIntervalMs
        s.deadlineExpired()
        let close = try XCTUnwrap(t.frames().last)
        XCTAssertEqual(close.opcode, 8)
        XCTAssertEqual(Int(close.payload[0]) << 8 | Int(close.payload[1]), 1001)
    }

    func testPeerCloseIsEchoed() throws {
        let (s, t) = session()
        _ = t.frames()
        clientFrame(8, [0x0F, 0xA0]).withUnsafeBytes { s.received($0) }  // 4000
        let echo = try XCTUnwrap(t.frames().first)
        XCTAssertEqual(echo.opcode, 8)
        XCTAssertEqual(echo.payload, [0x0F, 0xA0])
        XCTAssertTrue(t.closingAfterFlush)
        send(s, #"{"op":"ping"}"#)
        XCTAssertTrue(t.frames().isEmpty, "nothing after the close")
    }
}
