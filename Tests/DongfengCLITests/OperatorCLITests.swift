import Foundation
import TestSupport
import XCTest

/// The built `dongfeng` executable, next to the test bundle in the build folder.
func dongfengExecutable() throws -> URL {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("dongfeng")]
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build/debug/dongfeng"))
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) { return found }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("dongfeng executable not found at \(candidates.map(\.path)): Tests/run.sh builds it first")
    }
    throw XCTSkip("dongfeng executable not built (run `swift build` first)")
}

/// Runs the CLI to completion (killed after `timeout`), collecting stdout and stderr apart.
func runDongfeng(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 30) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    let process = Process()
    process.executableURL = try dongfengExecutable()
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DFP_") }
    env["NO_COLOR"] = "1"
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let collected = CollectedOutput()
    try process.run()
    let readers = [(out, true), (err, false)].map { pipe, isOut in
        Thread {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            collected.set(data, stdout: isOut)
        }
    }
    readers.forEach { $0.start() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        XCTFail("dongfeng \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
    }
    process.waitUntilExit()
    while !readers.allSatisfy(\.isFinished) { usleep(5_000) }
    return (process.terminationStatus, collected.stdout, collected.stderr)
}

final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func set(_ data: Data, stdout: Bool) {
        lock.lock()
        if stdout { out = data } else { err = data }
        lock.unlock()
    }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}

/// `dongfeng health | watch | trigger | top` against live servers, as an operator runs them.
final class OperatorCLITests: XCTestCase {
    private func target(_ server: TestServer) -> [String] {
        ["--url", "https://127.0.0.1:\(server.port)", "--cacert", server.certificatePath]
    }

    func testHealthExitCodesFollowTheServer() throws {
        let server = try TestServer { $0.feed = "simulator" }
        defer { server.stop() }
        usleep(300_000)
        let healthy = try runDongfeng(["health"] + target(server))
        XCTAssertEqual(healthy.status, 0, healthy.stdout + healthy.stderr)
        XCTAssertTrue(healthy.stdout.contains("OK"), healthy.stdout)
        for component in ["reactor", "pipeline", "feed", "journal"] {
            XCTAssertTrue(healthy.stdout.contains(component), "\(component) listed:\n\(healthy.stdout)")
        }
        // The feed stops: degraded, exit 1.
        XCTAssertEqual(try server.request("POST /admin/feed/pause HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").status, 200)
        let degraded = try runDongfeng(["health"] + target(server))
        XCTAssertEqual(degraded.status, 1, degraded.stdout + degraded.stderr)
        XCTAssertTrue(degraded.stdout.contains("DEGRADED") && degraded.stdout.contains("paused"), degraded.stdout)
        let json = try runDongfeng(["health", "--json"] + target(server))
        XCTAssertEqual(json.status, 1)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(parsed?["status"] as? String, "degraded")
        // An untrusted certificate is an error that says what to do, not a silent pass.
        let untrusted = try runDongfeng(["health", "--url", "https://127.0.0.1:\(server.port)", "--cacert", "/etc/ssl/certs/ca-certificates.crt"])
        XCTAssertEqual(untrusted.status, 2)
        XCTAssertTrue(untrusted.stderr.contains("--cacert") || untrusted.stderr.contains("--insecure"), untrusted.stderr)
        XCTAssertEqual(try runDongfeng(["health", "--insecure", "--url", "https://127.0.0.1:\(server.port)"]).status, 1)
        // Liveness (a container HEALTHCHECK): a paused feed is still alive.
        let live = try runDongfeng(["health", "--live", "--insecure", "--url", "https://127.0.0.1:\(server.port)"])
        XCTAssertEqual(live.status, 0, live.stdout + live.stderr)
        XCTAssertTrue(live.stdout.contains("ok") && live.stdout.contains("liveness"), live.stdout)
    }

    func testHealthIsDownWhenAComponentIsDownOrTheServerIsUnreachable() throws {
        // Redis configured on a port where nothing listens: the Redis component is down.
        let port = RedisServer.freePort()
        let server = try TestServer { $0.redis.url = "redis://127.0.0.1:\(port)" }
        defer { server.stop() }
        usleep(300_000)
        let down = try runDongfeng(["health"] + target(server))
        XCTAssertEqual(down.status, 2, down.stdout + down.stderr)
        XCTAssertTrue(down.stdout.contains("redis") && down.stdout.contains("down"), down.stdout)
        server.stop()
        let unreachable = try runDongfeng(["health", "--insecure", "--url", "https://127.0.0.1:\(server.port)", "--timeout", "2"])
        XCTAssertEqual(unreachable.status, 2)
        XCTAssertTrue(unreachable.stderr.contains("cannot connect"), unreachable.stderr)
        let notLive = try runDongfeng(["health", "--live", "--insecure", "--url", "https://127.0.0.1:\(server.port)", "--timeout", "2"])
        XCTAssertEqual(notLive.status, 2)
        XCTAssertTrue(notLive.stderr.contains("cannot connect"), notLive.stderr)
    }

