import Foundation
import Redis
import TestSupport
import XCTest

/// Gateways on a real 3-master Redis Cluster (one replica each): key slots agree with the
/// cluster's own, ticks flow through leased partitions, opportunities reach the stream and the
/// other gateway's clients, and a master failover mid-run loses nothing and repeats nothing.
final class RedisClusterTests: XCTestCase {
    func testKeySlotsAgreeWithTheCluster() throws {
        XCTAssertEqual(RedisClient.slot("123456789"), 12739, "CRC16/XMODEM check value")
        XCTAssertEqual(RedisClient.slot("{user1000}.following"), RedisClient.slot("{user1000}.followers"))
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        let keys = ["dfp:opportunities", "dfp:strategy_signals", "dfp:lease:{0}", "dfp:want:{0}", "dfp:clean_ticks:{0}", "foo{}{bar}",
                    "foo{{bar}}zap", "{a}b", "a{b", "", "东风破"] + (0..<50).map { "k\($0)-\(UInt64.random(in: 0...UInt64.max))" }
        for key in keys {
            guard case .integer(let slot) = try cluster.call(["CLUSTER", "KEYSLOT", key]) else { return XCTFail("KEYSLOT \(key)") }
            XCTAssertEqual(Int(RedisClient.slot(key)), Int(slot), key)
        }
    }

    private func ticks(_ server: TestServer) throws -> Int {
        let p = try server.get("/admin/health").json?["pipeline"] as? [String: Any]
        return (p?["ticks"] as? Int ?? 0) + (p?["out_of_order"] as? Int ?? 0)
    }

    private func eventually(_ what: String, timeout: TimeInterval = 30, _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(try condition(), what)
    }

    private func opportunities(_ server: TestServer) throws -> Set<Int> {
        var out = Set<Int>()
        var since = 0
        while true {
            let page = try XCTUnwrap(server.get("/api/v1/opportunities?since_seq=\(since)&limit=1000").json)
            let items = try XCTUnwrap(page["items"] as? [[String: Any]])
            out.formUnion(items.compactMap { $0["seq"] as? Int })
            guard items.count == 1000, let last = items.last?["seq"] as? Int else { return out }
            since = last
        }
    }

    /// The stream's opportunity seqs of `origin`, in stream order.
    private func streamed(_ cluster: RedisCluster, _ origin: String) throws -> [Int] {
        try (cluster.call(["XRANGE", "dfp:opportunities", "-", "+"]).array ?? []).compactMap { entry in
            let fields = entry.array?.last?.array ?? []
            var seq: Int?
            var instance: String?
            for i in stride(from: 0, to: fields.count - 1, by: 2) {
                if fields[i].string == "seq" { seq = fields[i + 1].string.flatMap(Int.init) }
                if fields[i].string == "instance" { instance = fields[i + 1].string }
            }
            return instance == origin ? seq : nil
        }
    }

    private func feed(_ cluster: RedisCluster, start: Int) throws -> [Int] {
        var perPartition = [0, 0]
        for line in TestTicks.ndjson(count: 1600, start: start).split(separator: "\n") {
            let p = line.contains("600519.SH") ? 0 : 1
            perPartition[p] += 1
            try cluster.call(["XADD", "dfp:clean_ticks:{\(p)}", "*", "data", String(line)])
        }
        return perPartition
    }

