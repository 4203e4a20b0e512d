import Foundation
import TestSupport
import XCTest

/// The REST API against a live server: ingest, queries, filters, errors, strategies.
final class RESTAPITests: XCTestCase {

    private func post(_ server: TestServer, _ path: String, _ body: String, type: String) throws -> TestResponse {
        try server.request("POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    private func json(_ r: TestResponse) throws -> [String: Any] { try XCTUnwrap(r.json, r.text) }

    /// With `api.ingest_key` set, REST and WebSocket ingest need the key; queries stay open.
    func testIngestKeyIsRequiredWhenConfigured() throws {
        let key = "ingest-key-0123456789"
        let server = try TestServer { $0.api.ingestKey = key }
        defer { server.stop() }
        let tick = #"{"symbol":"600519.SH","ts":1732500000000,"price":1688.5,"volume":100}"#
        func post(_ header: String) throws -> TestResponse {
            try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n\(header)"
                               + "Content-Length: \(tick.utf8.count)\r\n\r\n\(tick)")
        }
        let missing = try post("")
        XCTAssertEqual(missing.status, 401, missing.text)
        XCTAssertEqual(missing.errorCode, "unauthorized")
        let wrong = try post("X-API-Key: ingest-key-0123456780\r\n")
        XCTAssertEqual(wrong.status, 403, wrong.text)
        XCTAssertEqual(wrong.errorCode, "forbidden")
        XCTAssertEqual(try post("X-API-Key: \(key)\r\n").status, 202)
        XCTAssertEqual(try server.get("/api/v1/opportunities").status, 200)

        let anonymous = try TestWebSocket(port: server.port, path: "/ws")
        _ = try anonymous.nextJSON()
        try anonymous.sendText(#"{"op":"ticks","ticks":[\#(tick)]}"#)
        XCTAssertEqual(try anonymous.nextJSON()["code"] as? String, "unauthorized")
        try anonymous.sendText(#"{"op":"ticks","api_key":"\#(key)","ticks":[{"symbol":"600519.SH","ts":1732500001000,"price":1688.5,"volume":1}]}"#)
        XCTAssertEqual(try anonymous.nextJSON()["accepted"] as? Int, 1)
        let keyed = try TestWebSocket(port: server.port, path: "/ws", extraHeaders: ["X-API-Key: \(key)"])
        _ = try keyed.nextJSON()
        try keyed.sendText(#"{"op":"ticks","ticks":[{"symbol":"600519.SH","ts":1732500002000,"price":1688.5,"volume":1}]}"#)
        XCTAssertEqual(try keyed.nextJSON()["accepted"] as? Int, 1)
    }

    /// List answers are reused while nothing new is sequenced, and never once something is.
    func testListAnswersFollowNewEventsExactly() throws {
        let server = try TestServer()
        defer { server.stop() }
        func lastSeq() throws -> Int {
            try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])["last_seq"] as? Int ?? 0
        }
        /// Waits until the store has moved past `seq` and then stays put for 0.6 s (the last bars
        /// of a batch close on the wall clock after the grace period).
        func settle(after seq: Int) throws -> Int {
            var last = try lastSeq()
            var stableSince = Date()
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                usleep(100_000)
                let now = try lastSeq()
                if now != last { last = now; stableSince = Date() }
                if last > seq && Date().timeIntervalSince(stableSince) >= 0.6 { return last }
            }
            XCTFail("the store did not settle after seq \(seq)")
            return last
        }
        XCTAssertEqual(try post(server, "/api/v1/ticks", TestTicks.ndjson(count: 3000), type: "application/x-ndjson").status, 202)
        let settled = try settle(after: 0)
        let a = try server.get("/api/v1/signals?limit=5"), b = try server.get("/api/v1/signals?limit=5")
        XCTAssertEqual(a.body, b.body, "same query, same store: same answer")
        XCTAssertEqual(a.json?["next_since_seq"] as? Int, settled)
        XCTAssertEqual(try server.get("/api/v1/signals?limit=4").json.flatMap { ($0["items"] as? [Any])?.count }, 4,
                       "another query is another answer")
        XCTAssertEqual(try post(server, "/api/v1/ticks", TestTicks.ndjson(count: 3000, start: 3000), type: "application/x-ndjson").status, 202)
        let later = try settle(after: settled)
        let c = try server.get("/api/v1/signals?limit=5")
        XCTAssertNotEqual(c.body, a.body, "new events: a new answer")
        XCTAssertGreaterThanOrEqual(c.json?["next_since_seq"] as? Int ?? 0, later)
    }

    func testIngestQueryAndStrategies() throws {
        let server = try TestServer { $0.pipeline.interval = "1s" }
        defer { server.stop() }
        // Ingest in three formats, with per-tick rejections reported.
        let bad = try post(server, "/api/v1/ticks",
                           #"[{"symbol":"600519.SH","ts":1732499999000,"price":1688,"volume":1},{"symbol":"X","ts":1,"price":-1,"volume":1}]"#,
                           type: "application/json")
        XCTAssertEqual(bad.status, 202, bad.text)
        XCTAssertEqual(try json(bad)["accepted"] as? Int, 1)
        let rejected = try XCTUnwrap(try json(bad)["rejected"] as? [[String: Any]])
        XCTAssertEqual(rejected.first?["index"] as? Int, 1)
        XCTAssertEqual(rejected.first?["field"] as? String, "price")
        var sent = 1
        for batch in 0..<4 {
            let body = TestTicks.ndjson(count: 3000, start: batch * 3000)
            let r = try post(server, "/api/v1/ticks", body, type: "application/x-ndjson")
            XCTAssertEqual(r.status, 202, r.text)
            sent += try json(r)["accepted"] as? Int ?? 0
        }
        let csv = "ts,symbol,price,volume\n1732503100000,000001.SZ,10.6,100\n"
        XCTAssertEqual(try post(server, "/api/v1/ticks", csv, type: "text/csv; charset=utf-8").status, 202)
        sent += 1
        XCTAssertEqual(try post(server, "/api/v1/ticks", "<ticks/>", type: "application/xml").status, 415)
        let malformed = try post(server, "/api/v1/ticks", #"[{"symbol":"A""#, type: "application/json")
        XCTAssertEqual(malformed.status, 400)
        XCTAssertEqual(malformed.errorCode, "invalid_body")
        // Wait for the pipeline to take everything.
        for _ in 0..<200 {
            let ticks = (try server.get("/admin/health").json?["pipeline"] as? [String: Any])?["ticks"] as? Int ?? 0
            if ticks >= sent { break }
            usleep(20_000)
        }
        // Opportunities: newest, then paging from since_seq, filters, alias, by id.
        let newest = try json(try server.get("/api/v1/opportunities?limit=5"))
        let items = try XCTUnwrap(newest["items"] as? [[String: Any]])
        XCTAssertFalse(items.isEmpty, "the ingested ticks should have produced opportunities")
        XCTAssertLessThanOrEqual(items.count, 5)
        let seqs = items.compactMap { $0["seq"] as? Int }
        XCTAssertEqual(seqs, seqs.sorted())
        XCTAssertGreaterThanOrEqual(newest["next_since_seq"] as? Int ?? 0, seqs.last ?? 0)
        let page = try json(try server.get("/api/v1/opportunities?since_seq=0&limit=3"))
        let pageItems = try XCTUnwrap(page["items"] as? [[String: Any]])
        XCTAssertEqual(page["next_since_seq"] as? Int, pageItems.last?["seq"] as? Int)
        let next = try json(try server.get("/api/v1/opportunities?since_seq=\(page["next_since_seq"] as? Int ?? 0)&limit=3"))
        XCTAssertTrue((next["items"] as? [[String: Any]] ?? []).allSatisfy { ($0["seq"] as? Int ?? 0) > (page["next_since_seq"] as? Int ?? 0) })
        let longs = try json(try server.get("/opportunities?direction=long&limit=50"))["items"] as? [[String: Any]] ?? []
        XCTAssertTrue(longs.allSatisfy { $0["direction"] as? String == "long" })
        let confident = try json(try server.get("/api/v1/opportunities?min_confidence=0.99&limit=1000"))["items"] as? [[String: Any]] ?? []
        XCTAssertTrue(confident.allSatisfy { ($0["confidence"] as? Double ?? 0) >= 0.99 })
        let id = try XCTUnwrap(items.last?["id"] as? String)
        XCTAssertEqual(try json(try server.get("/api/v1/opportunities/\(id)"))["id"] as? String, id)
        XCTAssertEqual(try server.get("/api/v1/opportunities/nope").status, 404)
        for (query, parameter) in [("min_confidence=2", "min_confidence"), ("limit=0", "limit"), ("limit=1001", "limit"),
                                   ("since_seq=-1", "since_seq"), ("direction=up", "direction"), ("status=open", "status"),
                                   ("symbol=%zz", "symbol")] {
            let r = try server.get("/api/v1/opportunities?\(query)")
            XCTAssertEqual(r.status, 400, query)
            XCTAssertEqual(r.errorCode, "invalid_parameter", query)
            XCTAssertTrue((r.json?["error"] as? [String: Any])?["message"].map { "\($0)".hasPrefix(parameter) } ?? false, r.text)
        }
        // Signals, alerts, symbols, bars, features.
        let signals = try json(try server.get("/api/v1/signals?limit=1000"))["items"] as? [[String: Any]] ?? []
        XCTAssertFalse(signals.isEmpty)
        let strategy = try XCTUnwrap(signals.first?["strategy"] as? String)
        let only = try json(try server.get("/api/v1/signals?strategy=\(strategy)&limit=1000"))["items"] as? [[String: Any]] ?? []
        XCTAssertTrue(only.allSatisfy { $0["strategy"] as? String == strategy })
        XCTAssertEqual(try server.get("/api/v1/alerts?severity=loud").status, 400)
        XCTAssertEqual(try server.get("/api/v1/alerts").status, 200)
        let symbols = try json(try server.get("/api/v1/symbols"))["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(symbols.compactMap { $0["symbol"] as? String }, ["000001.SZ", "600519.SH"])
        XCTAssertNotNil(symbols.first?["last_bar"] as? [String: Any])
        let bars = try json(try server.get("/api/v1/symbols/600519.SH/bars?limit=3"))["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(bars.count, 3)
        let features = try json(try server.get("/api/v1/symbols/600519.SH/features?limit=2"))["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(features.count, 2)
        XCTAssertNotNil(features.last?["rsi_14"] as? Double)
        XCTAssertEqual(try server.get("/api/v1/symbols/NOPE/bars").status, 404)
        // Strategies: list, change (admin: loopback without a token), errors, reload.
        let strategies = try json(try server.get("/api/v1/strategies"))["items"] as? [[String: Any]] ?? []
        XCTAssertTrue(strategies.contains { $0["name"] as? String == "rsi_reversal" })
        XCTAssertEqual(try server.get("/api/v1/strategies/macd_cross").json?["name"] as? String, "macd_cross")
        XCTAssertEqual(try server.get("/api/v1/strategies/turtle").status, 404)
        let put = try server.request("PUT /api/v1/strategies/rsi_reversal HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 33\r\n\r\n{\"enabled\":false,\"oversold\":25.5}")
        XCTAssertEqual(put.status, 200, put.text)
        XCTAssertEqual(put.json?["enabled"] as? Bool, false)
        XCTAssertEqual((put.json?["settings"] as? [String: Any])?["oversold"] as? Double, 25.5)
        let invalid = try server.request("PUT /api/v1/strategies/rsi_reversal HTTP/1.1\r\nHost: a\r\nContent-Length: 16\r\n\r\n{\"oversold\":500}")
        XCTAssertEqual(invalid.status, 400)
        XCTAssertTrue(invalid.text.contains("oversold"), invalid.text)
        XCTAssertEqual(try server.request("PUT /api/v1/strategies/turtle HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}").status, 404)
        XCTAssertEqual(try server.request("PUT /api/v1/strategies/rsi_reversal HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n[]").status, 400)
        let empty = try server.request("PUT /api/v1/strategies/rsi_reversal HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertEqual(empty.status, 400, "an update must name a setting")
        let reload = try server.request("POST /admin/reload HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(reload.status, 200, reload.text)
        XCTAssertEqual(reload.json?["strategies"] as? Int, 9)
        XCTAssertEqual(reload.json?["enabled"] as? Int, 8, "sma_cross ships disabled")
        // Switching a parameterised rule on with new parameters: the answer shows the merged
        // parameters and that the new indicators were warmed on the bars the server holds.
        let body = #"{"enabled":true,"params":{"slow":40}}"#
        let enable = try server.request("PUT /api/v1/strategies/sma_cross HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertEqual(enable.status, 200, enable.text)
        let settings = try XCTUnwrap(enable.json?["settings"] as? [String: Any])
        XCTAssertEqual(settings["params"] as? [String: Int], ["fast": 10, "slow": 40])
        let warmUp = try XCTUnwrap(enable.json?["warm_up"] as? [String: Any], enable.text)
        XCTAssertEqual(warmUp["indicators"] as? [String], ["sma(close,10)", "sma(close,40)"])
        XCTAssertGreaterThan(warmUp["bars"] as? Int ?? 0, 40, "the bars ingested above")
        let zero = #"{"params":{"slow":0}}"#
        let refused = try server.request("PUT /api/v1/strategies/sma_cross HTTP/1.1\r\nHost: a\r\nContent-Length: \(zero.utf8.count)\r\n\r\n\(zero)")
        XCTAssertEqual(refused.status, 400)
        XCTAssertTrue(refused.text.contains("strategies.sma_cross.when: at column 42: n must be a whole number from 2 to 10000, got 0"), refused.text)
    }
}
