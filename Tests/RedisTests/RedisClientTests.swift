import CLinux
import Foundation
import Reactor
import Redis
import Synchronization
import XCTest

/// A real `redis-server` (Debian package, installed by Tests/run.sh) on a free port, with no
/// persistence, stopped by the test that started it.
final class RedisServer {
    let port: Int
    private var process: Process?

    init(port: Int? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("redis-server is missing: Tests/run.sh installs it; under CI=true this is a failure")
            }
            print("SKIPPED: redis-server is not installed — run Tests/run.sh")
            throw XCTSkip("redis-server is not installed")
        }
        self.port = port ?? Self.freePort()
        try start()
    }

    static func freePort() -> Int {
        var bound: Int32 = 0
        let fd = dfl_listen_tcp("127.0.0.1", 0, 0, 1, &bound)
        close(fd)
        return Int(bound)
    }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        // Ready when it accepts a connection.
        for _ in 0..<200 {
            let fd = dfl_connect_tcp("127.0.0.1", Int32(port))
            if fd >= 0 { close(fd); return }
            usleep(20_000)
        }
        throw XCTSkip("redis-server did not start on port \(port)")
    }

    func kill() {
        guard let p = process, p.isRunning else { return }
        Glibc.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    deinit { kill() }
}

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
        let answers = Mutex<[Int64]>([])
        loop.execute {
            for _ in 0..<1000 {
                box.client?.send(["INCR", "dongfeng:test"]) { if case .integer(let n) = $0 { answers.withLock { $0.append(n) } } }
            }
        }
        wait("1000 replies") { answers.withLock { $0.count } == 1000 }
        XCTAssertEqual(answers.withLock { $0 }, Array(1...1000))

        // Redis goes away: the client sees it and comes back when Redis does.
        redis.kill()
        let state = Mutex<String>("")
        let poll = { loop.execute { let s = box.client?.state.rawValue ?? ""; state.withLock { $0 = s } } }
        wait("link down") { poll(); usleep(20_000); return state.withLock { $0 } != "connected" }
        try redis.start()
        wait("link back up") { poll(); usleep(20_000); return state.withLock { $0 } == "connected" }
        let pong = Mutex<String?>(nil)
        loop.execute { box.client?.send(["PING"]) { v in pong.withLock { $0 = v.string } } }
        wait("PONG after the restart") { pong.withLock { $0 } == "PONG" }
        loop.execute { box.client?.stop() }
    }
}

final class ClientBox: @unchecked Sendable {
    var client: RedisClient?
}