    func testGatewaysOnAClusterSurviveAMasterFailover() throws {
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        func gateway(_ name: String, _ partition: Int) throws -> TestServer {
            try TestServer {
                $0.redis.url = "redis://127.0.0.1:\(cluster.ports[0])"
                $0.redis.cluster = true
                $0.redis.consumer = name
                $0.redis.partitions = "\(partition)"
                $0.redis.partitionCount = 2
                $0.redis.leaseMs = 3_000
            }
        }
        let a = try gateway("A", 0)
        defer { a.stop() }
        let b = try gateway("B", 1)
        defer { b.stop() }
        for server in [a, b] {
            try eventually("links up, partition held, peers backfilled") {
                let redis = try XCTUnwrap(server.get("/admin/health").json?["redis"] as? [String: Any])
                let source = redis["source"] as? [String: Any]
                let peers = redis["peers"] as? [String: Any]
                return redis["state"] as? String == "connected" && (source?["partitions"] as? [Int])?.count == 1
                    && peers?["backfilled"] as? Bool == true
            }
        }
        let ws = try TestWebSocket(port: a.port, path: "/ws/opportunities")
        _ = try ws.nextJSON(); _ = try ws.nextJSON()  // hello, subscribed

        var fed = try feed(cluster, start: 0)
        try eventually("each gateway processes its partition") { try ticks(a) == fed[0] && ticks(b) == fed[1] }
        try eventually("the opportunities so far are in the stream") {
            let inStream = try streamed(cluster, "A").count + streamed(cluster, "B").count
            return try inStream == opportunities(a).count + opportunities(b).count
        }
        // The master of the busiest stream fails over while the gateways go on.
        // A partition's keys share its slot (hash tag).
        XCTAssertEqual(RedisClient.slot("dfp:clean_ticks:{0}"), RedisClient.slot("dfp:lease:{0}"))
        let (oldMaster, _) = try cluster.nodes(serving: "dfp:opportunities")
        let before = try streamed(cluster, "A").count
        try cluster.failover(serving: "dfp:opportunities")
        XCTAssertEqual(try streamed(cluster, "A").count, before, "the new master has what the old one had")
        XCTAssertNotEqual(try cluster.nodes(serving: "dfp:opportunities").master, oldMaster)
        // And the master of partition 0's keys (its tick stream, lease and want), if another one.
        if try cluster.nodes(serving: "dfp:clean_ticks:{0}").master != cluster.nodes(serving: "dfp:opportunities").master {
            try cluster.failover(serving: "dfp:clean_ticks:{0}")
        }
        let more = try feed(cluster, start: 1600)
        fed = [fed[0] + more[0], fed[1] + more[1]]
        // Every tick processed across the failover, by its own gateway (a lease of 3 s outlives
        // it). Delivery from the tick streams is at least once: in about 1 run in 8 here the
        // promoted master handed up to ~150 entries of its partition to the consumer again
        // (they count as out of order and make no event); those are printed, not failed.
        try eventually("every tick processed across the failover") { try ticks(a) >= fed[0] && ticks(b) >= fed[1] }
        usleep(1_200_000)  // the last bars close by the wall clock
        for (server, expected) in [(a, fed[0]), (b, fed[1])] where try ticks(server) != expected {
            print("RedisClusterTests: \(try ticks(server) - expected) ticks delivered again across the failover")
        }
        for (server, name) in [(a, "A"), (b, "B")] {
            let made = try opportunities(server)
            XCTAssertGreaterThan(made.count, 10)
            try eventually("every opportunity of \(name) is in the stream, once, in seq order") {
                let seqs = try streamed(cluster, name)
                return Set(seqs) == made && seqs == seqs.sorted() && seqs.count == Set(seqs).count
            }
        }
        // A's client has every opportunity of both gateways, once.
        let expected = try Set(opportunities(a).map { "A/\($0)" }).union(opportunities(b).map { "B/\($0)" })
        var seen: [String] = []
        while seen.count < expected.count {
            let m = try ws.nextJSON()
            guard m["type"] as? String == "opportunity" else { continue }
            seen.append("\(m["instance"] as? String ?? "?")/\(m["seq"] as? Int ?? -1)")
        }
        XCTAssertEqual(Set(seen), expected)
        XCTAssertEqual(seen.count, Set(seen).count, "none twice")
        for server in [a, b] {
            let health = try XCTUnwrap(server.get("/admin/health").json?["redis"] as? [String: Any])
            XCTAssertEqual(health["state"] as? String, "connected")
            XCTAssertGreaterThan(health["redirects"] as? Int ?? 0, 0, "the sink was sent to the new master: \(health)")
        }
    }
}
