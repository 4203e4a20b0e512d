import Foundation
import XCTest

/// `/admin/metrics` parses as Prometheus text (by `prometheus-client`'s own parser) and its
/// counters move with the traffic; admin auth applies.
final class MetricsTests: XCTestCase {
    private func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    func testMetricsParseAndMoveWithTraffic() throws {
        let server = try TestServer()
        defer { server.stop() }
        let before = try server.get("/admin/metrics")
        XCTAssertEqual(before.status, 200)
        XCTAssertEqual(before.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        let body = RESTAPITests.ndjson(count: 3000)
        let posted = try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertEqual(posted.status, 202)
        var after = ""
        for _ in 0..<200 {
            after = try server.get("/admin/metrics").text
            if value(after, "dongfeng_ticks_total") == 3000 { break }
            usleep(20_000)
        }
        XCTAssertEqual(value(before.text, "dongfeng_ticks_total"), 0)
        XCTAssertEqual(value(after, "dongfeng_ticks_total"), 3000)
        XCTAssertGreaterThan(value(after, "dongfeng_bars_total") ?? 0, 0)
        XCTAssertTrue(after.contains("dongfeng_signals_total{strategy=\""), "signals by strategy")
        XCTAssertTrue(after.contains("dongfeng_opportunity_events_total{status=\"new\"}"), "opportunities by status")
        XCTAssertGreaterThan(value(after, "dongfeng_tls_handshakes_total") ?? 0, value(before.text, "dongfeng_tls_handshakes_total") ?? 0)
        XCTAssertNotNil(value(after, "dongfeng_journal_records_total"))

        // Prometheus's own parser reads every family.
        let python = try ExternalScripts.python(importing: ["prometheus_client"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try after.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
            ticks = [s.value for f in families for s in f.samples if s.name == "dongfeng_ticks_total"]
            print(len(families), "families; ticks", ticks)
            sys.exit(0 if len(families) > 20 and ticks == [3000.0] else 1)
            """
        let result = try ExternalScripts.run(python, ["-c", script, file.path])
        XCTAssertEqual(result.status, 0, result.output)
    }

    func testMetricsNeedTheAdminToken() throws {
        let server = try TestServer { $0.admin.token = "metrics-admin-token-0123" }
        defer { server.stop() }
        XCTAssertEqual(try server.get("/admin/metrics").status, 401)
        XCTAssertEqual(try server.get("/admin/metrics", headers: ["Authorization: Bearer wrong-token-wrong-token"]).status, 403)
        XCTAssertEqual(try server.get("/admin/metrics", headers: ["Authorization: Bearer metrics-admin-token-0123"]).status, 200)
    }
}
