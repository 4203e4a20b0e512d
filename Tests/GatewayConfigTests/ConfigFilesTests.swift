import Foundation
@testable import Gateway
import XCTest

/// The committed Config/*.json files and docs/CONFIG.md agree with the key table.
final class ConfigFilesTests: ConfigTestCase {
    func testCommittedDefaultFileEqualsTheBuiltInDefaults() throws {
        let config = try load(file: repoPath("Config/dongfeng.json"))
        XCTAssertEqual(config, GatewayConfig())
        XCTAssertEqual(config.feed, "simulator")
        XCTAssertEqual(config.server.port, 8443)
        XCTAssertEqual(config.server.host, "127.0.0.1")
    }

    func testCommittedDefaultFileListsEveryKeyAndDocumentsEverySection() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: repoPath("Config/dongfeng.json")))
        guard case .object(let root) = try ConfigValue.parse(data) else { return XCTFail("not an object") }
        var leaves: [String] = []
        var undocumented: [String] = []
        func walk(_ object: [String: ConfigValue], _ prefix: String) {
            if object["_doc"] == nil { undocumented.append(prefix.isEmpty ? "(top)" : prefix) }
            for (name, value) in object where !name.hasPrefix("_") {
                if case .object(let inner) = value { walk(inner, prefix + name + ".") } else { leaves.append(prefix + name) }
            }
        }
        walk(root, "")
        XCTAssertEqual(Set(leaves), Set(ConfigLoader.keys.map(\.key)))
        XCTAssertEqual(leaves.count, ConfigLoader.keys.count)
        XCTAssertEqual(undocumented, [])
    }

    func testProductionExampleLoads() throws {
        let config = try load(file: repoPath("Config/production.example.json"))
        XCTAssertEqual(config.server.host, "0.0.0.0")
        XCTAssertEqual(config.server.loops, 2)
        XCTAssertTrue(config.server.reusePort)
        XCTAssertEqual(config.tls.cert, "/etc/dongfeng/fullchain.pem")
        XCTAssertEqual(config.tls.key, "/etc/dongfeng/privkey.pem")
        XCTAssertTrue(config.plainHTTP.enabled)
        XCTAssertEqual(config.plainHTTP.port, 80)
        XCTAssertEqual(config.plainHTTP.mode, "redirect")
        XCTAssertTrue(config.log.accessLog)
        XCTAssertNil(config.admin.token)
        let text = try String(contentsOfFile: repoPath("Config/production.example.json"), encoding: .utf8)
        XCTAssertTrue(text.contains("DFP_ADMIN_TOKEN"))
        XCTAssertFalse(text.contains("\"token\""))
        // The token comes from the environment in production.
        let withToken = try load(file: repoPath("Config/production.example.json"),
                                 env: ["DFP_ADMIN_TOKEN": "a-long-enough-token"])
        XCTAssertEqual(withToken.admin.token, "a-long-enough-token")
    }

    /// docs/CONFIG.md's table must be `ConfigDocs.markdownTable()`. To regenerate after changing
    /// the key table: `CONFIG_DOCS_WRITE=1 swift test --filter ConfigFilesTests`.
    func testDocsTableIsInSync() throws {
        let path = repoPath("docs/CONFIG.md")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let begin = "<!-- keys:begin -->\n", end = "<!-- keys:end -->"
        let start = try XCTUnwrap(text.range(of: begin), "docs/CONFIG.md lacks \(begin)")
        let stop = try XCTUnwrap(text.range(of: end, range: start.upperBound..<text.endIndex), "docs/CONFIG.md lacks \(end)")
        let generated = ConfigDocs.markdownTable()
        let committed = String(text[start.upperBound..<stop.lowerBound])
        if committed != generated, ProcessInfo.processInfo.environment["CONFIG_DOCS_WRITE"] == "1" {
            try text.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: generated)
                .write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let (old, new) = (committed.split(separator: "\n"), generated.split(separator: "\n"))
        let first = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
        XCTAssertTrue(committed == generated, """
            docs/CONFIG.md is out of date; run CONFIG_DOCS_WRITE=1 swift test --filter ConfigFilesTests
            first difference, table line \(first + 1):
              committed: \(first < old.count ? String(old[first]) : "(none)")
              generated: \(first < new.count ? String(new[first]) : "(none)")
            """)
    }

    func testDocsTableCoversEveryKeyAndVariable() {
        let table = ConfigDocs.markdownTable()
        for info in ConfigLoader.keys {
            XCTAssertTrue(table.contains("| `\(info.key)` | `\(info.env)`"), info.key)
        }
        XCTAssertTrue(table.contains("| `server.port` | `DFP_SERVER_PORT`, `DFP_PORT` | `8443` |"))
        XCTAssertTrue(table.contains("| `admin.token` | `DFP_ADMIN_TOKEN` | `null` |"))
        XCTAssertTrue(table.contains("*Allowed:* an integer between 0 and 65535."))
        XCTAssertTrue(ConfigDocs.helpText().contains("server.port (DFP_SERVER_PORT, DFP_PORT), default 8443"))
    }

    func testKeyTableMatchesTheBriefsKeyList() {
        let expected = """
            server.host server.port server.loops server.reuse_port server.max_connections server.backlog tls.cert tls.key \
            tls.cert_dir tls.handshake_timeout_s tls.session_tickets tls.min_version tls.hsts_max_age_s plain_http.enabled plain_http.port \
            plain_http.mode http.max_header_bytes http.max_headers http.max_uri_bytes http.max_body_bytes \
            http.header_timeout_s http.keepalive_idle_s http.max_write_queue_bytes http.max_pipelined_requests \
            http.cors.allowed_origins static.root static.cache_control static.gzip static.max_file_bytes admin.token \
            api.ingest_key websocket.max_message_bytes websocket.outbound_cap_bytes websocket.max_symbols websocket.ping_interval_s \
            websocket.idle_timeout_s websocket.message_timeout_s websocket.allowed_origins shutdown.grace_s log.level log.access_log log.format pipeline.interval pipeline.bar_grace_ms pipeline.strategies_file \
            pipeline.opportunity_ttl_s pipeline.cooldown_s pipeline.history_events pipeline.score_horizons pipeline.score_window markets.enabled markets.file simulator.ticks_per_second simulator.seed simulator.speed simulator.symbols journal.enabled journal.fsync \
            journal.fsync_interval_ms journal.segment_mb journal.retention_mb journal.retention_hours journal.inputs journal.checkpoint_interval_s redis.url \
            redis.stream_maxlen redis.source redis.group redis.consumer redis.partitions redis.peers redis.claim_idle_ms redis.partition_count redis.cluster redis.lease_ms testing.websocket_echo feed replay.speed replay.loop data_dir
            """
        XCTAssertEqual(ConfigLoader.keys.map(\.key), expected.split(separator: " ").map(String.init))
    }
}