    /// Every strategy the server lists — the built-ins and the rules of the shipped strategies file.
    func testTriggerFiresEveryListedStrategyAndReportsItsLatency() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/strategies.json").path
        let server = try TestServer { $0.pipeline.strategiesFile = shipped }
        defer { server.stop() }
        let listed = try XCTUnwrap(server.get("/api/v1/strategies").json?["items"] as? [[String: Any]])
        let names = listed.filter { $0["enabled"] as? Bool == true }.compactMap { $0["name"] as? String }
        XCTAssertTrue(listed.contains { $0["kind"] as? String == "rule" }, "the shipped file has rules: \(names)")
        for strategy in names {
            let run = try runDongfeng(["trigger", "--strategy", strategy, "--json"] + target(server))
            XCTAssertEqual(run.status, 0, "\(strategy): \(run.stdout) \(run.stderr)")
            guard run.status == 0 else { continue }
            let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
            let latency = try XCTUnwrap(result["latency_ms"] as? Double)
            XCTAssertTrue(latency > 0 && latency < 10_000, "\(strategy) latency \(latency) ms")
            let opportunity = try XCTUnwrap((result["opportunity"] as? [String: Any])?["payload"] as? [String: Any])
            XCTAssertTrue((opportunity["strategies"] as? [String] ?? []).contains(strategy), "\(strategy): \(opportunity)")
            XCTAssertEqual(opportunity["status"] as? String, "new", strategy)
            XCTAssertEqual((result["signal"] as? [String: Any]).flatMap { $0["payload"] as? [String: Any] }?["strategy"] as? String, strategy)
            let search = try XCTUnwrap(result["search"] as? [String: Any], strategy)
            XCTAssertLessThan(search["cpu_ms"] as? Double ?? .infinity, 3000, strategy)
            // The opportunity is the server's own: REST has it under the same id.
            let id = try XCTUnwrap(opportunity["id"] as? String)
            XCTAssertEqual(try server.get("/api/v1/opportunities/\(id)").status, 200)
        }
        // The readable form names the strategy, how the path was found and the latency.
        let text = try runDongfeng(["trigger", "--strategy", "pullback_in_uptrend", "--symbol", "TRIG.TEXT"] + target(server))
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("opportunity") && text.stdout.contains("TRIG.TEXT") && text.stdout.contains("latency:")
                      && text.stdout.contains("path: searched"), text.stdout)
        // Unknown strategies are refused with the list of those the server runs.
        let unknown = try runDongfeng(["trigger", "--strategy", "astrology"] + target(server))
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("rsi_reversal") && unknown.stderr.contains("ema_trend_cross_down"), unknown.stderr)
    }

    /// A rule that can never hold fails within the budget, naming the part and the closest value.
    func testTriggerExplainsARuleThatCannotFire() throws {
        let server = try TestServer()
        defer { server.stop() }
        let body = #"{"when":"rsi_14 > 100 && ema_12 > ema_26"}"#
        XCTAssertEqual(try server.request("PUT /api/v1/strategies/pullback_in_uptrend HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").status, 200)
        let started = Date()
        let run = try runDongfeng(["trigger", "--strategy", "pullback_in_uptrend", "--budget", "0.5"] + target(server))
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertTrue(run.stderr.contains("`rsi_14 > 100` was never true; closest: rsi_14 = "), run.stderr)
        XCTAssertFalse(run.stderr.contains("`ema_12 > ema_26` was never true"), run.stderr)
    }

    func testTriggerSaysWhenTheStrategyIsDisabled() throws {
        let server = try TestServer()
        defer { server.stop() }
        let body = #"{"enabled":false}"#
        XCTAssertEqual(try server.request("PUT /api/v1/strategies/volume_spike HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n\(body)").status, 200)
        let run = try runDongfeng(["trigger", "--strategy", "volume_spike"] + target(server))
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("disabled"), run.stderr)
    }

    func testWatchStreamsEventsAndResumesAfterAServerRestartWithoutGapOrDuplicate() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-watch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        var first: TestServer? = try TestServer { $0.dataDir = data.path }
        let port = first!.port
        let cert = try String(contentsOfFile: first!.certificatePath, encoding: .utf8)
        let certFile = data.appendingPathComponent("ca.pem")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try cert.write(to: certFile, atomically: true, encoding: .utf8)
        let keyCopy = data.appendingPathComponent("certs")
        try FileManager.default.copyItem(at: first!.directory.appendingPathComponent("certs"), to: keyCopy)

        // Events before the watcher starts: it replays them from seq 0.
        let a = try runDongfeng(["trigger", "--strategy", "momentum_breakout", "--json", "--url", "https://127.0.0.1:\(port)", "--cacert", certFile.path])
        XCTAssertEqual(a.status, 0, a.stderr)

        let process = Process()
        process.executableURL = try dongfengExecutable()
        process.arguments = ["watch", "--channels", "signals,opportunities", "--since-seq", "0", "--json", "--count", "4",
                             "--url", "https://127.0.0.1:\(port)", "--cacert", certFile.path]
        process.environment = ["NO_COLOR": "1", "PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        usleep(500_000)

        // The server goes away and comes back on the same port and data directory.
        first?.stop()
        first = nil
        usleep(300_000)
        let second = try TestServer {
            $0.dataDir = data.path
            $0.server.port = port
            $0.tls.certDir = keyCopy.path
        }
        defer { second.stop() }
        let b = try runDongfeng(["trigger", "--strategy", "volume_spike", "--json", "--url", "https://127.0.0.1:\(port)",
                                 "--cacert", certFile.path])
        XCTAssertEqual(b.status, 0, b.stderr)

        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(process.isRunning, "watch stops after --count events")
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(lines.count, 4, lines.joined(separator: "\n") + errors)
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let seqs = events.compactMap { ($0["seq"] as? NSNumber)?.uint64Value }
        XCTAssertEqual(seqs, [1, 2, 3, 4], "every event once, in order, across the restart:\n\(lines)\n\(errors)")
        XCTAssertTrue(errors.contains("reconnecting"), errors)
        let strategies = events.compactMap { ($0["payload"] as? [String: Any])?["strategy"] as? String }
        XCTAssertEqual(strategies, ["momentum_breakout", "volume_spike"])
    }

    func testTopRendersInAnEightyByTwentyFourTerminalAndQuitsOnQ() throws {
        let tmux = try requireTool(runTool("tmux", ["-V"]), "tmux")
        XCTAssertEqual(tmux.status, 0)
        let server = try TestServer { $0.feed = "simulator" }
        defer { server.stop() }
        let session = "dftop\(getpid())\(Int.random(in: 0..<100_000))"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(session)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let marker = dir.appendingPathComponent("exit"), screenFile = dir.appendingPathComponent("screen")
        // tmux through the shell, its output to files: the tmux server it starts outlives the call
        // and must hold none of this process's pipes (Process would wait on them).
        func shell(_ command: String) -> Int32 { system(command + " </dev/null >/dev/null 2>&1") }
        let command = ([try dongfengExecutable().path, "top", "--interval", "0.5"] + target(server)).joined(separator: " ")
            + "; echo $? > \(marker.path); sleep 30"
        XCTAssertEqual(shell("tmux new-session -d -s \(session) -x 80 -y 24 '\(command)'"), 0)
        defer { _ = shell("tmux kill-session -t \(session)") }
        var screen = ""
        for _ in 0..<60 {
            usleep(250_000)
            _ = system("tmux capture-pane -p -t \(session) > \(screenFile.path) 2>/dev/null </dev/null")
            screen = (try? String(contentsOf: screenFile, encoding: .utf8)) ?? ""
            if screen.contains("tick → opportunity") && screen.contains("ticks/s") && !screen.contains("ticks/s -") { break }
        }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(screen.contains("dongfeng top"), screen)
        XCTAssertTrue(screen.contains("ticks/s") && screen.contains("tick → opportunity") && screen.contains("http request"), screen)
        XCTAssertTrue(screen.contains("status ok") || screen.contains("status degraded"), screen)
        XCTAssertLessThanOrEqual(lines.count, 25, "fits 24 rows:\n\(screen)")
        XCTAssertTrue(lines.allSatisfy { $0.count <= 80 }, "fits 80 columns:\n\(screen)")
        // Live: a simulator at a few hundred ticks a second shows a non-zero rate.
        let rateLine = lines.first { $0.hasPrefix("ticks/s") }.map(String.init) ?? ""
        XCTAssertFalse(rateLine.hasPrefix("ticks/s 0 "), rateLine)
        XCTAssertEqual(shell("tmux send-keys -t \(session) q"), 0)
        var exit = ""
        for _ in 0..<40 where exit.isEmpty {
            usleep(100_000)
            exit = (try? String(contentsOf: marker, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        XCTAssertEqual(exit, "0", "q quits cleanly")
    }
}
