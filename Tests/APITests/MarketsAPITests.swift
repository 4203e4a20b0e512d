import Foundation
import Gateway
import TestSupport
import XCTest

/// A server with markets on (the shipped Config/markets.json and holidays): ticks posted over
/// REST make the bars each venue's own charts draw — across Shanghai's lunch break, New York's
/// DST change and a crypto weekend — off-session ticks are flagged, and a bad markets file
/// refuses the start, naming its key.
final class MarketsAPITests: XCTestCase {
    private func post(_ server: TestServer, _ ticks: [(String, String, Double)]) throws {
        let body = ticks.map { symbol, time, price in
            let ts = Int64((ISO8601DateFormatter().date(from: time)!.timeIntervalSince1970 * 1000).rounded())
            return #"{"symbol":"\#(symbol)","ts":\#(ts),"price":\#(price),"volume":100}"#
        }.joined(separator: "\n")
        let r = try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertEqual(r.status, 202, r.text)
    }

    private func bars(_ server: TestServer, _ symbol: String, count: Int) throws -> [String] {
        let formatter = ISO8601DateFormatter()
        for _ in 0..<200 {
            let items = try XCTUnwrap(server.get("/api/v1/symbols/\(symbol)/bars?limit=100").json?["items"] as? [[String: Any]])
            if items.count >= count {
                return items.map { formatter.string(from: Date(timeIntervalSince1970: Double($0["start"] as! Int) / 1000)) }.sorted()
            }
            usleep(50_000)
        }
        XCTFail("\(symbol): fewer than \(count) bars")
        return []
    }

    func testBarsFollowEachVenuesSessions() throws {
        let server = try TestServer {
            $0.pipeline.interval = "1h"
            $0.markets.enabled = true
        }
        defer { server.stop() }
        try post(server, [
            ("600519.SH", "2025-03-04T01:20:00Z", 1500), ("600519.SH", "2025-03-04T02:00:00Z", 1501),  // 09:20 auction, 10:00
            ("600519.SH", "2025-03-04T03:29:00Z", 1502), ("600519.SH", "2025-03-04T04:00:00Z", 1503),  // 11:29, 12:00 lunch
            ("600519.SH", "2025-03-04T05:01:00Z", 1504), ("600519.SH", "2025-03-04T06:59:00Z", 1505),  // 13:01, 14:59
            ("AAPL", "2025-03-07T14:31:00Z", 230), ("AAPL", "2025-03-07T20:59:00Z", 231),             // Friday, EST
            ("AAPL", "2025-03-10T13:31:00Z", 232), ("AAPL", "2025-03-10T19:59:00Z", 233),             // Monday, EDT
            ("BTC-USDT", "2025-03-08T10:15:00Z", 90_000), ("BTC-USDT", "2025-03-08T11:15:00Z", 90_100),  // Saturday
            ("BTC-USDT", "2025-03-08T12:15:00Z", 90_200),
        ])
        XCTAssertEqual(try bars(server, "600519.SH", count: 4), ["2025-03-04T01:30:00Z", "2025-03-04T02:30:00Z",
                                                                 "2025-03-04T05:00:00Z", "2025-03-04T06:00:00Z"])
        XCTAssertEqual(try bars(server, "AAPL", count: 4), ["2025-03-07T14:30:00Z", "2025-03-07T20:30:00Z",
                                                            "2025-03-10T13:30:00Z", "2025-03-10T19:30:00Z"])
        XCTAssertEqual(try bars(server, "BTC-USDT", count: 3), ["2025-03-08T10:00:00Z", "2025-03-08T11:00:00Z", "2025-03-08T12:00:00Z"])
        let alerts = try XCTUnwrap(server.get("/api/v1/alerts?symbol=600519.SH").json?["items"] as? [[String: Any]])
        XCTAssertEqual(alerts.filter { $0["kind"] as? String == "off_session" }.count, 1, "the 12:00 tick: \(alerts)")
    }

    func testABadMarketsFileRefusesTheStartNamingTheKey() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("markets-\(UUID().uuidString).json")
        try #"{"venues": {"SSE": {"sessions": ["09:30-11:30", "11:00-15:00"]}}}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try TestServer {
            $0.markets.enabled = true
            $0.markets.file = file.path
        }) { error in
            XCTAssertTrue("\(error)".contains("venues.SSE.sessions: session 09:30-11:30 overlaps session 11:00-15:00"), "\(error)")
        }
    }
}
