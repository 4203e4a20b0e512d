import CLinux
import Foundation
import Reactor
import Redis
import Synchronization
import XCTest

/// A real `redis-server` (Debian package, installed by Tests/run.sh) on a free port, with no
/// persistence, stopped by the test that started it.
public final class RedisServer {
    public let port: Int
    private var process: Process?

    public init(port: Int? = nil) throws {
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

    public static func freePort() -> Int {
        var bound: Int32 = 0
        let fd = dfl_listen_tcp("127.0.0.1", 0, 0, 1, &bound)
        close(fd)
        return Int(bound)
    }

    public func start() throws {
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

    public func kill() {
        guard let p = process, p.isRunning else { return }
        Glibc.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    deinit { kill() }
}
