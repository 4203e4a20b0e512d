import Foundation
@testable import Gateway
import XCTest

/// Every class of error names its key and its source; secrets are never echoed.
final class ConfigErrorTests: ConfigTestCase {
    func testOutOfRangeFromEachSource() throws {
        let e1 = loadError(env: ["DFP_HTTP_MAX_BODY_BYTES": "abc"])
        XCTAssertEqual(e1.description, "config error: http.max_body_bytes: must be an integer between 0 and 1073741824 (got \"abc\" from DFP_HTTP_MAX_BODY_BYTES)")
        assertError(loadError(flags: [flag("server.port", "70000", "--port")]), key: "server.port",
                    contains: ["must be an integer between 0 and 65535 (got \"70000\" from --port)"], source: "--port")
        let file = try write(#"{"server": {"max_connections": 0}}"#)
        assertError(loadError(file: file), key: "server.max_connections",
                    contains: ["must be an integer between 1 and 1000000 (got 0 from \(file))"], source: file)
        assertError(loadError(env: ["DFP_PORT": "-1"]), key: "server.port", contains: ["got \"-1\""], source: "DFP_PORT")
        assertError(loadError(env: ["DFP_SERVER_LOOPS": "65"]), key: "server.loops", contains: ["between 1 and 64"],
                    source: "DFP_SERVER_LOOPS")
        assertError(loadError(env: ["DFP_HTTP_MAX_WRITE_QUEUE_BYTES": "65535"]), key: "http.max_write_queue_bytes",
                    contains: ["between 65536 and"], source: "DFP_HTTP_MAX_WRITE_QUEUE_BYTES")
        assertError(loadError(env: ["DFP_HTTP_MAX_HEADER_BYTES": "1023"]), key: "http.max_header_bytes",
                    contains: ["between 1024 and 1048576"], source: "DFP_HTTP_MAX_HEADER_BYTES")
    }

    func testSecondsRanges() throws {
        assertError(loadError(env: ["DFP_TLS_HANDSHAKE_TIMEOUT_S": "0"]), key: "tls.handshake_timeout_s",
                    contains: ["must be a number of seconds greater than 0 and at most 300 (got \"0\""],
                    source: "DFP_TLS_HANDSHAKE_TIMEOUT_S")
        assertError(loadError(flags: [flag("tls.handshake_timeout_s", "300.5", "--handshake-timeout")]),
                    key: "tls.handshake_timeout_s", contains: ["got \"300.5\""], source: "--handshake-timeout")
        XCTAssertEqual(try load(env: ["DFP_TLS_HANDSHAKE_TIMEOUT_S": "300"]).tls.handshakeTimeoutSeconds, 300)
        let file = try write(#"{"shutdown": {"grace_s": -1}}"#)
        assertError(loadError(file: file), key: "shutdown.grace_s",
                    contains: ["must be a number of seconds between 0 and 300 (got -1 from"], source: file)
        assertError(loadError(env: ["DFP_SHUTDOWN_GRACE_S": "nan"]), key: "shutdown.grace_s", contains: ["got \"nan\""],
                    source: "DFP_SHUTDOWN_GRACE_S")
    }

    func testWrongJSONTypeNamesTheExpectedType() throws {
        let port = try write(#"{"server": {"port": "8443"}}"#)
        assertError(loadError(file: port), key: "server.port",
                    contains: ["must be an integer between 0 and 65535 (got \"8443\" from \(port))"], source: port)
        let fraction = try write(#"{"server": {"port": 8443.5}}"#)
        assertError(loadError(file: fraction), key: "server.port", contains: ["must be an integer", "got 8443.5"], source: fraction)
        let bool = try write(#"{"server": {"backlog": true}}"#)
        assertError(loadError(file: bool), key: "server.backlog", contains: ["got true"], source: bool)
        let host = try write(#"{"server": {"host": 127}}"#)
        assertError(loadError(file: host), key: "server.host", contains: ["must be a non-empty string (got 127"], source: host)
        let version = try write(#"{"tls": {"min_version": 1.3}}"#)
        assertError(loadError(file: version), key: "tls.min_version", contains: ["must be one of \"1.2\", \"1.3\" (got 1.3"],
                    source: version)
        let list = try write(#"{"http": {"cors": {"allowed_origins": "https://a.example"}}}"#)
        assertError(loadError(file: list), key: "http.cors.allowed_origins", contains: ["a list of origin strings", "got \"https://a.example\""],
                    source: list)
        let item = try write(#"{"http": {"cors": {"allowed_origins": ["https://a.example", 7]}}}"#)
        assertError(loadError(file: item), key: "http.cors.allowed_origins", contains: ["got 7 in the list"], source: item)
        let object = try write(#"{"feed": {"kind": "simulator"}}"#)
        assertError(loadError(file: object), key: "feed", contains: ["got an object"], source: object)
        let section = try write(#"{"server": 8443}"#)
        assertError(loadError(file: section), key: "server", contains: ["must be an object holding the server.* keys (got 8443"],
                    source: section)
        let empty = try write(#"{"static": {"root": ""}}"#)
        assertError(loadError(file: empty), key: "static.root", contains: ["must be a non-empty string (got \"\""], source: empty)
    }

    func testChoices() throws {
        assertError(loadError(env: ["DFP_LOG_LEVEL": "verbose"]), key: "log.level",
                    contains: ["must be one of \"trace\", \"debug\", \"info\", \"notice\", \"warning\", \"error\", \"critical\" (got \"verbose\""],
                    source: "DFP_LOG_LEVEL")
        assertError(loadError(flags: [flag("feed", "binance", "--feed")]), key: "feed",
                    contains: ["one of \"simulator\", \"none\"", "got \"binance\""], source: "--feed")
        assertError(loadError(env: ["DFP_PLAIN_HTTP_MODE": "proxy"]), key: "plain_http.mode", contains: ["\"redirect\", \"serve\""],
                    source: "DFP_PLAIN_HTTP_MODE")
        assertError(loadError(env: ["DFP_TLS_MIN_VERSION": "1.1"]), key: "tls.min_version", contains: ["got \"1.1\""],
                    source: "DFP_TLS_MIN_VERSION")
    }

    func testUnknownKeysAreErrorsWithTheFullDottedKey() throws {
        let typo = try write(#"{"http": {"max_body_byte": 10}}"#)
        assertError(loadError(file: typo), key: "http.max_body_byte",
                    contains: ["unknown key in \(typo) (did you mean http.max_body_bytes?)"], source: typo)
        let nested = try write(#"{"http": {"cors": {"origins": ["*"]}}}"#)
        assertError(loadError(file: nested), key: "http.cors.origins", contains: ["unknown key in"], source: nested)
        let top = try write(#"{"servers": {"port": 1}}"#)
        assertError(loadError(file: top), key: "servers", contains: ["did you mean server?"], source: top)
        let leafAsSection = try write(#"{"feed": "none", "colour": "red"}"#)
        assertError(loadError(file: leafAsSection), key: "colour", contains: ["unknown key"], source: leafAsSection)
        let dotted = try write(#"{"server.port": 9000}"#)
        assertError(loadError(file: dotted), key: "server.port", contains: ["nest sections as objects"], source: dotted)
        assertError(loadError(flags: [flag("server.prot", "1", "--prot")]), key: "server.prot",
                    contains: ["unknown key (from --prot) (did you mean server.port?)"], source: "--prot")
    }

    func testUnderscoreKeysAreDocumentationAtAnyLevel() throws {
        let file = try write("""
            {"_doc": "top", "_comment": {"anything": [1, 2]},
             "server": {"_doc": "s", "port": 9443, "_old_port": 1},
             "http": {"cors": {"_doc": "c", "allowed_origins": []}}}
            """)
        var expected = GatewayConfig()
        expected.server.port = 9443
        XCTAssertEqual(try load(file: file), expected)
    }

    func testMissingExplicitFile() throws {
        let error = loadError(file: "/nonexistent/dongfeng.json")
        XCTAssertEqual(error.description, "config error: (file): config file /nonexistent/dongfeng.json does not exist (from --config)")
        let directory = loadError(file: FileManager.default.temporaryDirectory.path)
        assertError(directory, key: "(file)", contains: ["cannot read config file"], source: "--config")
    }

    func testMalformedJSON() throws {
        let file = try write("{\n  \"server\": {\n    \"port\": 8443,\n    \"host\": oops\n  }\n}\n")
        let error = loadError(file: file)
        assertError(error, key: "(file)", contains: ["\(file) is not valid JSON: Invalid value around character 46 (line 4, column 13)"],
                    source: file)
        let truncated = try write(#"{"server": {"port": 8443"#)
        assertError(loadError(file: truncated), key: "(file)", contains: ["is not valid JSON"], source: truncated)
        let array = try write("[1, 2]")
        assertError(loadError(file: array), key: "(file)", contains: ["must hold a JSON object (got an array)"], source: array)
    }

    func testAdminTokenMinimumLengthAndNeverEchoed() throws {
        let short = "hunter2-short"
        let fromEnv = loadError(env: ["DFP_ADMIN_TOKEN": short])
        XCTAssertEqual(fromEnv.description,
                       "config error: admin.token: must be a string of at least 16 characters (got 13 characters from DFP_ADMIN_TOKEN)")
        let file = try write(#"{"admin": {"token": "hunter2-short"}}"#)
        let fromFile = loadError(file: file)
        assertError(fromFile, key: "admin.token", contains: ["at least 16 characters", "got 13 characters"], source: file)
        XCTAssertFalse(fromFile.description.contains("hunter2"))
        let numeric = try write(#"{"admin": {"token": 1234567890123456789}}"#)
        let wrongType = loadError(file: numeric)
        assertError(wrongType, key: "admin.token", contains: ["got a number"], source: numeric)
        XCTAssertFalse(wrongType.description.contains("1234567890"))
        let flagError = loadError(flags: [flag("admin.token", short, "--admin-token")])
        XCTAssertFalse(flagError.description.contains("hunter2"))
        XCTAssertEqual(try load(env: ["DFP_ADMIN_TOKEN": "0123456789abcdef"]).admin.token, "0123456789abcdef")
    }

    /// Secrets from files (Kubernetes secret volumes, systemd credentials, Docker secrets): the
    /// contents without the trailing line break; errors name the variable, never the value.
    func testSecretsReadFromFilesNamedByFileVariables() throws {
        let token = try write("0123456789abcdef-from-file\n")
        XCTAssertEqual(try load(env: ["DFP_ADMIN_TOKEN_FILE": token]).admin.token, "0123456789abcdef-from-file")
        let key = try write("ingest-key-0123456789\r\n")
        XCTAssertEqual(try load(env: ["DFP_API_INGEST_KEY_FILE": key]).api.ingestKey, "ingest-key-0123456789")
        XCTAssertEqual(try load(env: ["DFP_INGEST_API_KEY_FILE": key]).api.ingestKey, "ingest-key-0123456789")
        let short = try write("hunter2-short\n")
        let tooShort = loadError(env: ["DFP_ADMIN_TOKEN_FILE": short])
        XCTAssertEqual(tooShort.description,
                       "config error: admin.token: must be a string of at least 16 characters (got 13 characters from DFP_ADMIN_TOKEN_FILE)")
        let both = loadError(env: ["DFP_ADMIN_TOKEN_FILE": token, "DFP_ADMIN_TOKEN": "0123456789abcdef"])
        XCTAssertEqual(both.description, "config error: admin.token: DFP_ADMIN_TOKEN and DFP_ADMIN_TOKEN_FILE are both set; set only one")
        let missing = loadError(env: ["DFP_ADMIN_TOKEN_FILE": "/nonexistent/admin-token"])
        XCTAssertEqual(missing.description, "config error: admin.token: cannot read /nonexistent/admin-token (from DFP_ADMIN_TOKEN_FILE)")
        XCTAssertFalse(both.description.contains("from-file"))
    }

    func testCertAndKeyBothOrNeither() throws {
        let error = loadError(env: ["DFP_CERT": "/etc/dongfeng/fullchain.pem"])
        XCTAssertEqual(error.description, "config error: tls.key: must be set because tls.cert is set (tls.cert from DFP_CERT); give tls.cert and tls.key together, or neither")
        let file = try write(#"{"tls": {"key": "/k.pem"}}"#)
        assertError(loadError(file: file), key: "tls.cert", contains: ["because tls.key is set"], source: file)
        let both = try load(flags: [flag("tls.cert", "/c.pem", "--cert"), flag("tls.key", "/k.pem", "--key")])
        XCTAssertEqual(both.tls.cert, "/c.pem")
        XCTAssertEqual(both.tls.key, "/k.pem")
    }

    func testLoopsRequireReusePort() throws {
        let error = loadError(flags: [flag("server.loops", "4", "--loops")])
        XCTAssertEqual(error.description, "config error: server.loops: 4 loops require server.reuse_port = true (server.loops from --loops; server.reuse_port = false from default)")
        let ok = try load(flags: [flag("server.loops", "4", "--loops"), flag("server.reuse_port", "true", "--reuse-port")])
        XCTAssertEqual(ok.server.loops, 4)
        XCTAssertTrue(ok.server.reusePort)
    }

    func testURILimitWithinHeaderLimit() throws {
        let file = try write(#"{"http": {"max_header_bytes": 4096}}"#)
        let error = loadError(file: file)
        XCTAssertEqual(error.description, "config error: http.max_uri_bytes: must be at most http.max_header_bytes (4096, from \(file)) (got 8192 from default)")
        XCTAssertEqual(try load(file: file, env: ["DFP_HTTP_MAX_URI_BYTES": "4096"]).http.maxURIBytes, 4096)
    }

    func testPlainHTTPPortMustDifferFromServerPort() throws {
        let clash = loadError(env: ["DFP_PLAIN_HTTP_ENABLED": "true", "DFP_PLAIN_HTTP_PORT": "8443"])
        assertError(clash, key: "plain_http.port",
                    contains: ["must differ from server.port", "both 8443", "plain_http.port from DFP_PLAIN_HTTP_PORT", "server.port from default"],
                    source: "DFP_PLAIN_HTTP_PORT")
        XCTAssertEqual(try load(env: ["DFP_PLAIN_HTTP_ENABLED": "true", "DFP_PLAIN_HTTP_PORT": "0", "DFP_PORT": "0"]).plainHTTP.port, 0)
        // Disabled, the plain port is not used, so it cannot clash.
        XCTAssertEqual(try load(env: ["DFP_PLAIN_HTTP_PORT": "8443"]).plainHTTP.port, 8443)
    }

    func testErrorsAreEquatableValues() {
        XCTAssertEqual(loadError(env: ["DFP_PORT": "x"]), loadError(env: ["DFP_PORT": "x"]))
        XCTAssertNotEqual(loadError(env: ["DFP_PORT": "x"]), loadError(env: ["DFP_PORT": "y"]))
    }
}
