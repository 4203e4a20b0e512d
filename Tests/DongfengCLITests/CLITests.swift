import Foundation
import TestSupport
import XCTest

/// The `dongfeng` executable as an operator runs it: exit codes, messages, signals.
final class CLITests: XCTestCase {
    private func binary() throws -> URL { try dongfengExecutable() }

    private func run(_ arguments: [String], environment: [String: String] = [:], cwd: URL? = nil) throws
        -> (status: Int32, output: String)
    {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DFP_") }
        env.merge(environment) { $1 }
        process.environment = env
        if let cwd { process.currentDirectoryURL = cwd }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func testInvalidConfigNamesTheKeyAndExitsWith2() throws {
        let bad = try run(["serve", "--port", "70000"])
        XCTAssertEqual(bad.status, 2, bad.output)
        XCTAssertTrue(bad.output.contains("server.port"), bad.output)
        let env = try run(["serve"], environment: ["DFP_HTTP_MAX_BODY_BYTES": "lots"])
        XCTAssertEqual(env.status, 2, env.output)
        XCTAssertTrue(env.output.contains("http.max_body_bytes") && env.output.contains("DFP_HTTP_MAX_BODY_BYTES"), env.output)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.json")
        try #"{"server": {"prot": 8443}}"#.write(to: file, atomically: true, encoding: .utf8)
        let typo = try run(["serve", "--config", file.path])
        XCTAssertEqual(typo.status, 2, typo.output)
        XCTAssertTrue(typo.output.contains("server.prot"), typo.output)
    }

    func testGenCertWritesAPrivateKeyOnlyTheOwnerCanRead() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try run(["gen-cert", "--out", dir.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("SHA-256 fingerprint: "), result.output)
        let keyAttributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("dev-key.pem").path)
        XCTAssertEqual((keyAttributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let pem = try String(contentsOf: dir.appendingPathComponent("dev-cert.pem"), encoding: .utf8)
        XCTAssertTrue(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        if let text = try runTool("openssl", ["x509", "-in", dir.appendingPathComponent("dev-cert.pem").path, "-noout", "-text"]) {
            XCTAssertTrue(text.stdout.contains("DNS:localhost"), text.stdout)
            XCTAssertTrue(text.stdout.contains("IP Address:127.0.0.1"), text.stdout)
            XCTAssertTrue(text.stdout.contains("IP Address:0:0:0:0:0:0:0:1"), text.stdout)
            XCTAssertTrue(text.stdout.contains("prime256v1"), text.stdout)
        }
    }

    /// Starts `dongfeng serve` in `dir` (no Config/ there: embedded defaults, certs/ generated
    /// there) and reads its log until it names its port.
    private func startServe(_ arguments: [String], in dir: URL) throws -> (Process, Pipe, Int, String) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = ["serve", "--port", "0", "--feed", "none"] + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DFP_") }
        env["DFP_CONFIG"] = nil
        process.environment = env
        process.currentDirectoryURL = dir
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        var log = ""
        var port: Int?
        let deadline = Date().addingTimeInterval(30)
        while port == nil && Date() < deadline {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            log += String(decoding: data, as: UTF8.self)
            if let range = log.range(of: #"listening on https://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last ?? "")
            }
        }
        guard let port else {
            process.terminate()
            XCTFail("no port in the log:\n\(log)")
            throw XCTSkip("server did not start")
        }
        return (process, pipe, port, log)
    }

    func testServeLogsItsPortServesAndStopsOnSIGTERM() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (process, _, httpsPort, log) = try startServe([], in: dir)
        defer { if process.isRunning { process.terminate() } }
        XCTAssertTrue(log.contains("generated a self-signed development certificate"), log)
        XCTAssertTrue(log.hasPrefix("ts="), "logfmt by default: \(log)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("certs/dev-key.pem").path))
        let client = try TestClient(port: httpsPort)
        try client.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        client.close()
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    /// JSON logs: every line one object; the access log carries the request id the client sent
    /// (and the response echoes it), never a query string; the level changes at runtime.
    func testJSONLogsCarryRequestIdsAndTheLevelChangesAtRuntime() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (process, pipe, port, head) = try startServe(["--log-format", "json", "--access-log"], in: dir)
        defer { if process.isRunning { process.terminate() } }
        func request(_ raw: String) throws -> TestResponse {
            let client = try TestClient(port: port)
            defer { client.close() }
            try client.send(raw)
            return try client.readResponse()
        }
        let traced = try request("GET /health?token=do-not-log-me HTTP/1.1\r\nHost: a\r\nX-Request-Id: cli-trace-7\r\n\r\n")
        XCTAssertEqual(traced.header("X-Request-Id"), "cli-trace-7")
        let body = #"{"level":"warning","access_log":false}"#
        XCTAssertEqual(try request("PUT /admin/log HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.count)\r\n\r\n\(body)").status, 200)
        _ = try request("GET /health HTTP/1.1\r\nHost: a\r\nX-Request-Id: after-warning\r\n\r\n")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let all = (head + log).trimmingCharacters(in: .newlines)
        var access: [[String: Any]] = []
        for line in all.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            XCTAssertNotNil(object["ts"] as? String)
            XCTAssertNotNil(object["level"] as? String)
            XCTAssertNotNil(object["msg"] as? String)
            if object["msg"] as? String == "request" { access.append(object) }
        }
        XCTAssertEqual(access.first?["request_id"] as? String, "cli-trace-7", "\(access)")
        XCTAssertEqual(access.first?["path"] as? String, "/health")
        XCTAssertEqual(access.first?["status"] as? String, "200")
        XCTAssertFalse(log.contains("do-not-log-me"), "query strings are not logged")
        XCTAssertFalse(log.contains("after-warning"), "nothing at info after the level went to warning")
        XCTAssertTrue(log.contains("log level set to warning"), log)
    }
}

/// `dongfeng replay` as a user runs it.
final class ReplayCLITests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func binary() throws -> String { try ExternalScripts.binary() }

