import Deflate
import Foundation
import TestSupport
import XCTest

/// The HTTP/1.1 server over real sockets and real TLS, driven byte by byte by `TestClient`.
final class HTTPServerTests: XCTestCase {
    func testHealthAliasesAnswerJSON() throws {
        let server = try TestServer()
        defer { server.stop() }
        for path in ["/health", "/gateway/health", "/admin/health"] {
            let response = try server.get(path)
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(response.header("Content-Type"), "application/json")
            let json = try XCTUnwrap(response.json, path)
            XCTAssertEqual(json["status"] as? String, "ok")
            XCTAssertNotNil(json["version"] as? String)
            XCTAssertNotNil(json["uptime_s"] as? Double)
            XCTAssertGreaterThanOrEqual(json["connections"] as? Int ?? 0, 1)
            XCTAssertEqual(json["loops"] as? Int, 1)
            XCTAssertNotNil(response.header("Date"))
            XCTAssertTrue(response.header("Server")?.hasPrefix("dongfeng/") ?? false)
        }
    }

    func testKeepAliveReusesOneConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        for _ in 0..<5 {
            try client.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertNil(response.header("Connection"))
        }
        XCTAssertEqual(server.server.group.counters.acceptedTotal.load(ordering: .relaxed), 1)
    }

    func testPipelinedRequestsAnsweredInOrder() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try client.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /css/app.css HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        let missing = try client.readResponse()
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.errorCode, "not_found")
        let head = try client.readResponse(bodyless: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(Int(head.header("Content-Length") ?? ""), TestServer.indexHTML.utf8.count)
        let css = try client.readResponse()
        XCTAssertEqual(css.text, "body { color: red; }\n")
        XCTAssertEqual(css.header("Connection"), "close")
        XCTAssertTrue(client.waitForClose())
    }

    func testStaticIndexETagAnd304() throws {
        let server = try TestServer()
        defer { server.stop() }
        let first = try server.get("/")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertEqual(first.text, TestServer.indexHTML)
        let etag = try XCTUnwrap(first.header("ETag"))
        XCTAssertNotNil(first.header("Last-Modified"))
        XCTAssertNotNil(first.header("Cache-Control"))
        let second = try server.get("/index.html", headers: ["If-None-Match: \(etag)"])
        XCTAssertEqual(second.status, 304)
        XCTAssertTrue(second.body.isEmpty)
        XCTAssertEqual(second.header("ETag"), etag)
        let changed = try server.get("/", headers: ["If-None-Match: \"other\""])
        XCTAssertEqual(changed.status, 200)
    }

    /// Every response forbids MIME sniffing; the page (not its assets) carries a policy that
    /// allows only its own scripts, styles and connections and no framing; HSTS is sent over TLS
    /// with a configured certificate only — never with the development one, never in plain HTTP.
    func testSecurityHeaders() throws {
        let dev = try TestServer()
        defer { dev.stop() }
        let health = try dev.get("/health")
        XCTAssertEqual(health.header("X-Content-Type-Options"), "nosniff")
        XCTAssertNil(health.header("Strict-Transport-Security"), "development certificate: no HSTS")
        let missing = try dev.get("/api/v1/nope")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.header("X-Content-Type-Options"), "nosniff")
        let page = try dev.get("/")
        let policy = try XCTUnwrap(page.header("Content-Security-Policy"))
        for directive in ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'",
                          "object-src 'none'"] {
            XCTAssertTrue(policy.contains(directive), "\(directive) in \(policy)")
        }
        XCTAssertFalse(policy.contains("unsafe"), policy)
        XCTAssertEqual(page.header("X-Frame-Options"), "DENY")
        XCTAssertNil(try dev.get("/css/app.css").header("Content-Security-Policy"))

        let certificate = dev.certificatePath
        let key = dev.directory.appendingPathComponent("certs/dev-key.pem").path
        let configured = try TestServer {
            $0.tls.cert = certificate
            $0.tls.key = key
            $0.plainHTTP.enabled = true
            $0.plainHTTP.port = 0
            $0.plainHTTP.mode = "serve"
        }
        defer { configured.stop() }
        XCTAssertEqual(try configured.get("/health").header("Strict-Transport-Security"), "max-age=31536000")
        let plain = try TestClient(port: try XCTUnwrap(configured.server.plainPort), tls: false)
        try plain.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let plainResponse = try plain.readResponse()
        XCTAssertEqual(plainResponse.status, 200)
        XCTAssertNil(plainResponse.header("Strict-Transport-Security"), "HSTS over plain HTTP means nothing")
        configured.stop()

        let off = try TestServer {
            $0.tls.cert = certificate
            $0.tls.key = key
            $0.tls.hstsMaxAgeSeconds = 0
        }
        defer { off.stop() }
        XCTAssertNil(try off.get("/health").header("Strict-Transport-Security"))
    }

    func testGzipRoundTrip() throws {
        let server = try TestServer()
        defer { server.stop() }
        let response = try server.get("/js/app.js", headers: ["Accept-Encoding: br, gzip"])
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Encoding"), "gzip")
        XCTAssertEqual(response.header("Vary"), "Accept-Encoding")
        XCTAssertLessThan(response.body.count, TestServer.appJS.utf8.count)
        let plain = try Gzip.decompress(response.body, maxOutput: 1 << 20)
        XCTAssertEqual(String(decoding: plain, as: UTF8.self), TestServer.appJS)
        let refused = try server.get("/js/app.js", headers: ["Accept-Encoding: gzip;q=0"])
        XCTAssertNil(refused.header("Content-Encoding"))
        XCTAssertEqual(refused.text, TestServer.appJS)
        // The page itself never is (BREACH), whatever the client accepts.
        let page = try server.get("/", headers: ["Accept-Encoding: gzip"])
        XCTAssertNil(page.header("Content-Encoding"))
        XCTAssertEqual(page.text, TestServer.indexHTML)
    }

    func testTraversalAndHiddenFilesRefused() throws {
        let server = try TestServer()
        defer { server.stop() }
        for path in ["/../outside.txt", "/css/../../outside.txt", "/%2e%2e/outside.txt", "/css/%2e%2e/%2e%2e/outside.txt",
                     "/./index.html", "/.hidden", "/..%2foutside.txt"] {
            let response = try server.get(path)
            XCTAssertTrue([400, 404].contains(response.status), "\(path) → \(response.status)")
            XCTAssertFalse(response.text.contains("secret"), path)
        }
    }

    func testLimitsAnswerWithTheirStatuses() throws {
        let server = try TestServer { $0.http.maxBodyBytes = 1024 }
        defer { server.stop() }
        let bigHeader = try server.request("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "a", count: 17_000))\r\n\r\n")
        XCTAssertEqual(bigHeader.status, 431)
        XCTAssertEqual(bigHeader.errorCode, "headers_too_large")
        XCTAssertEqual(bigHeader.header("Connection"), "close")
        let manyHeaders = (0..<101).map { "X-H\($0): v\r\n" }.joined()
        XCTAssertEqual(try server.request("GET / HTTP/1.1\r\nHost: a\r\n\(manyHeaders)\r\n").status, 431)
        let longURI = try server.request("GET /\(String(repeating: "u", count: 9000)) HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(longURI.status, 414)
        let body = try server.request("POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n")
        XCTAssertEqual(body.status, 413)
        XCTAssertEqual(body.errorCode, "body_too_large")
        XCTAssertEqual(try server.request("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").status, 400)
        XCTAssertEqual(try server.request("GET / HTTP/1.1\nHost: a\n\n").status, 400)
        // An unknown method on a resource that exists is 405 with the methods it takes.
        let brew = try server.request("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(brew.status, 405)
        XCTAssertEqual(brew.header("Allow"), "GET, HEAD")
        let wrongMethod = try server.request("DELETE /health HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.header("Allow")?.contains("GET"), true)
        XCTAssertEqual(try server.request("GET / HTTP/2.0\r\nHost: a\r\n\r\n").status, 505)
    }

    func testHeaderTimeoutAnswers408() throws {
        let server = try TestServer { $0.http.headerTimeoutSeconds = 0.5 }
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try client.send("GET /health HTTP/1.1\r\nHost: a\r\n")  // head never finished
        let started = Date()
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response.errorCode, "request_timeout")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertTrue(client.waitForClose())
    }

    func testExpectContinue() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try client.send("PUT /health HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 100)
        try client.send("abc")
        XCTAssertEqual(try client.readResponse().status, 405)
    }

    func testAdminTokenRequiredWhenConfigured() throws {
        let token = "0123456789abcdef-token"
        let server = try TestServer { $0.admin.token = token }
        defer { server.stop() }
        let none = try server.get("/admin/health")
        XCTAssertEqual(none.status, 401)
        XCTAssertEqual(none.errorCode, "unauthorized")
        XCTAssertEqual(try server.get("/admin/health", headers: ["Authorization: Bearer wrong-token-wrong"]).status, 403)
        let ok = try server.get("/admin/health", headers: ["Authorization: Bearer \(token)"])
        XCTAssertEqual(ok.status, 200)
        XCTAssertNotNil(ok.json?["tls"])
        XCTAssertEqual(try server.get("/health").status, 200)  // seed alias stays open
    }

    func testPlainListenerRedirectsToHTTPS() throws {
        let server = try TestServer {
            $0.plainHTTP.enabled = true
            $0.plainHTTP.port = 0
        }
        defer { server.stop() }
        let plainPort = try XCTUnwrap(server.server.plainPort)
        let client = try TestClient(port: plainPort, tls: false)
        try client.send("GET /health?x=1 HTTP/1.1\r\nHost: localhost:\(plainPort)\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 308)
        XCTAssertEqual(response.header("Location"), "https://localhost:\(server.port)/health?x=1")
    }

    func testConnectionsBeyondMaximumAreRefused() throws {
        let server = try TestServer { $0.server.maxConnections = 2 }
        defer { server.stop() }
        let a = try TestClient(port: server.port)
        let b = try TestClient(port: server.port)
        XCTAssertThrowsError(try TestClient(port: server.port, timeoutSeconds: 3))
        try a.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try a.readResponse().status, 200)
        b.close()
        a.close()
        // Slots come back once the server has seen the closes.
        var recovered = false
        for _ in 0..<50 where !recovered {
            usleep(50_000)
            if let c = try? TestClient(port: server.port, timeoutSeconds: 2) {
                try c.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
                recovered = (try? c.readResponse().status) == 200
            }
        }
        XCTAssertTrue(recovered)
        XCTAssertGreaterThanOrEqual(server.server.group.counters.refusedOverLimit.load(ordering: .relaxed), 1)
    }

    func testHandshakeTimeoutClosesSilentClients() throws {
        let server = try TestServer { $0.tls.handshakeTimeoutSeconds = 0.5 }
        defer { server.stop() }
        let silent = try TestClient(port: server.port, tls: false, timeoutSeconds: 5)
        let started = Date()
        XCTAssertTrue(silent.waitForClose())
        XCTAssertLessThan(Date().timeIntervalSince(started), 4.5)
        XCTAssertEqual(server.server.group.counters.tlsHandshakeTimeouts.load(ordering: .relaxed), 1)
    }

    func testGracefulShutdownCompletesInFlightResponse() throws {
        let server = try TestServer()
        defer { server.stop() }
        let idle = try TestClient(port: server.port)
        let busy = try TestClient(port: server.port)
        try busy.send("GET /health HTTP/1.1\r\nHost: a\r\n")  // request in flight
        usleep(100_000)
        server.server.shutdown()
        usleep(100_000)
        try busy.send("\r\n")
        let response = try busy.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(busy.waitForClose())
        XCTAssertTrue(idle.waitForClose())
        XCTAssertThrowsError(try TestClient(port: server.port, timeoutSeconds: 2))  // no longer accepting
        server.server.wait()
    }
}

/// More than one loop: SO_REUSEPORT listeners, connections spread and all served.
final class MultiLoopTests: XCTestCase {
    func testTwoLoopsServeEveryConnection() throws {
        let server = try TestServer {
            $0.server.loops = 2
            $0.server.reusePort = true
        }
        defer { server.stop() }
        var clients: [TestClient] = []
        for _ in 0..<16 { clients.append(try TestClient(port: server.port)) }
        for client in clients {
            try client.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.json?["loops"] as? Int, 2)
            XCTAssertEqual(response.json?["connections"] as? Int, 16)
        }
    }

    func testSlowReaderGetsEveryPipelinedResponse() throws {
        // 400 pipelined requests for the page (~4 KiB each) before reading anything: the server
        // must queue, pause reading past its backpressure mark, and deliver all in order.
        let server = try TestServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        let request = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n"
        try client.send(String(repeating: request, count: 399) + "GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        for i in 0..<399 {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, "response \(i)")
            XCTAssertEqual(response.body.count, TestServer.indexHTML.utf8.count)
        }
        XCTAssertEqual(try client.readResponse().json?["status"] as? String, "ok")
        XCTAssertTrue(client.waitForClose())
    }
}

/// The default feed end to end: the simulator drives the pipeline inside the server.
final class LiveSimulatorTests: XCTestCase {
    func testSimulatorFeedsThePipeline() throws {
        let server = try TestServer {
            $0.feed = "simulator"
            $0.simulator.ticksPerSecond = 2_000
            $0.pipeline.interval = "250ms"
        }
        defer { server.stop() }
        var pipeline: [String: Any] = [:]
        for _ in 0..<60 {
            usleep(100_000)
            pipeline = try server.get("/admin/health").json?["pipeline"] as? [String: Any] ?? [:]
            if (pipeline["bars"] as? Int ?? 0) > 20 { break }
        }
        XCTAssertEqual(pipeline["feed"] as? String, "simulator")
        XCTAssertGreaterThan(pipeline["ticks"] as? Int ?? 0, 100)
        XCTAssertGreaterThan(pipeline["bars"] as? Int ?? 0, 20)
        XCTAssertEqual(server.server.signals?.store.symbols.count, 8)
    }
}
