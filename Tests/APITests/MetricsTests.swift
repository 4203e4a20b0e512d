import Foundation
import TestSupport
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
        let body = TestTicks.ndjson(count: 3000)
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

    /// The process metrics under the names every Prometheus client exports, the build, ring
    /// capacities and the feed's age (what deploy/prometheus/alerts.yml reads).
    func testProcessBuildRingAndFeedFigures() throws {
        let server = try TestServer()
        defer { server.stop() }
        let text = try server.get("/admin/metrics").text
        let cpu = try XCTUnwrap(value(text, "process_cpu_seconds_total"))
        XCTAssertGreaterThan(cpu, 0)
        XCTAssertTrue(text.contains("# TYPE process_cpu_seconds_total counter"))
        let rss = try XCTUnwrap(value(text, "process_resident_memory_bytes"))
        XCTAssertGreaterThan(rss, 1_000_000)
        XCTAssertGreaterThan(value(text, "process_virtual_memory_bytes") ?? 0, rss)
        // The server's own descriptors: the listening socket, epoll, eventfds, the journal, and
        // this connection; the figure follows open connections.
        let fds = try XCTUnwrap(value(text, "process_open_fds"))
        XCTAssertGreaterThan(fds, 3)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        XCTAssertEqual(value(text, "process_max_fds"), Double(limit.rlim_cur))
        let started = try XCTUnwrap(value(text, "process_start_time_seconds"))
        let now = Date().timeIntervalSince1970
        XCTAssertTrue(started <= now && started > now - 600, "start \(started), now \(now)")
        XCTAssertNotNil(text.range(of: #"dongfeng_build_info\{version="0\.1\.0",commit="[0-9a-f]{12}|unknown"\} 1"#, options: .regularExpression), text)
        XCTAssertNotNil(text.range(of: #"dongfeng_ring_capacity\{ring="in:[^"]+"\} [1-9][0-9]*"#, options: .regularExpression), text)
        XCTAssertNotNil(text.range(of: #"dongfeng_ring_capacity\{ring="out:0"\} [1-9][0-9]*"#, options: .regularExpression))
        // No tick yet: the feed's age is the time since start, and grows.
        let age = try XCTUnwrap(value(text, "dongfeng_feed_last_tick_age_seconds"))
        XCTAssertGreaterThanOrEqual(age, 0)
        XCTAssertEqual(value(text, "dongfeng_feed_paused"), 0)
        usleep(300_000)
        let later = try XCTUnwrap(value(try server.get("/admin/metrics").text, "dongfeng_feed_last_tick_age_seconds"))
        XCTAssertGreaterThanOrEqual(later, age + 0.25)
        // A tick processed: the age drops back near zero.
        let body = TestTicks.ndjson(count: 10)
        let posted = try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertEqual(posted.status, 202)
        let fresh = try XCTUnwrap(value(try server.get("/admin/metrics").text, "dongfeng_feed_last_tick_age_seconds"))
        XCTAssertLessThan(fresh, 0.25)
    }

    /// Stage latencies, HTTP requests by route and status, WebSocket subscribers by channel and
    /// disconnects by close code follow real traffic.
    func testLatencyRequestsAndWebSocketFamiliesFollowTraffic() throws {
        let server = try TestServer()
        defer { server.stop() }
        let ws = try TestWebSocket(port: server.port, path: "/ws?channels=opportunities,signals")
        XCTAssertTrue(ws.handshake.status == 101)
        _ = try ws.nextJSON()  // hello
        _ = try ws.nextJSON()  // subscribed
        var text = try server.get("/admin/metrics").text
        XCTAssertEqual(value(text, #"dongfeng_websocket_subscribers{channel="opportunities"}"#), 1)
        XCTAssertEqual(value(text, #"dongfeng_websocket_subscribers{channel="signals"}"#), 1)
        XCTAssertEqual(value(text, #"dongfeng_stage_latency_seconds_count{stage="tick"}"#), 0)
        XCTAssertTrue(text.contains(#"dongfeng_stage_latency_seconds_recent{stage="tick",quantile="0.99"} NaN"#),
                      "no recent values yet: NaN, not 0")

        let body = TestTicks.ndjson(count: 3000)
        let posted = try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertEqual(posted.status, 202)
        // The stream gets an opportunity: by then its ws_write latency is recorded.
        var gotOpportunity = false
        for _ in 0..<2000 where !gotOpportunity {
            gotOpportunity = try ws.nextJSON()["type"] as? String == "opportunity"
        }
        XCTAssertTrue(gotOpportunity)
        XCTAssertEqual(try server.get("/api/v1/opportunities/no-such-id").status, 404)
        // Invalid ticks are counted by the field at fault.
        let bad = #"{"symbol":"X","ts":1,"price":0,"volume":1}"# + "\n" + #"{"symbol":"X","ts":1,"price":-1,"volume":1}"# + "\nnot json\n"
        XCTAssertEqual(try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(bad.utf8.count)\r\n\r\n\(bad)").status, 202)
        for _ in 0..<200 {
            text = try server.get("/admin/metrics").text
            if value(text, #"dongfeng_stage_latency_seconds_count{stage="tick"}"#) == 3000 { break }
            usleep(20_000)
        }
        XCTAssertEqual(value(text, #"dongfeng_stage_latency_seconds_count{stage="tick"}"#), 3000, "every tick timed")
        XCTAssertEqual(value(text, #"dongfeng_stage_latency_seconds_bucket{stage="tick",le="+Inf"}"#), 3000)
        for stage in ["features", "signal", "opportunity", "ws_write"] {
            let count = value(text, #"dongfeng_stage_latency_seconds_count{stage="\#(stage)"}"#) ?? 0
            XCTAssertGreaterThan(count, 0, stage)
            let p99 = value(text, #"dongfeng_stage_latency_seconds_recent{stage="\#(stage)",quantile="0.99"}"#) ?? -1
            XCTAssertTrue(p99 > 0 && p99 < 10, "\(stage) p99 \(p99) s")
            // Buckets are cumulative: never decreasing, ending at the count.
            var last = 0.0
            for bound in ["1e-06", "0.0001", "0.01", "1", "10", "+Inf"] {
                let n = value(text, #"dongfeng_stage_latency_seconds_bucket{stage="\#(stage)",le="\#(bound)"}"#) ?? -1
                XCTAssertGreaterThanOrEqual(n, last, "\(stage) le=\(bound)")
                last = n
            }
            XCTAssertEqual(last, count)
        }
        XCTAssertEqual(value(text, #"dongfeng_http_requests_total{method="POST",route="/api/v1/ticks",status="202"}"#), 2, "the ticks and the invalid batch")
        XCTAssertEqual(value(text, #"dongfeng_http_requests_total{method="GET",route="/api/v1/opportunities/{id}",status="404"}"#), 1)
        XCTAssertEqual(value(text, #"dongfeng_http_requests_total{method="GET",route="websocket",status="101"}"#), 1)
        XCTAssertGreaterThanOrEqual(value(text, "dongfeng_http_request_duration_seconds_count") ?? 0, 3)
        XCTAssertEqual(value(text, #"dongfeng_ticks_rejected_invalid_total{input="http-0",field="price"}"#), 2)
        XCTAssertEqual(value(text, #"dongfeng_ticks_rejected_invalid_total{input="http-0",field="record"}"#), 1)

        // The client closes with 1000: counted by code, and it leaves the channel gauges.
        try ws.client.send([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2])
        XCTAssertTrue(ws.client.waitForClose())
        ws.client.close()
        for _ in 0..<200 {
            text = try server.get("/admin/metrics").text
            if value(text, #"dongfeng_websocket_disconnects_total{code="1000"}"#) == 1 { break }
            usleep(20_000)
        }
        XCTAssertEqual(value(text, #"dongfeng_websocket_disconnects_total{code="1000"}"#), 1)
        XCTAssertEqual(value(text, #"dongfeng_websocket_subscribers{channel="opportunities"}"#), 0)
    }

    /// The Grafana dashboard shipped in Config/grafana names only series the server exports.
    func testTheGrafanaDashboardUsesOnlyExportedSeries() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("Config/grafana/dongfeng-dashboard.json"))
        let dashboard = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        XCTAssertGreaterThan(expressions.count, 15)
        // Redis configured (on a closed port) so its families exist too.
        let server = try TestServer {
            $0.redis.url = "redis://127.0.0.1:\(RedisServer.freePort())"
            $0.redis.source = true
        }
        defer { server.stop() }
        let text = try server.get("/admin/metrics").text
        let exported = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let regex = try NSRegularExpression(pattern: "dongfeng_[a-z_]+")
        for expr in expressions {
            for match in regex.matches(in: expr, range: NSRange(expr.startIndex..., in: expr)) {
                var name = String(expr[Range(match.range, in: expr)!])
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && !exported.contains(Substring(name)) {
                    name = String(name.dropLast(suffix.count))
                }
                XCTAssertTrue(exported.contains(Substring(name)), "\(name) in the dashboard is not exported (\(expr))")
            }
        }
    }

    func testMetricsNeedTheAdminToken() throws {
        let server = try TestServer { $0.admin.token = "metrics-admin-token-0123" }
        defer { server.stop() }
        XCTAssertEqual(try server.get("/admin/metrics").status, 401)
        XCTAssertEqual(try server.get("/admin/metrics", headers: ["Authorization: Bearer wrong-token-wrong-token"]).status, 403)
        XCTAssertEqual(try server.get("/admin/metrics", headers: ["Authorization: Bearer metrics-admin-token-0123"]).status, 200)
    }
}
