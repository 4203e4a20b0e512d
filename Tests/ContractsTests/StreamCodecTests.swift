import Contracts
import XCTest

/// The event envelope round trip, the client command protocol and the one set of tick rules
/// shared by JSON, CSV and text fields.
final class StreamCodecTests: XCTestCase {
    private let signal = StrategySignal(seq: 7, ts: 1_700_000_000_000, symbol: "BTC-USD", strategy: "rsi_reversal",
                                        direction: .short, strength: 0.625, price: 43_210.5, reason: "rsi \"90\" ↑")
    private let opportunity = Opportunity(seq: 9, id: "opp-1", symbol: "AAPL", direction: .long, status: .updated,
                                          confidence: 0.8, price: 190.25, strategies: ["a", "b"], signalCount: 3,
                                          createdTs: 1, updatedTs: 2, expiresTs: 3, riskStatus: .warn, riskAlerts: ["price_jump"])
    private let alert = RiskAlert(seq: 11, ts: 5, symbol: nil, kind: "signal_rate", severity: .critical, message: "m",
                                  value: .nan, threshold: 100)

    private func encoded(_ event: PipelineEvent, instance: String? = nil) -> [UInt8] {
        var w = JSONWriter()
        event.envelope(&w, instance: instance)
        return w.bytes
    }

    func testEveryJournaledEventRoundTrips() throws {
        for event in [PipelineEvent.signal(signal), .opportunity(opportunity),
                      .tick(Tick(symbol: "X", ts: 3, price: 1.5, volume: 0, bid: 1.4, ask: nil))] {
            let decoded = try XCTUnwrap(EventDecoder.decode(encoded(event)))
            XCTAssertEqual(encoded(decoded.event), encoded(event), "re-encoding gives the same bytes")
            XCTAssertNil(decoded.instance)
        }
        // A non-finite value is written as null and reads back as NaN.
        guard case .alert(let back)? = EventDecoder.decode(encoded(.alert(alert)))?.event else { return XCTFail("alert") }
        XCTAssertTrue(back.value.isNaN)
        XCTAssertNil(back.symbol)
        XCTAssertEqual(back.threshold, 100)
        XCTAssertEqual(back.severity, .critical)
    }