    private func run(_ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try CommandRun.run(args, in: root)
    }

    private func write(_ text: String, _ name: String) throws -> String {
        try CommandRun.write(text, name, cleanedUpBy: self)
    }

    /// `--cache`: the first run parses and keeps the ticks, later runs read them back — the same
    /// events byte for byte and the same rejected rows; a changed or damaged file is parsed again.
    func testReplayCacheGivesTheSameEventsAndFollowsTheFile() throws {
        var csv = "ts,symbol,price,volume,bid,ask\n"
        for i in 0..<6_000 {
            let symbol = ["600519.SH", "000001.SZ", "AAPL"][i % 3]
            let price = 100 + Double((i * 7919) % 97) / 10
            csv += "\(1_732_500_000_000 + Int64(i) * 1_000),\(symbol),\(price),\(100 + i % 7),\(i % 4 == 0 ? "\(price - 0.01)" : ""),\(i % 4 == 0 ? "\(price + 0.01)" : "")\n"
            if i == 4_000 { csv += "1732504000500,BAD SYMBOL,1,1,,\n" }
        }
        let input = try write(csv, "cached-ticks.csv")
        let cache = input + ".dfcache"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: cache) }
        let args = ["replay", "--input", input, "--interval", "1m", "--emit", "bars,signals,opportunities,risk_alerts"]
        let plain = try run(args)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache), "no cache without --cache")
        let first = try run(args + ["--cache"])
        XCTAssertTrue(first.stderr.contains("cache: wrote \(cache)"), first.stderr)
        let second = try run(args + ["--cache"])
        XCTAssertTrue(second.stderr.contains("cache: read \(cache)"), second.stderr)
        for r in [first, second] {
            XCTAssertEqual(r.stdout, plain.stdout, "a cached replay writes what a parse does")
            XCTAssertTrue(r.stderr.contains("6000 ticks (1 rejected"), r.stderr)
            XCTAssertTrue(r.stderr.contains("rejected tick 4001: symbol: line 4003"), r.stderr)
        }
        // Damaged: parsed again and replaced.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: cache))
        try handle.truncate(atOffset: 4_000)
        try handle.close()
        let repaired = try run(args + ["--cache"])
        XCTAssertTrue(repaired.stderr.contains("cache: wrote"), repaired.stderr)
        XCTAssertEqual(repaired.stdout, plain.stdout)
        // Changed: the new ticks, not the cached ones.
        try (csv + "1732506100000,AAPL,120,5,,\n").write(toFile: input, atomically: true, encoding: .utf8)
        let changed = try run(args + ["--cache"])
        XCTAssertTrue(changed.stderr.contains("cache: wrote"), changed.stderr)
        XCTAssertTrue(changed.stderr.contains("6001 ticks (1 rejected"), changed.stderr)
    }

    func testReplayIsByteIdenticalAndReportsBadRows() throws {
        var csv = "ts,symbol,price,volume,bid,ask\n"
        var price = 1688.5
        for i in 0..<20_000 {
            price *= 1 + (Double((i * 7919) % 41) - 20) / 10_000
            csv += "\(1_732_500_000_000 + Int64(i) * 1_500),600519.SH,\(String(format: "%.2f", price)),\(100 * (1 + i % 13)),,\n"
        }
        csv += "1732600000000,600519.SH,-5,100,,\n"
        let input = try write(csv, "ticks.csv")
        let a = try run(["replay", "--input", input, "--interval", "1m"])
        let b = try run(["replay", "--input", input, "--interval", "1m"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout, "two replays must be byte-identical")
        XCTAssertTrue(a.stderr.contains("20000 ticks (1 rejected"), a.stderr)
        XCTAssertTrue(a.stderr.contains("price: line 20002"), a.stderr)
        let lines = String(decoding: a.stdout, as: UTF8.self).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 100)
        var lastSeq: UInt64 = 0
        for line in lines {
            let event = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let type = try XCTUnwrap(event["type"] as? String)
            XCTAssertTrue(["bar", "features", "signal", "opportunity", "risk_alert"].contains(type), type)
            XCTAssertNotNil(event["payload"] as? [String: Any])
            if let seq = event["seq"] as? UInt64 {
                XCTAssertGreaterThan(seq, lastSeq)
                lastSeq = seq
            }
        }
    }

    /// `--markets on`: the same ticks make A-share session bars (none across lunch), New York
    /// hours and crypto clock bars; off-session ticks are flagged; a bad markets file exits 2.
    func testReplayOnVenueClocks() throws {
        let csv = """
            ts,symbol,price,volume
            2025-03-04T01:25:00Z,600519.SH,1500.00,100
            2025-03-04T03:20:00Z,600519.SH,1501.00,100
            2025-03-04T04:30:00Z,600519.SH,1502.00,100
            2025-03-04T05:10:00Z,600519.SH,1503.00,100
            2025-03-04T13:40:00Z,AAPL,230.00,10
            2025-03-04T14:40:00Z,AAPL,231.00,10
            2025-03-04T23:10:00Z,BTC-USDT,90000.5,1

            """
        let input = try write(csv, "venues.csv")
        func bars(_ extra: [String]) throws -> [String] {
            let r = try run(["replay", "--input", input, "--interval", "2h", "--emit", "bars,risk_alerts"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            return String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
                guard let e = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let p = e["payload"] as? [String: Any] else { return nil }
                if e["type"] as? String == "risk_alert" { return "\(p["kind"]!) \(p["symbol"]!)" }
                let start = Date(timeIntervalSince1970: Double(p["start"] as! Int) / 1000)
                return "\(p["symbol"]!) \(ISO8601DateFormatter().string(from: start))"
            }
        }
        // 09:25 is past the auction and before the open, 12:30 is lunch, 08:40 New York is before the open.
        XCTAssertEqual(try bars(["--markets", "on"]), [
            "off_session 600519.SH", "off_session 600519.SH", "600519.SH 2025-03-04T01:30:00Z", "off_session AAPL",
            "600519.SH 2025-03-04T05:00:00Z", "AAPL 2025-03-04T14:30:00Z", "BTC-USDT 2025-03-04T22:00:00Z",
        ])
        XCTAssertEqual(try bars([]).filter { $0.hasPrefix("600519.SH") }, ["600519.SH 2025-03-04T00:00:00Z", "600519.SH 2025-03-04T02:00:00Z",
                                                                          "600519.SH 2025-03-04T04:00:00Z"],
                       "off: UTC clock buckets, one across lunch")
        let bad = try write(#"{"symbols": {"X": "NOWHERE"}}"#, "m.json")
        let r = try run(["replay", "--input", input, "--markets", bad])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--markets: symbols.X: unknown venue NOWHERE"), r.stderr)
    }

    func testNothingReadableExitsNonZero() throws {
        let bad = try write("symbol,price\nA,1\n", "bad.csv")
        let r = try run(["replay", "--input", bad])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("CSV header must name ts"), r.stderr)
        XCTAssertEqual(try run(["replay", "--input", bad, "--interval", "fortnight"]).status, 2)
        XCTAssertEqual(try run(["replay", "--input", bad, "--emit", "bars,gossip"]).status, 2)
        let badCall = try run(["replay", "--input", bad, "--indicator", "sma(close,0)"])
        XCTAssertEqual(badCall.status, 2)
        XCTAssertTrue(badCall.stderr.contains("--indicator sma(close,0): n must be a whole number from 2 to 10000, got 0"), badCall.stderr)
    }

    /// Random ticks through the replay, every feature against TA-Lib (Python venv from Tests/run.sh).
    func testReplayFeaturesAgreeWithTALib() throws {
        let python = try ExternalScripts.python(importing: ["talib"])
        for seed in ["5", "42"] {
            let result = try ExternalScripts.run(python, [root.appendingPathComponent("Tests/e2e/replay_vs_talib.py").path,
                                                          try binary(), seed])
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertTrue(result.output.contains("0 disagreements"), result.output)
        }
    }
}
