import Foundation
import TestSupport
import XCTest

/// Live signal scoring over REST and Prometheus: signals carry their forward returns once the
/// bars after them close, and each strategy's scorecard moves with them.
final class LiveScoringTests: XCTestCase {
    private func post(_ server: TestServer, _ body: String) throws -> TestResponse {
        try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    private func settle(_ server: TestServer, ticks: Int) throws {
        var last = -1
        for _ in 0..<300 {
            let pipeline = try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])
            let bars = pipeline["bars"] as? Int ?? 0
            if (pipeline["ticks"] as? Int ?? 0) >= ticks && bars == last { return }
            last = bars
            usleep(50_000)
        }
        XCTFail("the pipeline did not settle")
    }

    private func scored(_ server: TestServer) throws -> [String: Int] {
        let items = try XCTUnwrap(server.get("/api/v1/strategies").json?["items"] as? [[String: Any]])
        var out: [String: Int] = [:]
        for item in items {
            let score = try XCTUnwrap(item["live_score"] as? [String: Any], "every strategy has a live_score")
            XCTAssertEqual((score["horizons"] as? [[String: Any]])?.map { $0["bars"] as? Int }, [1, 3])
            out[item["name"] as! String] = score["scored"] as? Int
        }
        return out
    }

    func testSignalsCarryOutcomesAndScorecardsMoveAsBarsClose() throws {
        let server = try TestServer {
            $0.pipeline.interval = "1s"
            $0.pipeline.scoreHorizons = "1,3"
        }
        defer { server.stop() }
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 3000)).status, 202)
        try settle(server, ticks: 3000)
        let first = try scored(server)
        XCTAssertGreaterThan(first.values.reduce(0, +), 0, "\(first)")

        // Each known outcome is the close 1 or 3 bars later over the signal's price, minus 1, signed.
        // The bars are read first and the signals after: a bar closing by the wall clock between
        // the two reads then only adds outcomes, and every bar read has its outcomes stored
        // (outcomes reach the store before the bars that complete them).
        let symbols = Set(try XCTUnwrap(server.get("/api/v1/signals?limit=1000").json?["items"] as? [[String: Any]])
            .map { $0["symbol"] as! String })
        var bars: [String: [[String: Any]]] = [:]
        for symbol in symbols {
            bars[symbol] = try XCTUnwrap(server.get("/api/v1/symbols/\(symbol)/bars?limit=1000").json?["items"] as? [[String: Any]])
        }
        let signals = try XCTUnwrap(server.get("/api/v1/signals?limit=1000").json?["items"] as? [[String: Any]])
        var checked = 0
        for s in signals {
            let symbol = s["symbol"] as! String
            guard let series = bars[symbol] else { continue }  // a symbol whose first signal came after the bars were read
            let outcome = try XCTUnwrap(s["outcome"] as? [[String: Any]])
            XCTAssertEqual(outcome.map { $0["bars"] as? Int }, [1, 3])
            guard let at = series.firstIndex(where: { ($0["start"] as! Int) + 1000 == s["ts"] as! Int }) else { continue }
            for o in outcome {
                let h = o["bars"] as! Int
                guard at + h < series.count else {
                    // Not among the bars read: unknown then (null), or known by now.
                    XCTAssertTrue(o["return"] is NSNull || o["return"] is Double, "null or a number")
                    continue
                }
                let forward = (series[at + h]["close"] as! Double) / (s["price"] as! Double) - 1
                let expected = s["direction"] as? String == "long" ? forward : -forward
                XCTAssertEqual(try XCTUnwrap(o["return"] as? Double), expected, accuracy: 1e-12)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10)

        // More bars: the scorecards move.
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 3000, start: 3000)).status, 202)
        try settle(server, ticks: 6000)
        let second = try scored(server)
        XCTAssertGreaterThan(second.values.reduce(0, +), first.values.reduce(0, +))

        let metrics = try server.get("/admin/metrics").text
        for family in ["dongfeng_strategy_hit_rate", "dongfeng_strategy_forward_return_bps", "dongfeng_strategy_scored_signals"] {
            XCTAssertTrue(metrics.contains("\(family){strategy=\""), family)
        }
        XCTAssertTrue(metrics.contains("horizon=\"3\"}"))
    }
}