    func testEnvelopeKeysInAnyOrderWithInstance() throws {
        let text = #"{"payload":{"risk":{"alerts":[],"status":"ok"},"seq":4,"id":"i","symbol":"S","direction":"long","status":"new","confidence":1,"price":2,"strategies":["x"],"signal_count":1,"created_ts":1,"updated_ts":1,"expires_ts":9,"extra":{"a":[1,2]}},"instance":"gw-2","seq":4,"type":"opportunity"}"#
        let decoded = try XCTUnwrap(EventDecoder.decode(Array(text.utf8)))
        XCTAssertEqual(decoded.instance, "gw-2")
        guard case .opportunity(let o) = decoded.event else { return XCTFail("not an opportunity") }
        XCTAssertEqual(o.seq, 4)
        XCTAssertEqual(o.confidence, 1)
        XCTAssertEqual(o.strategies, ["x"])
        XCTAssertEqual(encoded(.opportunity(opportunity), instance: "gw-1").prefix(45),
                       Array(#"{"type":"opportunity","seq":9,"instance":"gw-1""#.utf8).prefix(45))
    }

    func testBrokenEnvelopesAreRefused() {
        for text in ["", "[]", #"{"type":"signal"}"#, #"{"type":"gossip","payload":{}}"#,
                     #"{"type":"signal","payload":{"seq":0,"ts":1,"symbol":"A","strategy":"s","direction":"long","strength":1,"price":1}}"#,
                     #"{"type":"signal","payload":{"seq":1,"ts":1,"symbol":"A","strategy":"s","direction":"up","strength":1,"price":1}}"#,
                     #"{"type":"signal","payload":{"seq":1,"ts":1.5,"symbol":"A","strategy":"s","direction":"long","strength":1,"price":1}}"#,
                     #"{"type":"signal","payload":{"seq":1,"ts":1,"symbol":"A","strategy":"s","direction":"long","strength":1,"price":1}} x"#,
                     #"{"type":"signal","payload":{"seq":1,"ts":1,"symbol":"A","strat"#] {
            XCTAssertNil(EventDecoder.decode(Array(text.utf8)), text)
        }
    }

    private func command(_ text: String, maxSymbols: Int = 3) -> Result<StreamCommand, StreamCommand.Failure> {
        StreamCommand.decode(Array(text.utf8), maxSymbols: maxSymbols)
    }

    func testSubscribeInAnyKeyOrder() throws {
        let r = try command(#"{"since_seq":5,"symbols":"AAPL,*","channels":["signals","risk_alerts"],"min_confidence":0.5,"op":"subscribe"}"#).get()
        XCTAssertEqual(r, .subscribe(try SubscriptionRequest(query: "signals,risk_alerts", symbols: "AAPL,*", minConfidence: "0.5",
                                                         sinceSeq: "5", maxSymbols: 3)))
        guard case .subscribe(let s) = r else { return XCTFail() }
        XCTAssertEqual(s.channels, [.signals, .riskAlerts])
        XCTAssertEqual(s.sinceSeq, 5)
        XCTAssertEqual(try command(#"{"op":"unsubscribe"}"#).get(), .unsubscribe([]))
        XCTAssertEqual(try command(#" {"op":"ping","extra":[{"deep":null}]} "#).get(), .ping)
    }

    func testBadCommandsNameTheProblem() {
        func failure(_ text: String) -> StreamCommand.Failure? {
            if case .failure(let f) = command(text) { return f }
            return nil
        }
        XCTAssertEqual(failure("nope")?.code, "invalid_message")
        XCTAssertEqual(failure(#"{"op":"ping"} {}"#)?.code, "invalid_message")
        XCTAssertEqual(failure(#"{"channels":[]}"#)?.message, "missing \"op\"")
        XCTAssertEqual(failure(#"{"op":"dance"}"#)?.code, "unknown_op")
        XCTAssertEqual(failure(#"{"op":"subscribe","channels":["gossip"]}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"unsubscribe","channels":["gossip"]}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"subscribe","channels":5}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"subscribe","symbols":["A","B","C","D"]}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"subscribe","symbols":["bad symbol"]}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"subscribe","min_confidence":1.5}"#)?.message, "min_confidence must be a number from 0 to 1")
        XCTAssertEqual(failure(#"{"op":"subscribe","min_confidence":"0.5"}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"subscribe","since_seq":-1}"#)?.message, "since_seq must be a non-negative integer")
        XCTAssertEqual(failure(#"{"op":"subscribe","since_seq":2.5}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"ticks","ticks":{}}"#)?.message, "\"ticks\" must be an array of tick objects")
    }

    func testTicksOpUsesTheRESTRules() throws {
        let text = #"{"ticks":[{"symbol":"A","ts":"2024-01-02T03:04:05Z","price":1,"volume":2},7,{"symbol":"A","ts":1,"price":-1,"volume":1},{"symbol":"A","ts":1,"price":1,"volume":1,"price":2}],"api_key":"k","op":"ticks"}"#
        guard case .ticks(let batch, let key) = try command(text).get() else { return XCTFail() }
        XCTAssertEqual(key, "k")
        XCTAssertEqual(batch.ticks, [Tick(symbol: "A", ts: 1_704_164_645_000, price: 1, volume: 2)])
        let rest = TickDecoder.decode(Array(#"[{"symbol":"A","ts":"2024-01-02T03:04:05Z","price":1,"volume":2},7,{"symbol":"A","ts":1,"price":-1,"volume":1},{"symbol":"A","ts":1,"price":1,"volume":1,"price":2}]"#.utf8), format: .json)
        XCTAssertEqual(batch.rejected, rest.rejected, "the same index, field and message as REST")
        XCTAssertEqual(batch.rejected.map(\.field), [nil, "price", "price"])
    }

    func testTextFieldsFollowTheSameRules() {
        // A Redis entry's flat fields and a CSV row go through the same checks as JSON.
        XCTAssertEqual(try TickFields.tick(text: [("symbol", "A"), ("ts", "1000"), ("price", " 2.5 "), ("volume", "0"), ("bid", ""), ("x", "y")]).get(),
                       Tick(symbol: "A", ts: 1000, price: 2.5, volume: 0))
        XCTAssertEqual(try TickFields.tick(text: [("symbol", "A"), ("ts", "2024-01-02T03:04:05+01:00"), ("price", "1"), ("volume", "1")]).get().ts,
                       1_704_161_045_000)
        func problem(_ pairs: [(String, String)]) -> TickFieldError? {
            if case .failure(let e) = TickFields.tick(text: pairs) { return e }
            return nil
        }
        XCTAssertEqual(problem([("symbol", "A"), ("ts", "1"), ("price", "1")]), TickFieldError(field: "volume", message: "is missing"))
        XCTAssertEqual(problem([("symbol", "A"), ("ts", "1"), ("price", "x"), ("volume", "1")])?.field, "price")
        XCTAssertEqual(problem([("symbol", "A"), ("ts", "1"), ("price", "2"), ("volume", "1"), ("bid", "3"), ("ask", "2.5")])?.field, "bid")
        XCTAssertEqual(problem([("symbol", "A"), ("ts", "2024-01-02T03:04:05"), ("price", "2"), ("volume", "1")])?.field, "ts")
        XCTAssertEqual(problem([("symbol", "A"), ("symbol", "B"), ("ts", "1"), ("price", "2"), ("volume", "1")])?.message, "appears twice")
        let json = Array(#"{"symbol":"A","ts":1,"price":2,"volume":1,"bid":3,"ask":2.5}"#.utf8)
        XCTAssertEqual(json.withUnsafeBytes { TickDecoder.decodeObject($0) },
                       .failure(problem([("symbol", "A"), ("ts", "1"), ("price", "2"), ("volume", "1"), ("bid", "3"), ("ask", "2.5")])!))
        XCTAssertEqual(Array("[1]".utf8).withUnsafeBytes { TickDecoder.decodeObject($0) },
                       .failure(TickFieldError(field: "record", message: "must be a JSON object")))
    }

    func testChannelNamesAndEventTypes() {
        XCTAssertEqual(Channel.names, "bars, features, opportunities, risk_alerts, signals, ticks")
        for channel in Channel.allCases { XCTAssertEqual(Channel(eventType: channel.eventType), channel) }
        XCTAssertEqual(PipelineEvent.alert(alert).channel, .riskAlerts)
        XCTAssertEqual(Channel.allCases.filter(\.isSequenced), [.opportunities, .signals, .riskAlerts])
    }

    /// A cursor names the last seq seen per gateway; a name may hold colons (split at the last),
    /// and every malformed form is refused with a message naming what is wrong.
    func testResumeCursorParsesAndRefuses() throws {
        let cursor = try ResumeCursor(parsing: "gw-b:977,host:8443-1:5,gw-a:1042")
        XCTAssertEqual(cursor.positions, ["gw-a": 1042, "gw-b": 977, "host:8443-1": 5])
        XCTAssertEqual(cursor.text, "gw-a:1042,gw-b:977,host:8443-1:5")
        XCTAssertEqual(try ResumeCursor(parsing: cursor.text), cursor, "the text form round-trips")
        XCTAssertEqual(try ResumeCursor(parsing: "a:0").positions, ["a": 0])
        func problem(_ text: String) -> String? {
            do { _ = try ResumeCursor(parsing: text); return nil } catch { return error.message }
        }
        XCTAssertEqual(problem(""), "cursor: empty; give instance:seq pairs separated by commas")
        XCTAssertEqual(problem("a"), "cursor: \"a\" is not instance:seq")
        XCTAssertEqual(problem("a:1,"), "cursor: \"\" is not instance:seq")
        XCTAssertEqual(problem("a:-1"), "cursor: the seq of \"a\" is not a non-negative integer")
        XCTAssertEqual(problem("a:1x"), "cursor: the seq of \"a\" is not a non-negative integer")
        XCTAssertEqual(problem(":5"), "cursor: instance \"\" is empty")
        XCTAssertEqual(problem("a b:5"), "cursor: instance \"a b\" holds a comma, a space or a control character")
        XCTAssertEqual(problem("a:1,a:2"), "cursor: instance \"a\" is named twice")
        XCTAssertNotNil(problem((0...ResumeCursor.maxOrigins).map { "g\($0):1" }.joined(separator: ",")))
        XCTAssertNotNil(problem(String(repeating: "x", count: 129) + ":1"))

        // In a subscribe message and in the query, exclusive with since_seq.
        guard case .subscribe(let s) = try command(#"{"op":"subscribe","cursor":"a:3,b:4"}"#).get() else { return XCTFail() }
        XCTAssertEqual(s.cursor?.positions, ["a": 3, "b": 4])
        XCTAssertNil(s.sinceSeq)
        XCTAssertEqual(try SubscriptionRequest(query: nil, symbols: nil, minConfidence: nil, sinceSeq: nil, cursor: "a:3,b:4", maxSymbols: 3), s)
        func failure(_ text: String) -> StreamCommand.Failure? {
            if case .failure(let f) = command(text) { return f }
            return nil
        }
        XCTAssertEqual(failure(#"{"op":"subscribe","cursor":"a:1","since_seq":1}"#)?.message,
                       "give since_seq (one gateway) or cursor (every origin), not both")
        XCTAssertEqual(failure(#"{"op":"subscribe","cursor":7}"#)?.code, "invalid_subscription")
        XCTAssertEqual(failure(#"{"op":"subscribe","cursor":"a:x"}"#)?.code, "invalid_subscription")
    }
}
