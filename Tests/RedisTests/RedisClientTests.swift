import Locks
import Foundation
import Reactor
import Redis
import Synchronization
import TestSupport
import XCTest

final class RedisClientTests: XCTestCase {
    private func wait(_ what: String, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(15)
        while !condition() && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(condition(), what)
    }

    func testPipelinedCommandsAndReconnectAfterARedisRestart() throws {
        let redis = try RedisServer()
        defer { redis.kill() }
        let group = try EventLoopGroup(loopCount: 1, maxConnections: 16, sweepIntervalMs: 20)
        group.start()
        defer { group.stopNow(); group.waitUntilStopped() }
        let loop = group.loops[0]
        let box = ClientBox()
        let port = redis.port
        loop.execute { box.client = RedisClient(host: "127.0.0.1", port: port, loop: loop); box.client?.start() }

        // 1000 pipelined INCRs: answered in order.
        let answers = PThreadLocked<[Int64]>([])
        loop.execute {
            for _ in 0..<1000 {
                box.client?.send(["INCR", "dongfeng:test"]) { if case .integer(let n) = $0 { answers.withLock { $0.append(n) } } }
            }
        }
        wait("1000 replies") { answers.withLock { $0.count } == 1000 }
        XCTAssertEqual(answers.withLock { $0 }, Array(1...1000))

        // Redis goes away: the client sees it and comes back when Redis does.
        redis.kill()
        let state = PThreadLocked<String>("")
        let poll = { loop.execute { let s = box.client?.state.rawValue ?? ""; state.withLock { $0 = s } } }
        wait("link down") { poll(); usleep(20_000); return state.withLock { $0 } != "connected" }
        try redis.start()
        wait("link back up") { poll(); usleep(20_000); return state.withLock { $0 } == "connected" }
        let pong = PThreadLocked<String?>(nil)
        loop.execute { box.client?.send(["PING"]) { v in pong.withLock { $0 = v.string } } }
        wait("PONG after the restart") { pong.withLock { $0 } == "PONG" }
        loop.execute { box.client?.stop() }
    }
}

final class ClientBox: @unchecked Sendable {
    var client: RedisClient?
}
