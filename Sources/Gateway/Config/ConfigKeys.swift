/// One config key: its dotted name, environment variable, type and range, default and doc.
public struct ConfigKeyInfo: Sendable {
    public enum Kind: Sendable {
        case string, optionalString, bool, stringList
        case int(ClosedRange<Int>)
        case seconds(ClosedRange<Double>)
        case choice([String])
    }
    enum Value { case string(String?), int(Int), double(Double), bool(Bool), list([String]) }

    public let key: String
    /// `DFP_` + the key upper-cased with dots as underscores.
    public var env: String { "DFP_" + key.uppercased().replacingOccurrences(of: ".", with: "_") }
    /// A short variable from the CLI contract (`DFP_PORT`), if any.
    public let alias: String?
    public let kind: Kind
    public let doc: String
    /// Secrets are never echoed in errors or `--print-config`.
    public let secret: Bool
    let set: @Sendable (inout GatewayConfig, Value) -> Void
    let get: @Sendable (GatewayConfig) -> Value

    /// The value in `config` as JSON text.
    public func current(_ config: GatewayConfig) -> String { Self.json(get(config)) }
    public var defaultText: String { current(GatewayConfig()) }

    func apply(json value: JSONValue, source: String, to config: inout GatewayConfig) throws(ConfigError) {
        set(&config, try convert(json: value, source: source))
    }

    func apply(text: String, source: String, to config: inout GatewayConfig) throws(ConfigError) {
        set(&config, try convert(text: text, source: source))
    }

    private func fail(_ what: String, _ got: String, _ source: String) -> ConfigError {
        ConfigError(key: key, message: "must be \(what) (got \(secret ? "a secret value" : got) from \(source))")
    }

