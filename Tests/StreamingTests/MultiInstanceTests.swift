import Foundation
import TestSupport
import XCTest

/// Two gateways and one Redis: ticks of 8 symbols are partitioned between them
/// (dfp:clean_ticks:{FNV-1a(symbol) mod 2}); a WebSocket client of either sees every
/// opportunity of both, none twice.
final class MultiInstanceTests: XCTestCase {
    static func partition(_ symbol: String, of count: UInt32) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in symbol.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h % count
    }

    private func opportunities(_ server: TestServer, instance: String) throws -> Set<String> {
        var out = Set<String>()
        var since = 0
        while true {
            let page = try XCTUnwrap(server.get("/api/v1/opportunities?since_seq=\(since)&limit=1000").json)
            let items = try XCTUnwrap(page["items"] as? [[String: Any]])
            for item in items { out.insert("\(instance)/\(item["seq"] as? Int ?? -1)") }
            guard items.count == 1000, let last = items.last?["seq"] as? Int else { return out }
            since = last
        }
    }

    func testEveryClientSeesEveryOpportunityOnce() throws {
        let (redis, a, b) = try twoGateways()
        defer { a.stop(); b.stop(); redis.kill() }
        let wsA = try TestWebSocket(port: a.port, path: "/ws/opportunities")
        let wsB = try TestWebSocket(port: b.port, path: "/ws/opportunities")
        for ws in [wsA, wsB] { _ = try ws.nextJSON(); _ = try ws.nextJSON() }  // hello, subscribed
        let probe = try RedisProbe(port: redis.port)
        let fed = try feed(probe, copies: 0..<4)
        XCTAssertTrue(fed[0] > 0 && fed[1] > 0, "both partitions get symbols")
        // Each gateway processes its partition only.
        try waitForTicks(a, fed[0])
        try waitForTicks(b, fed[1])
        usleep(1_000_000)  // the last bars close by the wall clock
        let expected = try opportunities(a, instance: "A").union(opportunities(b, instance: "B"))
        XCTAssertFalse(expected.isEmpty)
        XCTAssertTrue(expected.contains { $0.hasPrefix("A/") } && expected.contains { $0.hasPrefix("B/") }, "both instances made opportunities")
        for (ws, own) in [(wsA, "A"), (wsB, "B")] {
            var seen: [String] = []
            while seen.count < expected.count {
                let m = try ws.nextJSON()
                guard m["type"] as? String == "opportunity" else { continue }
                seen.append("\(m["instance"] as? String ?? own)/\(m["seq"] as? Int ?? -1)")
            }
            XCTAssertEqual(Set(seen), expected, "client of \(own) sees every opportunity of both")
            XCTAssertEqual(seen.count, Set(seen).count, "none twice")
        }
    }

    /// Other gateways' opportunities come through the `dfp:opportunities` stream: an entry added
    /// while this gateway's link is down arrives after it reconnects (pub/sub would have lost
    /// it), a repeated entry (a sink resending after its own drop) arrives once, and the
    /// gateway's own entries are not echoed back.
    func testStreamEntriesArriveAfterALinkDropOnceEach() throws {
        let redis = try RedisServer()
        defer { redis.kill() }
        let b = try TestServer { $0.redis.url = "redis://127.0.0.1:\(redis.port)"; $0.redis.partitions = "1"; $0.redis.consumer = "B" }
        defer { b.stop() }
        func peersState() throws -> String? {
            ((try b.get("/admin/health").json?["redis"] as? [String: Any])?["peers"] as? [String: Any])?["state"] as? String
        }
        var deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try peersState() != "connected" { usleep(20_000) }
        let ws = try TestWebSocket(port: b.port, path: "/ws/opportunities")
        _ = try ws.nextJSON(); _ = try ws.nextJSON()  // hello, subscribed
        let probe = try RedisProbe(port: redis.port)
        func entry(_ origin: String, _ seq: Int) -> [String] {
            let json = #"{"type":"opportunity","seq":\#(seq),"instance":"\#(origin)","payload":{"seq":\#(seq),"id":"600519.SH-long-1732500001000","symbol":"600519.SH","direction":"long","status":"updated","confidence":0.62,"price":1688.8,"strategies":["rsi_reversal"],"signal_count":\#(seq),"created_ts":1732500001000,"updated_ts":1732500001000,"expires_ts":1732500301000,"risk":{"status":"ok","alerts":[]},"untradable":null}}"#
            return ["XADD", "dfp:opportunities", "*", "seq", String(seq), "instance", origin, "data", json]
        }
        _ = try probe.call(entry("Z", 1))
        // The link drops (every XREAD connection killed); entries added before it is back.
        _ = try probe.call(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
        _ = try probe.call(entry("Z", 2))
        _ = try probe.call(entry("Z", 2))  // a resend
        _ = try probe.call(entry("Z", 1))  // an older repeat
        _ = try probe.call(entry("B", 7))  // this gateway's own
        _ = try probe.call(entry("Y", 1))
        var seen: [String] = []
        deadline = Date().addingTimeInterval(15)
        while seen.count < 3, Date() < deadline {
            let m = try ws.nextJSON()
            guard m["type"] as? String == "opportunity" else { continue }
            seen.append("\(m["instance"] as? String ?? "?")/\(m["seq"] as? Int ?? -1)")
        }
        XCTAssertEqual(seen, ["Z/1", "Z/2", "Y/1"])
        // Nothing more: the repeats and the own entry stay out.
        _ = try probe.call(entry("Y", 2))
        var next = try ws.nextJSON()
        while next["type"] as? String != "opportunity" { next = try ws.nextJSON() }
        XCTAssertEqual("\(next["instance"] as? String ?? "?")/\(next["seq"] as? Int ?? -1)", "Y/2")
        let peers = (try b.get("/admin/health").json?["redis"] as? [String: Any])?["peers"] as? [String: Any]
        XCTAssertEqual(peers?["duplicates"] as? Int, 2, "\(String(describing: peers))")
    }

    /// A Redis and gateways A and B on partitions 0 and 1, their peers links backfilled.
    private func twoGateways() throws -> (RedisServer, TestServer, TestServer) {
        let redis = try RedisServer()
        let a = try gateway("A", partition: 0, redis)
        let b = try gateway("B", partition: 1, redis)
        try waitForPeers([a, b])
        return (redis, a, b)
    }

    private func gateway(_ name: String, partition: Int, _ redis: RedisServer) throws -> TestServer {
        try TestServer { $0.redis.url = "redis://127.0.0.1:\(redis.port)"; $0.redis.partitions = "\(partition)"; $0.redis.consumer = name }
    }

    private func waitForPeers(_ servers: [TestServer]) throws {
        for server in servers {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                let peers = (try server.get("/admin/health").json?["redis"] as? [String: Any])?["peers"] as? [String: Any]
                if peers?["state"] as? String == "connected" && peers?["backfilled"] as? Bool == true { break }
                usleep(20_000)
            }
            let peers = (try server.get("/admin/health").json?["redis"] as? [String: Any])?["peers"] as? [String: Any]
            XCTAssertEqual(peers?["backfilled"] as? Bool, true, "peers link of \(server.port): \(String(describing: peers))")
        }
    }

    /// Feeds `copies` of the test ticks, each copy on two symbols, to their partitions.
    private func feed(_ probe: RedisProbe, copies: Range<Int>, start: Int = 0) throws -> [Int] {
        let symbols = ["600519.SH", "000001.SZ", "600036.SH", "300750.SZ", "601318.SH", "000858.SZ", "688981.SH", "002594.SZ"]
        var perPartition = [0, 0]
        for copy in copies {
            for line in TestTicks.ndjson(count: 2400, start: start).split(separator: "\n") {
                let text = String(line).replacingOccurrences(of: "600519.SH", with: symbols[copy * 2])
                    .replacingOccurrences(of: "000001.SZ", with: symbols[copy * 2 + 1])
                let symbol = text.contains(symbols[copy * 2]) ? symbols[copy * 2] : symbols[copy * 2 + 1]
                let p = Self.partition(symbol, of: 2)
                perPartition[Int(p)] += 1
                _ = try probe.call(["XADD", "dfp:clean_ticks:\(p)", "*", "data", text])
            }
        }
        return perPartition
    }

    private func waitForTicks(_ server: TestServer, _ expected: Int) throws {
        let deadline = Date().addingTimeInterval(30)
        var ticks = 0
        while Date() < deadline {
            let p = try server.get("/admin/health").json?["pipeline"] as? [String: Any]
            ticks = (p?["ticks"] as? Int ?? 0) + (p?["out_of_order"] as? Int ?? 0)
            if ticks == expected { return }
            usleep(50_000)
        }
        XCTAssertEqual(ticks, expected)
    }

    /// Every opportunity of `origin` in the stream, as origin/seq.
    private func streamed(_ probe: RedisProbe, origin: String) throws -> Set<String> {
        var out = Set<String>()
        for entry in try probe.call(["XRANGE", "dfp:opportunities", "-", "+"]).array ?? [] {
            let fields = entry.array?.last?.array ?? []
            var seq: String?
            var instance: String?
            for i in stride(from: 0, to: fields.count - 1, by: 2) {
                if fields[i].string == "seq" { seq = fields[i + 1].string }
                if fields[i].string == "instance" { instance = fields[i + 1].string }
            }
            if instance == origin, let seq { out.insert("\(origin)/\(seq)") }
        }
        return out
    }

    /// Reads opportunity frames, updating the client's cursor from each frame's instance and seq.
    private func read(_ ws: TestWebSocket, count: Int, cursor: inout [String: Int], into seen: inout [String]) throws {
        var got = 0
        while got < count {
            let m: [String: Any]
            do {
                m = try ws.nextJSON()
            } catch {
                XCTFail("after \(got) of \(count), cursor \(cursorText(cursor)): \(error) \(String(describing: ws.closeFrame))")
                throw error
            }
            guard m["type"] as? String == "opportunity" else {
                XCTAssertNotEqual(m["type"] as? String, "error", "\(m)")
                continue
            }
            let origin = try XCTUnwrap(m["instance"] as? String, "every frame names its origin")
            let seq = try XCTUnwrap(m["seq"] as? Int)
            XCTAssertGreaterThan(seq, cursor[origin] ?? 0, "an origin's seqs only grow on one connection")
            cursor[origin] = seq
            seen.append("\(origin)/\(seq)")
            got += 1
        }
    }

    private func cursorText(_ cursor: [String: Int]) -> String {
        cursor.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }

    /// A client moved between gateways with its cursor misses nothing and gets nothing twice:
    /// it reads part of what gateway A sent (the rest is lost with its connection), A stops,
    /// and the client resumes on B — whose history holds A's opportunities from the stream —
    /// and on C, a gateway started only afterwards, whose history is backfilled from it.
    func testAClientMovedToAnyGatewayWithItsCursorGetsEveryOpportunityOnce() throws {
        let (redis, a, b) = try twoGateways()
        defer { a.stop(); b.stop(); redis.kill() }
        let probe = try RedisProbe(port: redis.port)
        // Two clients on A, from its start: hello names A and where the client stands.
        var clients: [(ws: TestWebSocket, cursor: [String: Int], seen: [String])] = []
        for _ in 0..<2 {
            let ws = try TestWebSocket(port: a.port, path: "/ws/opportunities")
            let hello = try ws.nextJSON()
            XCTAssertEqual(hello["instance"] as? String, "A")
            XCTAssertEqual(hello["cursor"] as? String, "A:0")
            _ = try ws.nextJSON()  // subscribed
            clients.append((ws, [:], []))
        }
        let fed = try feed(probe, copies: 0..<4)
        try waitForTicks(a, fed[0])
        try waitForTicks(b, fed[1])
        usleep(1_000_000)  // the last bars close by the wall clock
        let fromA = try opportunities(a, instance: "A")
        // Every one of A's is in the stream before A goes.
        var deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try streamed(probe, origin: "A") != fromA { usleep(50_000) }
        XCTAssertEqual(try streamed(probe, origin: "A"), fromA)
        let fromB = try opportunities(b, instance: "B")
        XCTAssertGreaterThan(fromA.count, 20)
        XCTAssertGreaterThan(fromB.count, 20)
        let expected = fromA.union(fromB)
        // Each client reads a part; what A sent beyond it is lost with the connection.
        for i in clients.indices {
            var client = clients[i]
            try read(client.ws, count: expected.count / 3 + i * 7, cursor: &client.cursor, into: &client.seen)
            client.ws.client.close()
            clients[i] = client
        }
        a.stop()
        // More of B's after A is gone (A's partition waits for its owner).
        let more = try feed(probe, copies: 0..<4, start: 2400)
        try waitForTicks(b, fed[1] + more[1])
        usleep(1_000_000)
        let allB = try opportunities(b, instance: "B")
        XCTAssertGreaterThan(allB.count, fromB.count)
        let c = try gateway("C", partition: 2, redis)
        defer { c.stop() }
        try waitForPeers([c])
        for (i, server) in [b, c].enumerated() {
            var client = clients[i]
            let ws = try TestWebSocket(port: server.port, path: "/ws/opportunities?cursor=\(cursorText(client.cursor))")
            XCTAssertEqual(ws.handshake.status, 101)
            _ = try ws.nextJSON(); _ = try ws.nextJSON()  // hello, subscribed
            let all = fromA.union(allB)
            try read(ws, count: all.count - client.seen.count, cursor: &client.cursor, into: &client.seen)
            XCTAssertEqual(Set(client.seen), all, "the client of \(i == 0 ? "B" : "C") has every opportunity of both origins")
            XCTAssertEqual(client.seen.count, Set(client.seen).count, "none twice")
            // Nothing more is pending: a ping's pong is the next message.
            try ws.sendText(#"{"op":"ping"}"#)
            var next = try ws.nextJSON()
            while next["type"] as? String == "heartbeat" { next = try ws.nextJSON() }
            XCTAssertEqual(next["type"] as? String, "pong", "\(next)")
        }
    }

    /// The cursor is refused where it cannot work, with a 400 naming the parameter.
    func testCursorOnASingleGatewayIsA400() throws {
        let server = try TestServer()
        defer { server.stop() }
        func upgrade(_ query: String) throws -> TestResponse {
            try server.request("GET /ws?\(query) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n")
        }
        let alone = try upgrade("cursor=A:1")
        XCTAssertEqual(alone.status, 400)
        XCTAssertEqual(alone.errorCode, "invalid_parameter")
        XCTAssertTrue(alone.text.contains("use since_seq"), alone.text)
        let bad = try upgrade("cursor=A")
        XCTAssertEqual(bad.status, 400)
        XCTAssertTrue(bad.text.contains("is not instance:seq"), bad.text)
        XCTAssertEqual(try upgrade("cursor=A:1&since_seq=2").status, 400)
    }
}
