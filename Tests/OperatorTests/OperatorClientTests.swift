import Foundation
import Operator
import TestSupport
import XCTest

/// The operator commands' client: endpoint URLs, Prometheus text, and HTTPS against a real
/// server with each trust setting.
final class OperatorClientTests: XCTestCase {
    func testEndpointURLs() throws {
        let plain = try Endpoint(url: "http://example.org")
        XCTAssertEqual([plain.host, String(plain.port), String(plain.tls)], ["example.org", "80", "false"])
        let tls = try Endpoint(url: "https://127.0.0.1:8443/health")
        XCTAssertEqual([tls.host, String(tls.port), String(tls.tls)], ["127.0.0.1", "8443", "true"])
        let v6 = try Endpoint(url: "[::1]:9000")
        XCTAssertEqual([v6.host, String(v6.port)], ["::1", "9000"])
        XCTAssertEqual(v6.description, "https://[::1]:9000")
        for bad in ["ftp://host", "https://host:0", "https://host:70000", "https://:443", "[::1:80"] {
            XCTAssertThrowsError(try Endpoint(url: bad), bad)
        }
    }

    func testPrometheusSamplesWithLabelsAndEscapes() {
        let text = """
        # HELP dongfeng_ticks_total Ticks
        # TYPE dongfeng_ticks_total counter
        dongfeng_ticks_total 42
        dongfeng_signals_total{strategy="rsi_reversal"} 3
        dongfeng_signals_total{strategy="a \\"quoted\\" one",x="line\\nbreak"} 4.5
        """
        let samples = PrometheusSamples(parsing: text)
        XCTAssertEqual(samples.value("dongfeng_ticks_total"), 42)
        XCTAssertEqual(samples.value("dongfeng_signals_total", ["strategy": "a \"quoted\" one"]), 4.5)
        XCTAssertEqual(samples.all("dongfeng_signals_total").last?.labels["x"], "line\nbreak")
        XCTAssertEqual(samples.sum("dongfeng_signals_total"), 7.5)
        XCTAssertNil(samples.value("missing"))
    }

    func testHTTPSTrustSettingsAgainstARealServer() throws {
        let server = try TestServer()
        defer { server.stop() }
        let endpoint = try Endpoint(url: "https://127.0.0.1:\(server.port)")
        // The development certificate is self-signed: refused unless trusted or --insecure.
        XCTAssertThrowsError(try OperatorHTTP(endpoint, trust: TrustOptions()).get("/health")) { error in
            XCTAssertTrue("\(error)".contains("--cacert"), "\(error)")
        }
        XCTAssertEqual(try OperatorHTTP(endpoint, trust: TrustOptions(caFile: server.certificatePath)).get("/health").status, 200)
        let insecure = try OperatorHTTP(endpoint, trust: TrustOptions(insecure: true)).get("/health")
        XCTAssertEqual(insecure.status, 200)
        XCTAssertNotNil(insecure.json as? [String: Any])
        // Nothing listening: a clear message, not a hang.
        let closed = try Endpoint(url: "https://127.0.0.1:\(RedisServer.freePort())")
        XCTAssertThrowsError(try OperatorHTTP(closed, trust: TrustOptions(insecure: true), timeoutMs: 2_000).get("/health")) { error in
            XCTAssertTrue("\(error)".contains("cannot connect"), "\(error)")
        }
    }
}
