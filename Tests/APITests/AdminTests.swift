import Foundation
import TestSupport
import XCTest

/// Operator controls over HTTP: the feed's pause and resume with /admin/health following it,
/// the log settings at runtime, request ids, and admin auth on each.
final class AdminTests: XCTestCase {
    private func send(_ server: TestServer, _ method: String, _ path: String, _ body: String = "",
                      headers: [String] = []) throws -> TestResponse {
        let extra = headers.map { $0 + "\r\n" }.joined()
        return try server.request("\(method) \(path) HTTP/1.1\r\nHost: a\r\n\(extra)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    private func component(_ server: TestServer, _ name: String) throws -> (Int, String?, String?) {
        let health = try server.get("/admin/health")
        let c = (health.json?["components"] as? [String: Any])?[name] as? [String: Any]
        return (health.status, c?["status"] as? String, health.json?["status"] as? String)
    }

    /// Polls /admin/health until the feed component is ok (up to 5 s); its last answer.
    private func feedOK(_ server: TestServer) throws -> (Int, String?, String?) {
        var state = (0, String?.none, String?.none)
        for _ in 0..<100 {
            state = try component(server, "feed")
            if state.1 == "ok" { break }
            usleep(50_000)
        }
        return state
    }

    func testStoppingTheFeedDegradesHealthAndResumingRestoresIt() throws {
        let server = try TestServer { $0.feed = "simulator" }
        defer { server.stop() }
        // The simulator delivers: ok.
        var state = try feedOK(server)
        XCTAssertEqual(state.0, 200)
        XCTAssertEqual(state.1, "ok")
        let sources = try XCTUnwrap(server.get("/admin/health").json?["sources"] as? [String: Any])
        let simulator = try XCTUnwrap(sources["simulator"] as? [String: Any])
        XCTAssertLessThan(try XCTUnwrap(simulator["last_tick_age_ms"] as? Int), 5_000, "freshness per source")
        XCTAssertTrue((sources["http-0"] as? [String: Any])?["last_tick_age_ms"] is NSNull, "no REST tick yet")

        // Stopped: degraded, 503, and no more ticks arrive.
        let paused = try send(server, "POST", "/admin/feed/pause")
        XCTAssertEqual(paused.status, 200)
        XCTAssertEqual(paused.json?["paused"] as? Bool, true)
        state = try component(server, "feed")
        XCTAssertEqual(state.0, 503)
        XCTAssertEqual(state.1, "degraded")
        XCTAssertEqual(state.2, "degraded")
        usleep(200_000)
        let ticks = try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])["ticks"] as? Int
        usleep(400_000)
        let later = try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])["ticks"] as? Int
        XCTAssertEqual(ticks, later, "a paused feed sends nothing")

        // Resumed: ticks flow again and health returns to ok.
        XCTAssertEqual(try send(server, "POST", "/admin/feed/resume").json?["paused"] as? Bool, false)
        state = try feedOK(server)
        XCTAssertEqual(state.0, 200)
        XCTAssertEqual(state.1, "ok")
        XCTAssertEqual(try server.get("/admin/feed").json?["feed"] as? String, "simulator")
    }

    func testFeedControlWithoutAFeedIsAConflict() throws {
        let server = try TestServer()  // feed none
        defer { server.stop() }
        let r = try send(server, "POST", "/admin/feed/pause")
        XCTAssertEqual(r.status, 409)
        XCTAssertEqual((r.json?["error"] as? [String: Any])?["code"] as? String, "no_feed")
        XCTAssertEqual(try server.get("/admin/feed").json?["feed"] as? String, "none")
    }

    func testLogSettingsChangeAtRuntimeAndBadValuesAreRefused() throws {
        let server = try TestServer()
        defer { server.stop() }
        let initial = try server.get("/admin/log")
        XCTAssertEqual(initial.json?["level"] as? String, "info")
        XCTAssertEqual(initial.json?["access_log"] as? Bool, false)
        XCTAssertEqual(initial.json?["format"] as? String, "logfmt")
        let changed = try send(server, "PUT", "/admin/log", #"{"level":"debug","access_log":true}"#)
        XCTAssertEqual(changed.status, 200)
        XCTAssertEqual(changed.json?["level"] as? String, "debug")
        XCTAssertEqual(changed.json?["access_log"] as? Bool, true)
        XCTAssertEqual(server.server.logControl.level, .debug, "the handler's level moved")
        XCTAssertTrue(server.server.logControl.accessLog)
        for (body, code) in [(#"{"level":"loud"}"#, "invalid_level"), (#"{"level":3}"#, "invalid_level"), ("{}", "invalid_body"),
                             ("nope", "invalid_body"), (#"{"format":"json"}"#, "unknown_setting"),
                             (#"{"access_log":"yes"}"#, "invalid_body")] {
            let r = try send(server, "PUT", "/admin/log", body)
            XCTAssertEqual(r.status, 400, body)
            XCTAssertEqual((r.json?["error"] as? [String: Any])?["code"] as? String, code, body)
        }
        XCTAssertEqual(server.server.logControl.level, .debug, "a refused change changes nothing")
    }

    func testAdminControlsNeedTheToken() throws {
        let server = try TestServer { $0.admin.token = "admin-token-0123456789" }
        defer { server.stop() }
        for (method, path) in [("GET", "/admin/feed"), ("POST", "/admin/feed/pause"), ("GET", "/admin/log"), ("PUT", "/admin/log")] {
            XCTAssertEqual(try send(server, method, path, #"{"level":"debug"}"#).status, 401, path)
            XCTAssertEqual(try send(server, method, path, #"{"level":"debug"}"#, headers: ["Authorization: Bearer wrong-wrong-wrong-wrong"]).status, 403, path)
        }
        XCTAssertEqual(server.server.logControl.level, .info)
        XCTAssertEqual(try send(server, "PUT", "/admin/log", #"{"level":"error"}"#,
                                headers: ["Authorization: Bearer admin-token-0123456789"]).status, 200)
    }

    func testEveryResponseCarriesARequestIdAndAClientIdIsKeptWhenPlain() throws {
        let server = try TestServer()
        defer { server.stop() }
        let ours = try server.get("/health")
        let id = try XCTUnwrap(ours.header("X-Request-Id"))
        XCTAssertFalse(id.isEmpty)
        XCTAssertNotEqual(try server.get("/health").header("X-Request-Id"), id, "ids differ per request")
        XCTAssertEqual(try server.get("/health", headers: ["X-Request-Id: trace-42.a:b_c"]).header("X-Request-Id"), "trace-42.a:b_c")
        let replaced = try server.get("/health", headers: ["X-Request-Id: has spaces\u{7f}"]).header("X-Request-Id")
        XCTAssertNotNil(replaced)
        XCTAssertNotEqual(replaced, "has spaces\u{7f}", "a client id that is not a plain token is replaced")
        XCTAssertNotNil(try server.get("/nope/nope").header("X-Request-Id"), "errors carry one too")
    }
}
