import CLinux
import Foundation
import Redis
import XCTest

/// A real Redis Cluster on this machine: `masters` redis-server nodes with one replica each
/// (`--cluster-enabled yes`, joined by `redis-cli --cluster create`), on free ports, in a
/// temporary folder; stopped by the test that started it.
public final class RedisCluster {
    public private(set) var ports: [Int] = []
    private var processes: [Process] = []
    private let directory: URL

    public init(masters: Int = 3) throws {
        for tool in ["/usr/bin/redis-server", "/usr/bin/redis-cli"] where !FileManager.default.isExecutableFile(atPath: tool) {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("\(tool) is missing: Tests/run.sh installs redis-server; under CI=true this is a failure")
            }
            print("SKIPPED: \(tool) is not installed — run Tests/run.sh")
            throw XCTSkip("\(tool) is not installed")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        while ports.count < masters * 2 {
            // The cluster bus listens on port + 10000.
            let port = RedisServer.freePort()
            if port < 55_000 && !ports.contains(port) { ports.append(port) }
        }
        for port in ports {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
                           "--repl-diskless-sync-delay", "0", "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf", "--cluster-node-timeout", "2000",
                           "--dir", directory.path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            processes.append(p)
        }
        for port in ports {
            var up = false
            for _ in 0..<200 where !up {
                let fd = dfl_connect_tcp("127.0.0.1", Int32(port))
                if fd >= 0 { close(fd); up = true } else { usleep(20_000) }
            }
            guard up else { throw XCTSkip("redis-server did not start on port \(port)") }
        }
        let create = Process()
        create.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        create.arguments = ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "1", "--cluster-yes"]
        create.standardOutput = FileHandle.nullDevice
        create.standardError = FileHandle.nullDevice
        try create.run()
        create.waitUntilExit()
        XCTAssertEqual(create.terminationStatus, 0, "redis-cli --cluster create")
        try waitUntilHealthy()
        // Every replica attached and synced before any data: a replica still in its first full
        // sync when a test fails its master over is not what "nothing lost" is about.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let infos = ports.map { RedisBlockingCall.send([["INFO", "replication"]], host: "127.0.0.1", port: $0)?.first?.string ?? "" }
            let replicas = infos.filter { $0.contains("role:slave") }
            if replicas.count == masters && replicas.allSatisfy({ $0.contains("master_link_status:up") && $0.contains("master_sync_in_progress:0") }) {
                return
            }
            usleep(100_000)
        }
        XCTFail("the replicas did not sync")
    }

    /// Every node says cluster_state:ok and every slot is served.
    public func waitUntilHealthy(timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let states = ports.map { port -> String in
                (RedisBlockingCall.send([["CLUSTER", "INFO"]], host: "127.0.0.1", port: port)?.first?.string) ?? ""
            }
            if states.allSatisfy({ $0.contains("cluster_state:ok") && $0.contains("cluster_slots_ok:16384") }) { return }
            usleep(100_000)
        }
        XCTFail("the cluster did not become healthy")
    }

    /// One command, to the node serving its key (redirections followed).
    @discardableResult
    public func call(_ args: [String]) throws -> RESPValue {
        guard let reply = RedisBlockingCall.send([args], host: "127.0.0.1", port: ports[0], timeoutSeconds: 5, followingRedirects: true)?.first else {
            throw XCTSkip("the cluster did not answer \(args.first ?? "")")
        }
        return reply
    }

    /// The master serving `key`'s slot, and one of its replicas (waiting for the replica to be
    /// listed: replicas attach a moment after the cluster is made, and after a failover).
    public func nodes(serving key: String) throws -> (master: Int, replica: Int) {
        let slot = Int(RedisClient.slot(key))
        let deadline = Date().addingTimeInterval(20)
        repeat {
            let ranges = try call(["CLUSTER", "SLOTS"]).array ?? []
            for range in ranges {
                guard let r = range.array, r.count >= 4, case .integer(let start) = r[0], case .integer(let end) = r[1],
                      (Int(start)...Int(end)).contains(slot), case .integer(let master)? = r[2].array?[1],
                      case .integer(let replica)? = r[3].array?[1] else { continue }
                return (Int(master), Int(replica))
            }
            usleep(100_000)
        } while Date() < deadline
        throw TestClientError.malformed("no master with a replica serves slot \(slot)")
    }

    /// A manual failover (CLUSTER FAILOVER on the replica of `key`'s master, no data lost): returns
    /// once the replica is the master and the cluster is healthy again.
    public func failover(serving key: String) throws {
        let (old, replica) = try nodes(serving: key)
        // Only a replica in sync can take over with nothing lost (just after the cluster is
        // made, the first full sync may still be running).
        let synced = Date().addingTimeInterval(30)
        while Date() < synced {
            let info = RedisBlockingCall.send([["INFO", "replication"]], host: "127.0.0.1", port: replica)?.first?.string ?? ""
            if info.contains("master_link_status:up") && info.contains("master_sync_in_progress:0") { break }
            usleep(100_000)
        }
        XCTAssertEqual(RedisBlockingCall.send([["CLUSTER", "FAILOVER"]], host: "127.0.0.1", port: replica)?.first?.string, "OK")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try nodes(serving: key).master == old { usleep(100_000) }
        XCTAssertEqual(try nodes(serving: key).master, replica, "the replica took over")
        try waitUntilHealthy()
    }

    public func stop() {
        for p in processes where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        processes = []
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
