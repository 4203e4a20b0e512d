import Foundation
import TestSupport
import XCTest

/// Partition leases against a real redis-server: a survivor takes over a dead gateway's
/// partition with the ticks it left pending, its configured owner takes it back when it starts,
/// and a gateway that stops hands its partitions over at once. Every tick is processed once.
final class PartitionFailoverTests: XCTestCase {
    private func gateway(_ name: String, prefers partition: Int, _ redis: RedisServer) throws -> TestServer {
        try TestServer {
            $0.redis.url = "redis://127.0.0.1:\(redis.port)"
            $0.redis.consumer = name
            $0.redis.partitions = "\(partition)"
            $0.redis.partitionCount = 2
            $0.redis.leaseMs = 600
            $0.redis.claimIdleMs = 600_000  // only the takeover claims here
        }
    }

    private func source(_ server: TestServer) throws -> [String: Any] {
        try XCTUnwrap((server.get("/admin/health").json?["redis"] as? [String: Any])?["source"] as? [String: Any])
    }

    private func ticks(_ server: TestServer) throws -> Int {
        let p = try server.get("/admin/health").json?["pipeline"] as? [String: Any]
        return (p?["ticks"] as? Int ?? 0) + (p?["out_of_order"] as? Int ?? 0)
    }

    private func eventually(_ what: String, timeout: TimeInterval = 15, _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(try condition(), what)
    }

    private func add(_ probe: RedisProbe, partition: Int, count: Int, start: Int) throws {
        for line in TestTicks.ndjson(count: count, start: start).split(separator: "\n") {
            _ = try probe.call(["XADD", "dfp:clean_ticks:\(partition)", "*", "data", String(line)])
        }
    }

    func testADeadGatewaysPartitionIsTakenOverAndHandedBack() throws {
        let redis = try RedisServer()
        defer { redis.kill() }
        let probe = try RedisProbe(port: redis.port)
        // Gateway Z held partition 0, read 100 of its 300 ticks and died: its lease lapses.
        _ = try probe.call(["XGROUP", "CREATE", "dfp:clean_ticks:0", "dongfeng", "0", "MKSTREAM"])
        try add(probe, partition: 0, count: 300, start: 0)
        _ = try probe.call(["XREADGROUP", "GROUP", "dongfeng", "Z", "COUNT", "100", "STREAMS", "dfp:clean_ticks:0", ">"])
        _ = try probe.call(["SET", "dfp:lease:{0}", "Z", "PX", "800"])

        let b = try gateway("B", prefers: 1, redis)
        defer { b.stop() }
        try eventually("B holds its own partition and, once Z's lease lapsed, Z's") {
            try source(b)["partitions"] as? [Int] == [0, 1]
        }
        try eventually("every tick of partition 0 is processed by B, Z's pending ones included") { try ticks(b) == 300 }
        usleep(300_000)
        XCTAssertEqual(try ticks(b), 300, "none twice")
        let health = try source(b)
        XCTAssertEqual(health["takeovers"] as? Int, 1)
        XCTAssertEqual(health["claimed"] as? Int, 100, "Z's pending entries")
        let metrics = try b.get("/admin/metrics").text
        XCTAssertTrue(metrics.contains("dongfeng_redis_partitions 2\n") && metrics.contains("dongfeng_redis_partitions_held 2\n")
                      && metrics.contains("dongfeng_redis_partition_takeovers_total 1\n"), metrics)
        try eventually("nothing left pending") {
            guard case .integer(let pending)? = try probe.call(["XPENDING", "dfp:clean_ticks:0", "dongfeng"]).array?.first else { return false }
            return pending == 0
        }

        // A, configured for partition 0, starts: B hands it over.
        let a = try gateway("A", prefers: 0, redis)
        try eventually("A holds partition 0, B only its own") {
            try source(a)["partitions"] as? [Int] == [0] && source(b)["partitions"] as? [Int] == [1]
        }
        try add(probe, partition: 0, count: 200, start: 300)
        try eventually("A processes the new ticks of partition 0") { try ticks(a) == 200 }
        XCTAssertEqual(try ticks(b), 300)
        XCTAssertEqual(try probe.call(["GET", "dfp:lease:{0}"]).string, "A")

        // A stops: it hands partition 0 back at once, without waiting for its lease to lapse.
        a.stop()
        XCTAssertNotEqual(try probe.call(["GET", "dfp:lease:{0}"]).string, "A", "released at shutdown (B may hold it already)")
        try eventually("B takes partition 0 again", timeout: 5) { try source(b)["partitions"] as? [Int] == [0, 1] }
        try add(probe, partition: 0, count: 100, start: 500)
        try eventually("B processes what follows") { try ticks(b) == 400 }
    }
}
