import Foundation
import Gateway
import TestSupport
import XCTest

/// `feed = replay:FILE`: a recorded file drives the live pipeline at a multiple of its own clock —
/// daily OHLCV bars come back as the same bars, on the venue's trading days; a tick file ends
/// with `feed_state: finished` in /admin/health and no stale-feed storm; `loop` plays it again
/// a week later.
final class ReplayFeedTests: XCTestCase {
    private func write(_ text: String, _ name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    private func pipeline(_ server: TestServer) throws -> [String: Any] {
        try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])
    }

    private func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
        for _ in 0..<300 {
            if try condition() { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    func testDailyBarsReplayAsTheSameBarsOnTradingDays() throws {
        let csv = """
            Date,Open,High,Low,Close,Volume
            2025-03-03,1500.00,1520.00,1490.00,1510.00,120000
            2025-03-04,1510.00,1515.00,1480.00,1485.50,98000
            2025-03-05,1485.50,1530.00,1485.00,1528.00,150000
            2025-03-06,1528.00,1540.00,1500.00,1502.00,130000
            2025-03-07,1502.00,1506.00,1470.00,1471.00,90000

            """
        let file = try write(csv, "600519.SH.csv")
        let server = try TestServer {
            $0.pipeline.interval = "1d"
            $0.markets.enabled = true
            $0.feed = "replay:\(file)"
            $0.replay.speed = 1_000_000
        }
        defer { server.stop() }
        try waitFor("the replay to finish") { try pipeline(server)["feed_state"] as? String == "finished" }
        try waitFor("the last bar to close") { try pipeline(server)["bars"] as? Int == 5 }
        let symbol = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let bars = try XCTUnwrap(server.get("/api/v1/symbols/\(symbol)/bars?limit=10").json?["items"] as? [[String: Any]])
            .sorted { ($0["start"] as! Int) < ($1["start"] as! Int) }
        XCTAssertEqual(bars.count, 5)
        XCTAssertEqual(bars.map { $0["close"] as? Double }, [1510, 1485.5, 1528, 1502, 1471])
        XCTAssertEqual(bars.map { $0["high"] as? Double }, [1520, 1515, 1530, 1540, 1506])
        XCTAssertEqual(bars.map { $0["low"] as? Double }, [1490, 1480, 1485, 1500, 1470])
        XCTAssertEqual(bars.map { $0["volume"] as? Double }, [120000, 98000, 150000, 130000, 90000])
        XCTAssertEqual(bars.first?["start"] as? Int, 1_740_931_200_000, "2025-03-03 in Shanghai: 2025-03-02T16:00Z")
        let health = try XCTUnwrap(server.get("/admin/health").json)
        let feed = try XCTUnwrap((health["components"] as? [String: Any])?["feed"] as? [String: Any])
        XCTAssertEqual(feed["status"] as? String, "ok")
        XCTAssertTrue((feed["detail"] as? String ?? "").hasPrefix("finished"), "\(feed)")
        XCTAssertEqual(health["status"] as? String, "ok", "a finished replay is not a fault")
    }

    func testATickFileEndsQuietlyAndLoopsAWeekLater() throws {
        var csv = "ts,symbol,price,volume\n"
        let t0: Int64 = 1_741_053_600_000  // 2025-03-04T02:00:00Z, 10:00 in Shanghai
        for i in 0..<120 { csv += "\(t0 + Int64(i) * 5_000),BTC-USDT,\(90_000 + Double(i % 7) * 10),1\n" }
        let file = try write(csv, "ticks.csv")
        let once = try TestServer {
            $0.pipeline.interval = "1m"
            $0.feed = "replay:\(file)"
            $0.replay.speed = 600
        }
        defer { once.stop() }
        try waitFor("the replay to finish") { try pipeline(once)["feed_state"] as? String == "finished" }
        XCTAssertEqual(try pipeline(once)["ticks"] as? Int, 120)
        sleep(2)
        let alerts = try XCTUnwrap(once.get("/api/v1/alerts?limit=100").json?["items"] as? [[String: Any]])
        XCTAssertTrue(alerts.filter { $0["kind"] as? String == "stale_feed" }.isEmpty, "no stale feed once the file ended: \(alerts)")
        let bars = try XCTUnwrap(once.get("/api/v1/symbols/BTC-USDT/bars?limit=100").json?["items"] as? [[String: Any]])
        XCTAssertEqual(bars.count, 10, "ten minutes of ticks, every bar closed (the last one's end is 5 s past the last tick)")

        let looping = try TestServer {
            $0.pipeline.interval = "1m"
            $0.feed = "replay:\(file)"
            $0.replay.speed = 1_000_000
            $0.replay.loop = true
        }
        defer { looping.stop() }
        try waitFor("a second pass") { (try pipeline(looping)["ticks"] as? Int ?? 0) > 240 }
        XCTAssertEqual(try pipeline(looping)["out_of_order"] as? Int, 0, "each pass later than the last")
        XCTAssertEqual(try pipeline(looping)["feed_state"] as? String, "running")
        let starts = try XCTUnwrap(looping.get("/api/v1/symbols/BTC-USDT/bars?limit=1000").json?["items"] as? [[String: Any]]).map { $0["start"] as! Int }
        XCTAssertTrue(starts.contains(Int(t0) + 7 * 86_400_000), "the second pass a week later")
    }

    func testAnUnreadableReplayFileRefusesTheStart() {
        XCTAssertThrowsError(try TestServer { $0.feed = "replay:/nonexistent/ticks.csv" }) {
            XCTAssertTrue("\($0)".contains("feed replay:/nonexistent/ticks.csv: cannot read"), "\($0)")
        }
    }
}
