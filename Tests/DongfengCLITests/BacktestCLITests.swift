import Foundation
import TestSupport
import XCTest

/// `dongfeng backtest` as a user runs it: on OHLCV files, against backtesting.py, its report in
/// headless chromium, and its refusals.
final class BacktestCLITests: XCTestCase {
    private let root = ExternalScripts.root

    private func run(_ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try CommandRun.run(args, in: root)
    }

    /// Daily bars, newest first as some vendors write them, with one bad row.
    private func bars(_ count: Int) -> String {
        var rows: [String] = []
        var price = 50.0
        for i in 0..<count {
            let open = price * (1 + Double((i * 7919) % 13 - 6) / 1000)
            let close = open * (1 + Double((i * 104_729) % 41 - 20) / 1000)
            let day = Date(timeIntervalSince1970: 1_577_836_800 + Double(i) * 86_400)
            let date = ISO8601DateFormatter.string(from: day, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
            rows.append("\(date),\(open),\(max(open, close) * 1.01),\(min(open, close) * 0.99),\(close),\(1000 + i)")
            price = close
        }
        return "Date,Open,High,Low,Close,Volume\n" + rows.reversed().joined(separator: "\n") + "\n2021-13-01,1,1,1,1,1\n"
    }

    func testBacktestIsByteIdenticalAndPrintsItsTable() throws {
        let input = try CommandRun.write(bars(600), "MINE.csv", cleanedUpBy: self)
        let a = FileManager.default.temporaryDirectory.appendingPathComponent("bt-\(UUID().uuidString).json").path
        let b = a + ".2"
        addTeardownBlock { for f in [a, b] { try? FileManager.default.removeItem(atPath: f) } }
        let first = try run(["backtest", "--input", input, "--strategies", "macd_cross,rsi_reversal", "--symbol", "MINE", "--cost-bps", "5", "--json", a])
        let second = try run(["backtest", "--input", input, "--strategies", "macd_cross,rsi_reversal", "--symbol", "MINE", "--cost-bps", "5", "--json", b])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        XCTAssertTrue(first.stderr.contains("date: line 602: bad date"), first.stderr)
        XCTAssertTrue(first.stderr.contains("600 bars of 1 symbols (1 rows rejected)"), first.stderr)
        let table = String(decoding: first.stdout, as: UTF8.self)
        let lines = table.split(separator: "\n")
        for name in ["macd_cross ", "rsi_reversal ", "buy & hold "] {
            XCTAssertTrue(lines.contains { $0.hasPrefix(name) && $0.contains(" MINE ") && $0.contains("%") }, "\(name): \(table)")
        }
        XCTAssertTrue(table.contains("hit@20"), table)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: a))) as? [String: Any])
        XCTAssertEqual((json["settings"] as? [String: Any])?["strategies"] as? [String], ["rsi_reversal", "macd_cross"])
        XCTAssertEqual((json["input"] as? [String: Any])?["interval"] as? String, "1d")
    }

    func testBacktestRefusesBadOptionsByName() throws {
        let input = try CommandRun.write(bars(50), "few.csv", cleanedUpBy: self)
        let cases: [([String], String)] = [
            (["--strategies", "nope"], "--strategies: no strategy nope"),
            (["--horizons", "0,5"], "--horizons \"0,5\""),
            (["--interval", "1h"], "--interval 1h is finer than the file's bars (1d)"),
            (["--cost-bps=-1"], "--cost-bps must be 0…10000"),
            (["--utc-offset", "8"], "--utc-offset \"8\""),
            (["--strategies-file", "/nonexistent.json"], "cannot read /nonexistent.json"),
        ]
        for (extra, message) in cases {
            let r = try run(["backtest", "--input", input] + extra)
            XCTAssertEqual(r.status, 2, "\(extra)")
            XCTAssertTrue(r.stderr.contains(message), "\(extra): \(r.stderr)")
        }
        let missing = try run(["backtest", "--input", "/nonexistent.csv"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("cannot open /nonexistent.csv"), missing.stderr)
    }

    func testSweepRanksHoldsOutAndRefusesBadGrids() throws {
        let input = try CommandRun.write(bars(700), "SWEEP.csv", cleanedUpBy: self)
        let rules = try CommandRun.write("""
            {"rules":[{"name":"sma_cross","params":{"fast":10,"slow":30},"when":"crosses_above(sma(close,fast),sma(close,slow))",
                       "exit_when":"crosses_below(sma(close,fast),sma(close,slow))","direction":"long"}]}
            """, "rules.json", cleanedUpBy: self)
        let svg = FileManager.default.temporaryDirectory.appendingPathComponent("heat-\(UUID().uuidString).svg").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: svg) }
        let ok = try run(["sweep", "--input", input, "--strategies-file", rules, "--strategy", "sma_cross", "--param", "fast=5:15:5",
                          "--param", "slow=20:40:10", "--train", "70%", "--heatmap", svg, "--jobs", "2"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let table = String(decoding: ok.stdout, as: UTF8.self)
        let lines = table.split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("sharpe (train)") ?? false, table)
        XCTAssertTrue(lines.first?.contains("sharpe (test)") ?? false, table)
        XCTAssertEqual(lines.count, 10, "a header and the 9 combinations: \(table)")
        XCTAssertTrue(ok.stderr.contains("sweep: 9 combinations (0 refused by the strategy) over 700 bars on 2 threads"), ok.stderr)
        let heat = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertEqual(heat.components(separatedBy: "<rect").count - 1, 9)
        let cases: [([String], String)] = [
            (["--param", "fast=1:200:1", "--param", "slow=1:100:1"], "the grid has 20000 combinations, over the limit of 10000"),
            (["--param", "speed=1:3:1"], "sma_cross has no parameter speed (it has: fast, slow)"),
            (["--param", "fast=30:5:5"], "--param fast: the range 30:5:5 is empty"),
            (["--param", "fast=5:10:5", "--metric", "luck"], "--metric \"luck\""),
            (["--param", "fast=5:10:5", "--train", "0%"], "--train \"0%\""),
            ([], "give at least one --param"),
        ]
        for (extra, message) in cases {
            let r = try run(["sweep", "--input", input, "--strategies-file", rules, "--strategy", "sma_cross"] + extra)
            XCTAssertEqual(r.status, 2, "\(extra)")
            XCTAssertTrue(r.stderr.contains(message), "\(extra): \(r.stderr)")
        }
    }

    /// Tests/e2e/backtest_vs_reference.py: 32 cases over four OHLCV shapes, trades equal to
    /// backtesting.py's (pinned in Tests/run.sh).
    func testTradesAgreeWithBacktestingPy() throws {
        let python = try ExternalScripts.python(importing: ["talib", "backtesting"])
        for seed in ["7", "3"] {
            let result = try ExternalScripts.run(python, [root.appendingPathComponent("Tests/e2e/backtest_vs_reference.py").path,
                                                          try ExternalScripts.binary(), seed])
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertTrue(result.output.contains(" 0 failing"), result.output)
        }
    }

    /// Tests/e2e/report_test.py: the HTML report in headless chromium.
    func testReportInHeadlessChromium() throws {
        let python = try ExternalScripts.python(importing: ["selenium"])
        if !["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains(where: FileManager.default.isExecutableFile(atPath:)) {
            try ExternalScripts.missing("chromium (Debian package chromium)")
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        print("report screenshot: \(output.path)")
        let result = try ExternalScripts.run(python, [root.appendingPathComponent("Tests/e2e/report_test.py").path,
                                                      try ExternalScripts.binary(), output.path])
        print(result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains(" passed, 0 failed"), result.output)
    }

    /// `--cache`: the second run reads the parse kept beside the file and reports exactly what the
    /// first did; a changed file, other options or a damaged cache are parsed again.
    func testCacheGivesTheSameBacktestAndFollowsTheFile() throws {
        let input = try CommandRun.write(bars(300), "CACHED.csv", cleanedUpBy: self)
        let cache = input + ".dfcache"
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString)").path
        addTeardownBlock {
            try? FileManager.default.removeItem(atPath: cache)
            for k in 0..<6 { try? FileManager.default.removeItem(atPath: "\(out).\(k).json") }
        }
        func backtest(_ k: Int, _ extra: [String] = []) throws -> (stderr: String, json: Data) {
            let r = try run(["backtest", "--input", input, "--symbol", "MINE", "--strategies", "macd_cross,rsi_reversal",
                             "--json", "\(out).\(k).json"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            return (r.stderr, try Data(contentsOf: URL(fileURLWithPath: "\(out).\(k).json")))
        }
        let plain = try backtest(0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache), "no cache without --cache")
        let first = try backtest(1, ["--cache"])
        XCTAssertTrue(first.stderr.contains("cache: wrote \(cache)"), first.stderr)
        XCTAssertEqual(first.json, plain.json)
        let second = try backtest(2, ["--cache"])
        XCTAssertTrue(second.stderr.contains("cache: read \(cache)"), second.stderr)
        XCTAssertEqual(second.json, plain.json, "a cached run reports what a parse does")
        XCTAssertTrue(second.stderr.contains("date: line 302: bad date"), second.stderr)
        XCTAssertTrue(second.stderr.contains("300 bars of 1 symbols (1 rows rejected)"), second.stderr)

        // Other reading options: the cache is not theirs.
        let renamed = try backtest(3, ["--cache", "--utc-offset", "+08:00"])
        XCTAssertTrue(renamed.stderr.contains("cache: wrote"), renamed.stderr)
        XCTAssertNotEqual(renamed.json, plain.json)

        // A damaged cache is parsed again, and replaced.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: cache))
        try handle.truncate(atOffset: 100)
        try handle.close()
        let repaired = try backtest(4, ["--cache", "--utc-offset", "+08:00"])
        XCTAssertTrue(repaired.stderr.contains("cache: wrote"), repaired.stderr)
        XCTAssertEqual(repaired.json, renamed.json)

        // The file changed (same options): parsed again, the new bars counted.
        try bars(250).write(toFile: input, atomically: true, encoding: .utf8)
        let changed = try backtest(5, ["--cache", "--utc-offset", "+08:00"])
        XCTAssertTrue(changed.stderr.contains("cache: wrote"), changed.stderr)
        XCTAssertTrue(changed.stderr.contains("250 bars of 1 symbols"), changed.stderr)
    }
}
