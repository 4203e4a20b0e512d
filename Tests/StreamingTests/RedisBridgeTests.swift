import CLinux
import Foundation
import Redis
import TestSupport
import XCTest

/// A blocking RESP connection for checking what the server wrote into Redis.
final class RedisProbe {
    private let fd: Int32
    private var parser = RESPParser()
    init(port: Int) throws {
        fd = dfl_connect_tcp("127.0.0.1", Int32(port))
        guard fd >= 0 else { throw XCTSkip("cannot reach redis on \(port)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }

    func call(_ arguments: [String]) throws -> RESPValue {
        var out: [UInt8] = []
        RESPEncoder.command(arguments, into: &out)
        _ = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            switch parser.next() {
            case .value(let v): return v
            case .failure(let why): throw XCTSkip("bad reply: \(why)")
            case .needMore:
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw XCTSkip("redis closed the connection") }
                buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }

    /// The `seq` field of every entry of a stream.
    func streamSeqs(_ stream: String) throws -> [Int] {
        guard let entries = try call(["XRANGE", stream, "-", "+"]).array else { return [] }
        return entries.compactMap { entry -> Int? in
            guard let fields = entry.array?.last?.array, let i = fields.firstIndex(where: { $0.string == "seq" }),
                  i + 1 < fields.count else { return nil }
            return fields[i + 1].string.flatMap(Int.init)
        }
    }
}

/// The Redis Streams sink against a real redis-server: events land in the seed's streams, and
/// after Redis restarts the sink catches up from the journal.
final class RedisBridgeTests: XCTestCase {
    private func post(_ server: TestServer, _ body: String) throws -> TestResponse {
        try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    private func opportunitySeqs(_ server: TestServer) throws -> [Int] {
        var all: [Int] = []
        var since = 0
        while true {
            let page = try XCTUnwrap(server.get("/api/v1/opportunities?since_seq=\(since)&limit=1000").json)
            let items = try XCTUnwrap(page["items"] as? [[String: Any]]).compactMap { $0["seq"] as? Int }
            all += items
            guard let last = items.last, items.count == 1000 else { return all }
            since = last
        }
    }

    private func eventually(_ what: String, _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(15)
        while try !condition() && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(try condition(), what)
    }

    func testEventsReachTheSeedStreamsAndTheSinkCatchesUpAfterARedisRestart() throws {
        let redis = try RedisServer()
        defer { redis.kill() }
        let server = try TestServer { $0.redis.url = "redis://127.0.0.1:\(redis.port)" }
        defer { server.stop() }
        let probe = try RedisProbe(port: redis.port)
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 3000)).status, 202)
        try eventually("every opportunity XADDed to dfp:opportunities") {
            let rest = try opportunitySeqs(server)
            let streamed = Set(try probe.streamSeqs("dfp:opportunities"))
            return !rest.isEmpty && streamed == Set(rest)
        }
        XCTAssertFalse(try probe.streamSeqs("dfp:strategy_signals").isEmpty)
        let health = try XCTUnwrap(server.get("/admin/health").json?["redis"] as? [String: Any])
        XCTAssertEqual(health["state"] as? String, "connected")

        // Redis goes down (and loses everything: no persistence here); events made meanwhile are
        // journaled, and the sink sends them once Redis is back.
        let before = Set(try opportunitySeqs(server))
        redis.kill()
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 2000, start: 3000)).status, 202)
        try eventually("the link is seen down") {
            (try server.get("/admin/health").json?["redis"] as? [String: Any])?["state"] as? String != "connected"
        }
        let degraded = try server.get("/admin/health")
        XCTAssertEqual(degraded.status, 503, "a component is down: health says so")
        XCTAssertEqual(degraded.json?["status"] as? String, "down", "the only Redis link is down")
        XCTAssertEqual(((degraded.json?["components"] as? [String: Any])?["redis"] as? [String: Any])?["status"] as? String, "down")
        XCTAssertEqual(try server.get("/health").status, 200, "the seed's simple form stays 200")
        try redis.start()
        let probe2 = try RedisProbe(port: redis.port)
        try eventually("the opportunities made while Redis was down reach it") {
            let made = Set(try opportunitySeqs(server)).subtracting(before)
            let streamed = Set(try probe2.streamSeqs("dfp:opportunities"))
            return !made.isEmpty && made.isSubset(of: streamed)
        }
        try eventually("health back to ok once every link is up") { try server.get("/admin/health").status == 200 }
    }

    /// A gateway that died before its sink sent everything it journaled sends the rest when it
    /// starts again, from the seq recorded in `dfp:sink:{instance}`, ahead of the events it
    /// makes live meanwhile: the stream ends up with every event once, in seq order (what peers
    /// rely on to tell a repeat from a new event).
    func testARestartSendsWhatTheSinkLeftUnsentInSeqOrder() throws {
        let redis = try RedisServer()
        defer { redis.kill() }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-sink-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        func gateway() throws -> TestServer {
            try TestServer { $0.redis.url = "redis://127.0.0.1:\(redis.port)"; $0.redis.consumer = "A"; $0.dataDir = data }
        }
        let probe = try RedisProbe(port: redis.port)
        var made: Set<Int> = []
        do {
            let first = try gateway()
            defer { first.stop() }
            XCTAssertEqual(try post(first, TestTicks.ndjson(count: 3000)).status, 202)
            try eventually("every opportunity XADDed") {
                made = Set(try opportunitySeqs(first))
                let streamed = Set(try probe.streamSeqs("dfp:opportunities"))
                return !made.isEmpty && streamed == made
            }
            let last = try XCTUnwrap((first.get("/admin/health").json?["pipeline"] as? [String: Any])?["last_seq"] as? Int)
            try eventually("the sink records how far it got") { try probe.call(["GET", "dfp:sink:A"]).string == String(last) }
        }
        // What a crash leaves: the newest half of the events never reached Redis.
        let cutoff = made.sorted()[made.count / 2]
        for stream in ["dfp:opportunities", "dfp:strategy_signals"] {
            for entry in try probe.call(["XRANGE", stream, "-", "+"]).array ?? [] {
                let fields = entry.array?.last?.array ?? []
                guard let i = fields.firstIndex(where: { $0.string == "seq" }), let seq = fields[i + 1].string.flatMap(Int.init),
                      seq > cutoff, let id = entry.array?.first?.string else { continue }
                _ = try probe.call(["XDEL", stream, id])
            }
        }
        _ = try probe.call(["SET", "dfp:sink:A", String(cutoff)])
        XCTAssertEqual(try probe.streamSeqs("dfp:opportunities").max(), cutoff)

        let second = try gateway()
        defer { second.stop() }
        XCTAssertEqual(try post(second, TestTicks.ndjson(count: 2000, start: 3000)).status, 202)
        try eventually("the unsent half and the new events reach the stream") {
            let all = Set(try opportunitySeqs(second))
            let streamed = Set(try probe.streamSeqs("dfp:opportunities"))
            return all.count > made.count && streamed == all
        }
        for stream in ["dfp:opportunities", "dfp:strategy_signals"] {
            let seqs = try probe.streamSeqs(stream)
            XCTAssertEqual(seqs, seqs.sorted(), "\(stream) in seq order")
            XCTAssertEqual(seqs.count, Set(seqs).count, "\(stream): each once")
        }
    }

    /// Ticks XADDed to dfp:clean_ticks come out as opportunities (REST and dfp:opportunities),
    /// every entry is acknowledged once processed, and the entries a dead consumer left pending
    /// are claimed and processed once.
    func testTicksFromTheCleanTicksStreamIncludingADeadConsumersPending() throws {
        let redis = try RedisServer()
        defer { redis.kill() }
        let probe = try RedisProbe(port: redis.port)
        XCTAssertEqual(try probe.call(["XGROUP", "CREATE", "dfp:clean_ticks", "dongfeng", "0", "MKSTREAM"]), .simple("OK"))
        let lines = TestTicks.ndjson(count: 3000).split(separator: "\n")
        for (n, line) in lines.enumerated() {
            // Half as a JSON field, half as flat fields, as producers may write either.
            if n % 2 == 0 {
                _ = try probe.call(["XADD", "dfp:clean_ticks", "*", "data", String(line)])
            } else {
                let t = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                _ = try probe.call(["XADD", "dfp:clean_ticks", "*", "symbol", "\(t["symbol"]!)", "ts", "\(t["ts"]!)",
                                    "price", "\(t["price"]!)", "volume", "\(t["volume"]!)"])
            }
        }
        _ = try probe.call(["XADD", "dfp:clean_ticks", "*", "garbage", "not a tick"])
        // A consumer takes the first 100 entries and dies without acknowledging them.
        let dead = try probe.call(["XREADGROUP", "GROUP", "dongfeng", "dead", "COUNT", "100", "STREAMS", "dfp:clean_ticks", ">"])
        XCTAssertEqual(dead.array?.first?.array?.last?.array?.count, 100)

        let server = try TestServer { $0.redis.url = "redis://127.0.0.1:\(redis.port)"; $0.redis.claimIdleMs = 300 }
        defer { server.stop() }
        try eventually("all 3000 ticks processed once (the claimed ones arrive late: out of order)") {
            let p = try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])
            return (p["ticks"] as? Int ?? 0) + (p["out_of_order"] as? Int ?? 0) == 3000
        }
        try eventually("nothing left pending in the group") {
            guard case .integer(let pending)? = try probe.call(["XPENDING", "dfp:clean_ticks", "dongfeng"]).array?.first else { return false }
            return pending == 0
        }
        let source = try XCTUnwrap((server.get("/admin/health").json?["redis"] as? [String: Any])?["source"] as? [String: Any])
        XCTAssertEqual(source["claimed"] as? Int, 100)
        XCTAssertEqual(source["rejected"] as? Int, 1, "the entry that is not a tick is counted and acknowledged")
        XCTAssertEqual(source["acked"] as? Int, 3001)
        try eventually("opportunities in REST and in dfp:opportunities") {
            let rest = Set(try opportunitySeqs(server))
            let streamed = Set(try probe.streamSeqs("dfp:opportunities"))
            return !rest.isEmpty && rest == streamed
        }
    }
}
