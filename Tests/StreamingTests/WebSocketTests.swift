import Foundation
import TestSupport
import XCTest


final class WebSocketTests: XCTestCase {
    private func post(_ server: TestServer, _ body: String) throws -> TestResponse {
        try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    func testUpgradeValidation() throws {
        let server = try TestServer()
        defer { server.stop() }
        let ok = try TestWebSocket(port: server.port, path: "/ws")
        XCTAssertEqual(ok.handshake.status, 101)
        XCTAssertEqual(ok.handshake.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let hello = try ok.nextJSON()
        XCTAssertEqual(hello["type"] as? String, "hello")
        XCTAssertNotNil(hello["seq"] as? Int)
        let version = try server.request("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        XCTAssertEqual(version.status, 426)
        XCTAssertEqual(version.header("Sec-WebSocket-Version"), "13")
        let key = try server.request("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 13\r\n\r\n")
        XCTAssertEqual(key.status, 400)
        let origin = try TestWebSocket(port: server.port, path: "/ws", extraHeaders: ["Origin: https://evil.example"])
        XCTAssertEqual(origin.handshake.status, 403)
        let same = try TestWebSocket(port: server.port, path: "/ws", extraHeaders: ["Origin: https://localhost:\(server.port)"])
        XCTAssertEqual(same.handshake.status, 101)
        let deflate = try TestWebSocket(port: server.port, path: "/ws", extraHeaders: ["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"])
        XCTAssertEqual(deflate.handshake.header("Sec-WebSocket-Extensions"), "permessage-deflate; server_no_context_takeover")
        let badQuery = try TestWebSocket(port: server.port, path: "/ws?channels=gossip")
        XCTAssertEqual(badQuery.handshake.status, 400)
    }

    func testOpportunitiesStreamFiltersAndResume() throws {
        let server = try TestServer { $0.pipeline.interval = "1s" }
        defer { server.stop() }
        let seed = try TestWebSocket(port: server.port, path: "/ws/opportunities")
        XCTAssertEqual(try seed.nextJSON()["type"] as? String, "hello")
        XCTAssertEqual(try seed.nextJSON()["type"] as? String, "subscribed")
        let longs = try TestWebSocket(port: server.port, path: "/ws")
        _ = try longs.nextJSON()
        try longs.sendText(#"{"op":"subscribe","channels":["opportunities","signals"],"symbols":["600519.SH"]}"#)
        let ack = try longs.nextJSON()
        XCTAssertEqual(ack["type"] as? String, "subscribed")
        XCTAssertEqual(ack["symbols"] as? [String], ["600519.SH"])
        try longs.sendText(#"{"op":"nope"}"#)
        XCTAssertEqual(try longs.nextJSON()["code"] as? String, "unknown_op")

        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 6000)).status, 202)
        // The seed's client shape: {"type":"opportunity","payload":{...}}.
        let first = try seed.nextJSON()
        XCTAssertEqual(first["type"] as? String, "opportunity")
        let payload = try XCTUnwrap(first["payload"] as? [String: Any])
        for key in ["seq", "id", "symbol", "direction", "status", "confidence", "price", "strategies", "signal_count",
                    "created_ts", "updated_ts", "expires_ts", "risk"] {
            XCTAssertNotNil(payload[key], key)
        }
        var seqs = [first["seq"] as? Int ?? 0]
        for _ in 0..<4 {
            let m = try seed.nextJSON()
            XCTAssertEqual(m["type"] as? String, "opportunity")
            seqs.append(m["seq"] as? Int ?? 0)
        }
        XCTAssertEqual(seqs, seqs.sorted())
        for _ in 0..<5 {
            let m = try longs.nextJSON()
            let type = m["type"] as? String
            XCTAssertTrue(type == "opportunity" || type == "signal", "\(m)")
            XCTAssertEqual((m["payload"] as? [String: Any])?["symbol"] as? String, "600519.SH")
        }

        // Resume: everything after seq N, in order, then live without gaps or repeats.
        let resumeFrom = seqs[1]
        let expected = (try server.get("/api/v1/opportunities?since_seq=\(resumeFrom)&limit=1000").json?["items"] as? [[String: Any]] ?? [])
            .compactMap { $0["seq"] as? Int }
        let resumed = try TestWebSocket(port: server.port, path: "/ws/opportunities?since_seq=\(resumeFrom)")
        _ = try resumed.nextJSON()  // hello
        _ = try resumed.nextJSON()  // subscribed
        var got: [Int] = []
        while got.count < expected.count { got.append(try resumed.nextJSON()["seq"] as? Int ?? -1) }
        XCTAssertEqual(got, expected, "the replay is exactly the missed events")
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 3000, start: 6000)).status, 202)
        let live = try resumed.nextJSON()["seq"] as? Int ?? 0
        XCTAssertGreaterThan(live, got.last ?? 0, "live continues after the replay")
    }

    /// A subscription's symbol list lives as long as the connection, so it is bounded and each
    /// name must be a tick symbol; a refused subscribe leaves the previous one in force.
    func testSubscriptionSymbolsAreBoundedAndChecked() throws {
        let server = try TestServer { $0.webSocket.maxSymbols = 3 }
        defer { server.stop() }
        let ws = try TestWebSocket(port: server.port, path: "/ws")
        _ = try ws.nextJSON()
        try ws.sendText(#"{"op":"subscribe","channels":["ticks"],"symbols":["A.SH","B.SH","C.SH"]}"#)
        let ack = try ws.nextJSON()
        XCTAssertEqual(ack["type"] as? String, "subscribed")
        XCTAssertEqual(Set(ack["symbols"] as? [String] ?? []), ["A.SH", "B.SH", "C.SH"])
        try ws.sendText(#"{"op":"subscribe","symbols":["A.SH","B.SH","C.SH","D.SH"]}"#)
        let tooMany = try ws.nextJSON()
        XCTAssertEqual(tooMany["code"] as? String, "invalid_subscription")
        XCTAssertTrue((tooMany["message"] as? String ?? "").contains("at most 3"), "\(tooMany)")
        try ws.sendText(#"{"op":"subscribe","symbols":["A.SH","no spaces"]}"#)
        let invalid = try ws.nextJSON()
        XCTAssertEqual(invalid["code"] as? String, "invalid_subscription")
        XCTAssertTrue((invalid["message"] as? String ?? "").contains("no spaces"), "\(invalid)")
        try ws.sendText(#"{"op":"subscribe","symbols":["*"]}"#)
        let all = try ws.nextJSON()
        XCTAssertEqual(all["type"] as? String, "subscribed", "\"*\" is every symbol, not a name")
        let query = try TestWebSocket(port: server.port, path: "/ws?channels=ticks&symbols=A,B,C,D")
        XCTAssertEqual(query.handshake.status, 400)
        XCTAssertEqual(try TestWebSocket(port: server.port, path: "/ws?symbols=A,B,C").handshake.status, 101)
    }

    /// A message must arrive whole within websocket.message_timeout_s of its first byte: a
    /// client that leaves its last fragment unsent (pinging to look alive) is closed with 1008;
    /// one that finishes in time is answered as usual.
    func testUnfinishedMessageIsClosedAfterTheMessageTimeout() throws {
        let server = try TestServer { $0.webSocket.messageTimeoutSeconds = 1 }
        defer { server.stop() }
        func masked(_ b0: UInt8, _ text: String) -> [UInt8] {
            let payload = Array(text.utf8), mask: [UInt8] = [9, 8, 7, 6]
            return [b0, 0x80 | UInt8(payload.count)] + mask + payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        }
        let prompt = try TestWebSocket(port: server.port, path: "/ws")
        _ = try prompt.nextJSON()
        try prompt.client.send(masked(0x01, #"{"op":"#))  // text, not final
        Thread.sleep(forTimeInterval: 0.5)
        try prompt.client.send(masked(0x80, #""ping"}"#))  // the final continuation, in time
        XCTAssertEqual(try prompt.nextJSON()["type"] as? String, "pong")

        let stalled = try TestWebSocket(port: server.port, path: "/ws")
        _ = try stalled.nextJSON()
        try stalled.client.send(masked(0x01, #"{"op":"#))
        try stalled.client.send(masked(0x89, "alive"))  // a ping between fragments is allowed
        let started = Date()
        var close: [UInt8]?
        while close == nil {
            let (opcode, payload) = try stalled.nextFrame()
            if opcode == 8 { close = payload }
        }
        XCTAssertEqual(close.map { Array($0.prefix(2)) }, [0x03, 0xF0], "close 1008")
        XCTAssertTrue(String(decoding: close!.dropFirst(2), as: UTF8.self).contains("1 s"))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.5)
    }

    func testIngestPingAndClose() throws {
        let server = try TestServer()
        defer { server.stop() }
        let ws = try TestWebSocket(port: server.port, path: "/ws")
        _ = try ws.nextJSON()
        try ws.sendText(#"{"op":"ticks","ticks":[{"symbol":"600519.SH","ts":1732500000000,"price":1688.5,"volume":100},{"symbol":"600519.SH","ts":1,"price":0,"volume":1}]}"#)
        let ack = try ws.nextJSON()
        XCTAssertEqual(ack["type"] as? String, "ack")
        XCTAssertEqual(ack["accepted"] as? Int, 1)
        XCTAssertEqual((ack["rejected"] as? [[String: Any]])?.first?["index"] as? Int, 1)
        try ws.sendText(#"{"op":"ping"}"#)
        XCTAssertEqual(try ws.nextJSON()["type"] as? String, "pong")
        let health = try XCTUnwrap(server.get("/admin/health").json?["websocket"] as? [String: Any])
        XCTAssertEqual(health["sessions"] as? Int, 1, "open streams are counted in /admin/health")
        XCTAssertEqual(health["closed_too_slow"] as? Int, 0)
        try ws.sendText("not json")
        XCTAssertEqual(try ws.nextJSON()["code"] as? String, "invalid_message")
        // A close from the client is echoed, then the server closes.
        try ws.client.send([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2])
        let (opcode, payload) = try ws.nextFrame()
        XCTAssertEqual(opcode, 8)
        XCTAssertEqual(payload, [0x03, 0xE8])
        XCTAssertTrue(ws.client.waitForClose())
        // Unmasked frames are a protocol error: close 1002.
        let bad = try TestWebSocket(port: server.port, path: "/ws")
        _ = try bad.nextJSON()
        try bad.client.send([0x81, 0x01, 0x61])
        let (closeOp, closeBody) = try bad.nextFrame()
        XCTAssertEqual(closeOp, 8)
        XCTAssertEqual(Array(closeBody.prefix(2)), [0x03, 0xEA])
    }
}
