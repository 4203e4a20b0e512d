import Foundation
@testable import Gateway
import XCTest

/// Defaults, precedence, environment and flag parsing, `redactedJSON()`.
final class ConfigTests: ConfigTestCase {
    func testDefaultsLoadWithNoFile() throws {
        let config = try load()
        XCTAssertEqual(config, GatewayConfig())
        XCTAssertEqual(config.server.host, "127.0.0.1")
        XCTAssertEqual(config.server.port, 8443)
        XCTAssertEqual(config.server.loops, 1)
        XCTAssertEqual(config.tls.cert, nil)
        XCTAssertEqual(config.tls.minVersion, "1.2")
        XCTAssertEqual(config.http.maxBodyBytes, 1_048_576)
        XCTAssertEqual(config.http.maxPipelinedRequests, 64)
        XCTAssertEqual(config.http.cors.allowedOrigins, [])
        XCTAssertEqual(config.admin.token, nil)
        XCTAssertEqual(config.feed, "simulator")
        XCTAssertEqual(config.dataDir, "./data")
    }

    func testFallbackFileIsUsedOnlyWhenPresent() throws {
        let fallback = try write(#"{"server": {"port": 9443}}"#)
        let viaFallback = try ConfigLoader.load(file: nil, environment: [:], overrides: [], defaultFile: fallback)
        XCTAssertEqual(viaFallback.server.port, 9443)
        let missing = fallback + ".absent"
        XCTAssertEqual(try ConfigLoader.load(file: nil, environment: [:], overrides: [], defaultFile: missing),
                       GatewayConfig())
    }

    func testConfigFileFromDFPConfig() throws {
        let file = try write(#"{"feed": "none"}"#)
        XCTAssertEqual(try load(env: ["DFP_CONFIG": file]).feed, "none")
        let error = loadError(env: ["DFP_CONFIG": "/nonexistent/dongfeng.json"])
        assertError(error, key: "(file)", contains: ["/nonexistent/dongfeng.json", "does not exist"], source: "DFP_CONFIG")
    }

    func testPrecedenceFlagOverEnvOverFileOverDefault() throws {
        let file = try write(#"{"server": {"port": 9000, "host": "0.0.0.0"}, "http": {"max_body_bytes": 2048, "max_headers": 50}}"#)
        let env = ["DFP_PORT": "9100", "DFP_HTTP_MAX_BODY_BYTES": "4096"]
        let all = try load(file: file, env: env, flags: [flag("server.port", "9200", "--port")])
        XCTAssertEqual(all.server.port, 9200)           // flag
        XCTAssertEqual(all.http.maxBodyBytes, 4096)     // env over file
        XCTAssertEqual(all.server.host, "0.0.0.0")      // file over default
        XCTAssertEqual(all.http.maxHeaders, 50)         // file
        XCTAssertEqual(all.http.maxURIBytes, 8192)      // default
        XCTAssertEqual(try load(file: file, env: env).server.port, 9100)
        XCTAssertEqual(try load(file: file).server.port, 9000)
        XCTAssertEqual(try load().server.port, 8443)
    }

    func testEveryKeyHasItsLongEnvironmentVariable() throws {
        let env = [
            "DFP_SERVER_HOST": "::1", "DFP_SERVER_LOOPS": "4", "DFP_SERVER_REUSE_PORT": "yes",
            "DFP_SERVER_MAX_CONNECTIONS": "500", "DFP_SERVER_BACKLOG": "64",
            "DFP_TLS_CERT": "/c.pem", "DFP_TLS_KEY": "/k.pem", "DFP_TLS_CERT_DIR": "/certs",
            "DFP_TLS_HANDSHAKE_TIMEOUT_S": "2.5", "DFP_TLS_SESSION_TICKETS": "0", "DFP_TLS_MIN_VERSION": "1.3",
            "DFP_PLAIN_HTTP_ENABLED": "1", "DFP_PLAIN_HTTP_PORT": "8081", "DFP_PLAIN_HTTP_MODE": "serve",
            "DFP_HTTP_MAX_HEADER_BYTES": "4096", "DFP_HTTP_MAX_HEADERS": "20", "DFP_HTTP_MAX_URI_BYTES": "2048",
            "DFP_HTTP_HEADER_TIMEOUT_S": "3", "DFP_HTTP_KEEPALIVE_IDLE_S": "0.5",
            "DFP_HTTP_MAX_WRITE_QUEUE_BYTES": "65536", "DFP_HTTP_MAX_PIPELINED_REQUESTS": "8",
            "DFP_STATIC_ROOT": "/srv/www", "DFP_STATIC_CACHE_CONTROL": "no-store", "DFP_STATIC_GZIP": "false",
            "DFP_STATIC_MAX_FILE_BYTES": "1000", "DFP_SHUTDOWN_GRACE_S": "0", "DFP_LOG_ACCESS_LOG": "true",
            "DFP_LOG_LEVEL": "debug", "DFP_FEED": "none", "DFP_DATA_DIR": "/var/lib/df",
        ]
        let c = try load(env: env)
        XCTAssertEqual(c.server.host, "::1")
        XCTAssertEqual(c.server.loops, 4)
        XCTAssertTrue(c.server.reusePort)
        XCTAssertEqual(c.server.maxConnections, 500)
        XCTAssertEqual(c.server.backlog, 64)
        XCTAssertEqual(c.tls.cert, "/c.pem")
        XCTAssertEqual(c.tls.key, "/k.pem")
        XCTAssertEqual(c.tls.certDir, "/certs")
        XCTAssertEqual(c.tls.handshakeTimeoutSeconds, 2.5)
        XCTAssertFalse(c.tls.sessionTickets)
        XCTAssertEqual(c.tls.minVersion, "1.3")
        XCTAssertTrue(c.plainHTTP.enabled)
        XCTAssertEqual(c.plainHTTP.port, 8081)
        XCTAssertEqual(c.plainHTTP.mode, "serve")
        XCTAssertEqual(c.http.maxHeaderBytes, 4096)
        XCTAssertEqual(c.http.maxHeaders, 20)
        XCTAssertEqual(c.http.maxURIBytes, 2048)
        XCTAssertEqual(c.http.headerTimeoutSeconds, 3)
        XCTAssertEqual(c.http.keepAliveIdleSeconds, 0.5)
        XCTAssertEqual(c.http.maxWriteQueueBytes, 65536)
        XCTAssertEqual(c.http.maxPipelinedRequests, 8)
        XCTAssertEqual(c.staticFiles.root, "/srv/www")
        XCTAssertEqual(c.staticFiles.cacheControl, "no-store")
        XCTAssertFalse(c.staticFiles.gzip)
        XCTAssertEqual(c.staticFiles.maxFileBytes, 1000)
        XCTAssertEqual(c.shutdown.graceSeconds, 0)
        XCTAssertTrue(c.log.accessLog)
        XCTAssertEqual(c.log.level, "debug")
        XCTAssertEqual(c.feed, "none")
        XCTAssertEqual(c.dataDir, "/var/lib/df")
        // Every key's variable is DFP_ + upper-cased key with dots as underscores.
        for info in ConfigLoader.keys {
            XCTAssertEqual(info.env, "DFP_" + info.key.uppercased().replacingOccurrences(of: ".", with: "_"))
        }
    }

    func testShortAliases() throws {
        let c = try load(env: ["DFP_HOST": "0.0.0.0", "DFP_PORT": "0", "DFP_CERT": "/a.pem", "DFP_KEY": "/b.pem",
                               "DFP_ADMIN_TOKEN": "0123456789abcdef"])
        XCTAssertEqual(c.server.host, "0.0.0.0")
        XCTAssertEqual(c.server.port, 0)
        XCTAssertEqual(c.tls.cert, "/a.pem")
        XCTAssertEqual(c.tls.key, "/b.pem")
        XCTAssertEqual(c.admin.token, "0123456789abcdef")
        let aliases = Dictionary(uniqueKeysWithValues: ConfigLoader.keys.map { ($0.key, $0.aliases) })
        XCTAssertEqual(aliases["server.host"], ["DFP_HOST"])
        XCTAssertEqual(aliases["server.port"], ["DFP_PORT"])
        XCTAssertEqual(aliases["tls.cert"], ["DFP_CERT"])
        XCTAssertEqual(aliases["tls.key"], ["DFP_KEY"])
        // These short names are the long names already: no duplicate alias.
        XCTAssertEqual(ConfigLoader.info(for: "feed")?.env, "DFP_FEED")
        XCTAssertEqual(ConfigLoader.info(for: "data_dir")?.env, "DFP_DATA_DIR")
        XCTAssertEqual(ConfigLoader.info(for: "log.level")?.env, "DFP_LOG_LEVEL")
        XCTAssertEqual(ConfigLoader.info(for: "admin.token")?.env, "DFP_ADMIN_TOKEN")
        XCTAssertEqual(aliases["feed"], [])
    }

    func testAliasAndLongFormTogether() throws {
        XCTAssertEqual(try load(env: ["DFP_PORT": "9000", "DFP_SERVER_PORT": "9000"]).server.port, 9000)
        let error = loadError(env: ["DFP_PORT": "9000", "DFP_SERVER_PORT": "9001"])
        assertError(error, key: "server.port", contains: ["DFP_PORT and DFP_SERVER_PORT", "\"9000\"", "\"9001\""],
                    source: "DFP_PORT")
    }

    func testBoolParsingFromEnvironmentAndFlags() throws {
        for (text, value) in [("true", true), ("TRUE", true), ("1", true), ("yes", true), ("Yes", true),
                              ("false", false), ("0", false), ("no", false), ("NO", false)] {
            XCTAssertEqual(try load(env: ["DFP_STATIC_GZIP": text]).staticFiles.gzip, value, text)
            XCTAssertEqual(try load(flags: [flag("log.access_log", text, "--access-log")]).log.accessLog, value, text)
        }
        assertError(loadError(env: ["DFP_STATIC_GZIP": "maybe"]), key: "static.gzip",
                    contains: ["must be a boolean (true, false, 1, 0, yes, no)", "got \"maybe\""], source: "DFP_STATIC_GZIP")
        assertError(loadError(env: ["DFP_STATIC_GZIP": "2"]), key: "static.gzip", contains: ["got \"2\""],
                    source: "DFP_STATIC_GZIP")
    }

    func testBoolParsingInFileIsStrict() throws {
        XCTAssertFalse(try load(file: write(#"{"static": {"gzip": false}}"#)).staticFiles.gzip)
        let file = try write(#"{"static": {"gzip": 0}}"#)
        assertError(loadError(file: file), key: "static.gzip", contains: ["must be true or false (got 0 from"], source: file)
        let quoted = try write(#"{"static": {"gzip": "true"}}"#)
        assertError(loadError(file: quoted), key: "static.gzip", contains: ["got \"true\""], source: quoted)
    }

    func testCORSListFromEnvironment() throws {
        let c = try load(env: ["DFP_HTTP_CORS_ALLOWED_ORIGINS": " https://a.example , http://localhost:3000,,"])
        XCTAssertEqual(c.http.cors.allowedOrigins, ["https://a.example", "http://localhost:3000"])
        XCTAssertEqual(try load(env: ["DFP_HTTP_CORS_ALLOWED_ORIGINS": "*"]).http.cors.allowedOrigins, ["*"])
        let file = try write(#"{"http": {"cors": {"allowed_origins": ["https://x.example"]}}}"#)
        XCTAssertEqual(try load(file: file).http.cors.allowedOrigins, ["https://x.example"])
        // "," clears a list set by the file (an empty variable counts as unset).
        XCTAssertEqual(try load(file: file, env: ["DFP_HTTP_CORS_ALLOWED_ORIGINS": ","]).http.cors.allowedOrigins, [])
        XCTAssertEqual(try load(file: file, env: ["DFP_HTTP_CORS_ALLOWED_ORIGINS": ""]).http.cors.allowedOrigins,
                       ["https://x.example"])
        assertError(loadError(env: ["DFP_HTTP_CORS_ALLOWED_ORIGINS": "https://a.example/"]),
                    key: "http.cors.allowed_origins", contains: ["\"https://a.example/\" in the list", "no path or trailing slash"],
                    source: "DFP_HTTP_CORS_ALLOWED_ORIGINS")
        assertError(loadError(env: ["DFP_HTTP_CORS_ALLOWED_ORIGINS": "*,https://a.example"]),
                    key: "http.cors.allowed_origins", contains: ["\"*\" in the list", "\"*\" alone"],
                    source: "DFP_HTTP_CORS_ALLOWED_ORIGINS")
    }

    func testSecondsAcceptIntegersAndFractions() throws {
        let file = try write(#"{"tls": {"handshake_timeout_s": 1.5}, "shutdown": {"grace_s": 0}, "http": {"keepalive_idle_s": 5}}"#)
        let c = try load(file: file)
        XCTAssertEqual(c.tls.handshakeTimeoutSeconds, 1.5)
        XCTAssertEqual(c.shutdown.graceSeconds, 0)
        XCTAssertEqual(c.http.keepAliveIdleSeconds, 5)
    }

    func testIntegralFloatingPointNumbersAreIntegers() throws {
        XCTAssertEqual(try load(file: write(#"{"server": {"port": 9443.0}}"#)).server.port, 9443)
    }

    func testEmptyFlagClearsAnOptionalString() throws {
        let file = try write(#"{"tls": {"cert": "/c.pem", "key": "/k.pem"}}"#)
        let c = try load(file: file, flags: [flag("tls.cert", "", "--cert"), flag("tls.key", "", "--key")])
        XCTAssertNil(c.tls.cert)
        XCTAssertNil(c.tls.key)
    }

    func testRedactedJSONRoundTripsAndHidesTheToken() throws {
        var config = GatewayConfig()
        config.server.port = 9443
        config.http.cors.allowedOrigins = ["https://a.example"]
        config.staticFiles.cacheControl = "say \"hi\"\n"
        let json = config.redactedJSON()
        XCTAssertEqual(try load(file: write(json)), config)
        XCTAssertTrue(json.contains("\"allowed_origins\": [\"https://a.example\"]"), json)
        XCTAssertTrue(json.contains("\"token\": null"), json)

        config.admin.token = "s3cret-s3cret-s3cret"
        let redacted = config.redactedJSON()
        XCTAssertFalse(redacted.contains("s3cret"), redacted)
        XCTAssertTrue(redacted.contains("\"token\": \"***\""), redacted)
        XCTAssertEqual(ConfigLoader.info(for: "admin.token")?.secret, true)
    }

    func testRedactedJSONOfDefaultsMatchesTheCommittedFileLayout() throws {
        // Same keys, same order as Config/dongfeng.json once its _doc comments are dropped.
        let committed = try String(contentsOfFile: repoPath("Config/dongfeng.json"), encoding: .utf8)
        let withoutDocs = committed.split(separator: "\n").filter { !$0.contains("\"_doc\"") }.joined(separator: "\n")
        XCTAssertEqual(GatewayConfig().redactedJSON(), withoutDocs.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

final class PipelineConfigTests: XCTestCase {
    func testPipelineAndSimulatorKeys() throws {
        let c = try ConfigLoader.load(file: nil, environment: ["DFP_PIPELINE_INTERVAL": "1m", "DFP_SIMULATOR_SYMBOLS": "600519.SH, ABC"],
                                      overrides: [])
        XCTAssertEqual(c.pipeline.interval, "1m")
        XCTAssertEqual(SignalService.instruments(c.simulator.symbols).map(\.symbol), ["600519.SH", "ABC"])
        XCTAssertEqual(SignalService.instruments("*").count, 8)
        for (env, key) in [(["DFP_PIPELINE_INTERVAL": "often"], "pipeline.interval"),
                           (["DFP_SIMULATOR_SYMBOLS": "A B"], "simulator.symbols"),
                           (["DFP_SIMULATOR_TICKS_PER_SECOND": "0"], "simulator.ticks_per_second")] {
            XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: env, overrides: [])) {
                XCTAssertEqual(($0 as? ConfigError)?.key, key)
            }
        }
    }
}
