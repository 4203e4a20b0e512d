import Foundation
@testable import Gateway
import XCTest

final class ConfigTests: XCTestCase {
    private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func load(file: String? = nil, env: [String: String] = [:], flags: [(String, String, String)] = [])
        throws(ConfigError) -> GatewayConfig
    {
        try ConfigLoader.load(file: file, environment: env,
                              overrides: flags.map { ConfigOverride(key: $0.0, value: $0.1, source: $0.2) })
    }

    private func error(file: String? = nil, env: [String: String] = [:], flags: [(String, String, String)] = [])
        -> ConfigError?
    {
        do {
            _ = try load(file: file, env: env, flags: flags)
            return nil
        } catch {
            return error
        }
    }

    private func write(_ json: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testCommittedDefaultFileEqualsBuiltInDefaults() throws {
        let committed = try load(file: repoRoot.appendingPathComponent("Config/dongfeng.json").path)
        XCTAssertEqual(committed, GatewayConfig())
        XCTAssertEqual(committed.server.port, 8443)
        XCTAssertEqual(committed.server.host, "127.0.0.1")
        XCTAssertEqual(committed.feed, "simulator")
        XCTAssertNoThrow(try load(file: repoRoot.appendingPathComponent("Config/production.example.json").path))
    }

    func testPrecedenceFlagOverEnvOverFileOverDefault() throws {
        let file = try write(#"{"server": {"port": 9000, "host": "0.0.0.0"}, "http": {"max_body_bytes": 2048}}"#)
        let config = try load(file: file, env: ["DFP_PORT": "9100", "DFP_HTTP_MAX_BODY_BYTES": "4096"],
                              flags: [("server.port", "9200", "--port")])
        XCTAssertEqual(config.server.port, 9200)
        XCTAssertEqual(config.server.host, "0.0.0.0")
        XCTAssertEqual(config.http.maxBodyBytes, 4096)
        XCTAssertEqual(config.http.maxHeaders, 100)
        XCTAssertEqual(try load(file: file, env: ["DFP_SERVER_PORT": "9100"]).server.port, 9100)
    }

    func testErrorsNameTheKeyAndTheSource() throws {
        let e1 = error(flags: [("server.port", "70000", "--port")])
        XCTAssertEqual(e1?.key, "server.port")
        XCTAssertTrue(e1?.description.contains("--port") ?? false)
        XCTAssertTrue(e1?.description.contains("between 0 and 65535") ?? false)
        let e2 = error(env: ["DFP_HTTP_MAX_BODY_BYTES": "lots"])
        XCTAssertEqual(e2?.key, "http.max_body_bytes")
        XCTAssertTrue(e2?.description.contains("DFP_HTTP_MAX_BODY_BYTES") ?? false)
        let file = try write(#"{"server": {"prot": 1}}"#)
        XCTAssertEqual(error(file: file)?.key, "server.prot")
        XCTAssertEqual(error(file: try write(#"{"servr": {}}"#))?.key, "servr")
        XCTAssertEqual(error(file: try write(#"{"server": {"port": "8443"}}"#))?.key, "server.port")
        XCTAssertEqual(error(file: try write(#"{"static": {"gzip": 1}}"#))?.key, "static.gzip")
        XCTAssertEqual(error(file: try write(#"{"server": {"port": 1.5}}"#))?.key, "server.port")
        XCTAssertEqual(error(file: try write(#"{"log": {"level": "loud"}}"#))?.key, "log.level")
        XCTAssertEqual(error(file: try write(#"{"server": "#))?.key, "(file)")
        XCTAssertEqual(error(file: "/nonexistent/dongfeng.json")?.key, "(file)")
        XCTAssertEqual(error(env: ["DFP_PORT": "1", "DFP_SERVER_PORT": "2"])?.key, "server.port")
    }

    func testDocKeysIgnoredBoolsAndLists() throws {
        let file = try write(#"{"_doc": "x", "static": {"_doc": "y", "gzip": false}, "http": {"cors_origins": ["https://a"]}}"#)
        let config = try load(file: file, env: ["DFP_LOG_ACCESS_LOG": "yes"])
        XCTAssertFalse(config.staticFiles.gzip)
        XCTAssertTrue(config.log.accessLog)
        XCTAssertEqual(config.http.cors.allowedOrigins, ["https://a"])
        XCTAssertEqual(try load(env: ["DFP_HTTP_CORS_ORIGINS": "https://a, https://b"]).http.cors.allowedOrigins,
                       ["https://a", "https://b"])
        XCTAssertEqual(error(env: ["DFP_STATIC_GZIP": "maybe"])?.key, "static.gzip")
    }

    func testCrossFieldRules() {
        XCTAssertEqual(error(flags: [("tls.cert", "/x.pem", "--cert")])?.key, "tls.key", "the missing half is named")
        XCTAssertEqual(error(flags: [("server.loops", "2", "--loops")])?.key, "server.loops")
        XCTAssertNoThrow(try load(flags: [("server.loops", "2", "--loops"), ("server.reuse_port", "true", "--reuse-port")]))
        XCTAssertEqual(error(env: ["DFP_HTTP_MAX_URI_BYTES": "20000"])?.key, "http.max_uri_bytes")
        XCTAssertEqual(error(env: ["DFP_PLAIN_HTTP_ENABLED": "true", "DFP_PLAIN_HTTP_PORT": "8443"])?.key, "plain_http.port")
    }

    func testAdminTokenIsNeverEchoed() throws {
        let short = "tiny-secret"
        let e = error(env: ["DFP_ADMIN_TOKEN": short])
        XCTAssertEqual(e?.key, "admin.token")
        XCTAssertFalse(e?.description.contains(short) ?? true)
        let token = "a-very-long-admin-token-123"
        let config = try load(env: ["DFP_ADMIN_TOKEN": token])
        XCTAssertEqual(config.admin.token, token)
        let printed = config.redactedJSON()
        XCTAssertFalse(printed.contains(token))
        XCTAssertTrue(printed.contains(#""token": "***""#))
        let parsed = try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any]
        XCTAssertEqual((parsed?["server"] as? [String: Any])?["port"] as? Int, 8443)
    }

    /// docs/CONFIG.md's table is generated from the key table; this keeps it from drifting.
    func testDocsTableMatchesTheKeys() throws {
        let docs = try String(contentsOf: repoRoot.appendingPathComponent("docs/CONFIG.md"), encoding: .utf8)
        let expected = ConfigDocs.table()
        guard let start = docs.range(of: "<!-- keys:begin -->\n"), let end = docs.range(of: "<!-- keys:end -->") else {
            return XCTFail("docs/CONFIG.md lacks the keys markers")
        }
        let actual = String(docs[start.upperBound..<end.lowerBound])
        XCTAssertEqual(actual, expected, "docs/CONFIG.md is out of date; the table should be:\n\(expected)")
    }
}
