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
        let redis = try RedisServer()
        defer { redis.kill() }
        let url = "redis://127.0.0.1:\(redis.port)"
        let a = try TestServer { $0.redis.url = url; $0.redis.partitions = "0"; $0.redis.consumer = "A" }
        defer { a.stop() }
        let b = try TestServer { $0.redis.url = url; $0.redis.partitions = "1"; $0.redis.consumer = "B" }
        defer { b.stop() }
        // Both links up before any tick, so pub/sub misses nothing.
        for server in [a, b] {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                let peers = (try server.get("/admin/health").json?["redis"] as? [String: Any])?["peers"] as? [String: Any]
                if peers?["state"] as? String == "connected" { break }
                usleep(50_000)
            }
        }
        let wsA = try TestWebSocket(port: a.port, path: "/ws/opportunities")
        let wsB = try TestWebSocket(port: b.port, path: "/ws/opportunities")
        for ws in [wsA, wsB] { _ = try ws.nextJSON(); _ = try ws.nextJSON() }  // hello, subscribed

        let symbols = ["600519.SH", "000001.SZ", "600036.SH", "300750.SZ", "601318.SH", "000858.SZ", "688981.SH", "002594.SZ"]
        XCTAssertEqual(Set(symbols.map { Self.partition($0, of: 2) }), [0, 1], "both partitions get symbols")
        let probe = try RedisProbe(port: redis.port)
        let base = TestTicks.ndjson(count: 2400).split(separator: "\n")
        var perServer = [0, 0]
        for copy in 0..<4 {
            for line in base {
                let text = String(line).replacingOccurrences(of: "600519.SH", with: symbols[copy * 2])
                    .replacingOccurrences(of: "000001.SZ", with: symbols[copy * 2 + 1])
                let symbol = text.contains(symbols[copy * 2]) ? symbols[copy * 2] : symbols[copy * 2 + 1]
                let p = Self.partition(symbol, of: 2)
                perServer[Int(p)] += 1
                _ = try probe.call(["XADD", "dfp:clean_ticks:\(p)", "*", "data", text])
            }
        }
        // Each gateway processes its partition only.
        for (server, expected) in [(a, perServer[0]), (b, perServer[1])] {
            let deadline = Date().addingTimeInterval(30)
            var ticks = 0
            while Date() < deadline {
                let p = try server.get("/admin/health").json?["pipeline"] as? [String: Any]
                ticks = (p?["ticks"] as? Int ?? 0) + (p?["out_of_order"] as? Int ?? 0)
                if ticks == expected { break }
                usleep(50_000)
            }
            XCTAssertEqual(ticks, expected)
        }
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
}