    private var expectation: String {
        switch kind {
        case .string: "a string"
        case .optionalString: secret ? "a string of at least 16 characters, or null" : "a string or null"
        case .bool: "true or false"
        case .stringList: "a list of strings"
        case .int(let r): "an integer between \(r.lowerBound) and \(r.upperBound)"
        case .seconds(let r): "a number of seconds between \(Self.format(r.lowerBound)) and \(Self.format(r.upperBound))"
        case .choice(let options): "one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")
        }
    }

    private func convert(json: JSONValue, source: String) throws(ConfigError) -> Value {
        switch (kind, json) {
        case (.string, .string(let s)), (.choice, .string(let s)), (.optionalString, .string(let s)):
            return try convert(text: s, source: source)
        case (.optionalString, .null): return .string(nil)
        case (.bool, .bool(let b)): return .bool(b)
        case (.int, .int(let i)): return try convert(text: String(i), source: source)
        case (.seconds, .int(let i)): return try convert(text: String(i), source: source)
        case (.seconds, .double(let d)): return try convert(text: String(d), source: source)
        case (.stringList, .array(let items)):
            var list: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw fail(expectation, item.typeName + " in the list", source) }
                list.append(s)
            }
            return .list(list)
        default:
            throw fail(expectation, json.typeName, source)
        }
    }

    private func convert(text: String, source: String) throws(ConfigError) -> Value {
        let shown = "\"\(text)\""
        switch kind {
        case .string:
            guard !text.isEmpty else { throw fail("a non-empty string", shown, source) }
            return .string(text)
        case .optionalString:
            if text.isEmpty || text == "null" { return .string(nil) }
            if secret && text.count < 16 { throw fail(expectation, shown, source) }
            return .string(text)
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: throw fail(expectation, shown, source)
            }
        case .stringList:
            return .list(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        case .int(let range):
            guard let i = Int(text), range.contains(i) else { throw fail(expectation, shown, source) }
            return .int(i)
        case .seconds(let range):
            guard let d = Double(text), d.isFinite, range.contains(d) else { throw fail(expectation, shown, source) }
            return .double(d)
        case .choice(let options):
            guard options.contains(text) else { throw fail(expectation, shown, source) }
            return .string(text)
        }
    }

    private static func format(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

    private static func json(_ value: Value) -> String {
        switch value {
        case .string(nil): return "null"
        case .string(let s?): return quote(s)
        case .int(let i): return String(i)
        case .double(let d): return format(d)
        case .bool(let b): return b ? "true" : "false"
        case .list(let l): return "[" + l.map(quote).joined(separator: ", ") + "]"
        }
    }

    private static func quote(_ s: String) -> String {
        var bytes: [UInt8] = []
        JSONWriter.appendEscaped(s, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

import Contracts
import Foundation

/// The table of every key. Adding a setting = one line here (+ the field in GatewayConfig).
enum ConfigKeys {
    typealias C = GatewayConfig
    typealias V = ConfigKeyInfo.Value

    private static func str(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, String> & Sendable,
                            _ doc: String) -> ConfigKeyInfo {
        str(key, alias: alias, kp, .string, doc)
    }
    private static func str(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, String> & Sendable,
                            _ kind: ConfigKeyInfo.Kind, _ doc: String) -> ConfigKeyInfo {
        ConfigKeyInfo(key: key, alias: alias, kind: kind, doc: doc, secret: false,
                      set: { c, v in if case .string(let s?) = v { c[keyPath: kp] = s } },
                      get: { .string($0[keyPath: kp]) })
    }
    private static func opt(_ key: String, alias: String? = nil, secret: Bool = false,
                            _ kp: WritableKeyPath<C, String?> & Sendable, _ doc: String) -> ConfigKeyInfo {
        ConfigKeyInfo(key: key, alias: alias, kind: .optionalString, doc: doc, secret: secret,
                      set: { c, v in if case .string(let s) = v { c[keyPath: kp] = s } },
                      get: { .string($0[keyPath: kp]) })
    }
    private static func int(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, Int> & Sendable,
                            _ range: ClosedRange<Int>, _ doc: String) -> ConfigKeyInfo {
        ConfigKeyInfo(key: key, alias: alias, kind: .int(range), doc: doc, secret: false,
                      set: { c, v in if case .int(let i) = v { c[keyPath: kp] = i } },
                      get: { .int($0[keyPath: kp]) })
    }
    private static func secs(_ key: String, _ kp: WritableKeyPath<C, Double> & Sendable,
                             _ range: ClosedRange<Double>, _ doc: String) -> ConfigKeyInfo {
        ConfigKeyInfo(key: key, alias: nil, kind: .seconds(range), doc: doc, secret: false,
                      set: { c, v in if case .double(let d) = v { c[keyPath: kp] = d } },
                      get: { .double($0[keyPath: kp]) })
    }
    private static func bool(_ key: String, _ kp: WritableKeyPath<C, Bool> & Sendable, _ doc: String) -> ConfigKeyInfo {
        ConfigKeyInfo(key: key, alias: nil, kind: .bool, doc: doc, secret: false,
                      set: { c, v in if case .bool(let b) = v { c[keyPath: kp] = b } },
                      get: { .bool($0[keyPath: kp]) })
    }
    private static func list(_ key: String, _ kp: WritableKeyPath<C, [String]> & Sendable, _ doc: String) -> ConfigKeyInfo {
        ConfigKeyInfo(key: key, alias: nil, kind: .stringList, doc: doc, secret: false,
                      set: { c, v in if case .list(let l) = v { c[keyPath: kp] = l } },
                      get: { .list($0[keyPath: kp]) })
    }

    static let all: [ConfigKeyInfo] = [
        str("server.host", alias: "DFP_HOST", \.server.host, "Address to listen on (IPv4, IPv6 or localhost)."),
        int("server.port", alias: "DFP_PORT", \.server.port, 0...65535, "HTTPS port; 0 picks a free port and logs it."),
        int("server.loops", \.server.loops, 1...64, "Reactor loops, one thread each; more than 1 needs reuse_port."),
        bool("server.reuse_port", \.server.reusePort, "Bind each loop's socket with SO_REUSEPORT (kernel balances accepts)."),
        int("server.max_connections", \.server.maxConnections, 1...1_000_000, "Open connections at most; more are accepted and closed at once."),
        int("server.backlog", \.server.backlog, 1...65535, "listen() backlog."),
        opt("tls.cert", alias: "DFP_CERT", \.tls.cert, "Certificate chain PEM. Unset: tls.cert_dir's dev pair, generated at first start."),
        opt("tls.key", alias: "DFP_KEY", \.tls.key, "Private key PEM for tls.cert."),
        str("tls.cert_dir", \.tls.certDir, "Where the development certificate is kept (dev-cert.pem, dev-key.pem)."),
        secs("tls.handshake_timeout_s", \.tls.handshakeTimeoutSeconds, 0.1...300, "A TLS handshake must finish within this."),
        bool("tls.session_tickets", \.tls.sessionTickets, "Issue stateless TLS session tickets (faster reconnects)."),
        str("tls.min_version", \.tls.minVersion, .choice(["1.2", "1.3"]), "Oldest TLS version accepted."),
        bool("plain_http.enabled", \.plainHTTP.enabled, "Also listen for plain HTTP (local tools)."),
        int("plain_http.port", \.plainHTTP.port, 0...65535, "Port of the plain HTTP listener."),
        str("plain_http.mode", \.plainHTTP.mode, .choice(["redirect", "serve"]), "redirect: answer 308 to https; serve: same routes as HTTPS."),
        int("http.max_header_bytes", \.http.maxHeaderBytes, 1024...1_048_576, "Request line + headers at most (431)."),
        int("http.max_headers", \.http.maxHeaders, 1...1000, "Header fields at most (431)."),
        int("http.max_uri_bytes", \.http.maxURIBytes, 256...1_048_576, "Request target at most (414)."),
        int("http.max_body_bytes", \.http.maxBodyBytes, 0...1 << 30, "Request body at most (413)."),
        secs("http.header_timeout_s", \.http.headerTimeoutSeconds, 0.1...3600, "A request must arrive within this from its first byte (408)."),
        secs("http.keepalive_idle_s", \.http.keepAliveIdleSeconds, 0.1...86_400, "An idle keep-alive connection is closed after this."),
        int("http.max_write_queue_bytes", \.http.maxWriteQueueBytes, 65_536...1 << 30, "Response bytes queued for a slow client at most; beyond, the connection closes."),
        list("http.cors_origins", \.http.cors.allowedOrigins, "Origins allowed by CORS; [] = CORS off, [\"*\"] = any. Env: comma-separated."),
        str("static.root", \.staticFiles.root, "Folder served at / (the page)."),
        str("static.cache_control", \.staticFiles.cacheControl, "Cache-Control for assets (HTML always revalidates: no-cache)."),
        bool("static.gzip", \.staticFiles.gzip, "Serve pre-compressed gzip variants to clients that accept them."),
        int("static.max_file_bytes", \.staticFiles.maxFileBytes, 1...1 << 30, "Files larger than this are not served."),
        opt("admin.token", alias: "DFP_ADMIN_TOKEN", secret: true, \.admin.token, "Bearer token for /admin/* (≥ 16 chars). Unset: admin from loopback only. Prefer the environment variable."),
        secs("shutdown.grace_s", \.shutdown.graceSeconds, 0...300, "On SIGTERM/SIGINT, time to finish in-flight responses before closing."),
        str("log.level", alias: "DFP_LOG_LEVEL", \.log.level, .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]), "Log level."),
        bool("log.access_log", \.log.accessLog, "Log one line per request."),
        str("feed", alias: "DFP_FEED", \.feed, .choice(["simulator", "none"]), "Market data source at start: the built-in simulator or none."),
        str("data_dir", alias: "DFP_DATA_DIR", \.dataDir, "Data directory (journal, snapshots)."),
    ]
}
