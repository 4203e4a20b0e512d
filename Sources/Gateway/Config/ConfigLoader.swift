import Contracts
import Foundation

/// A setting that could not be used: always names the key and where the value came from.
/// Secret values are never echoed.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let key: String
    public let message: String
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { "config error: \(key): \(message)" }
}

/// A value given on the command line for a config key.
public struct ConfigOverride: Sendable {
    public let key: String
    public let value: String
    /// The flag, e.g. "--port", for error messages.
    public let source: String
    public init(key: String, value: String, source: String) {
        self.key = key
        self.value = value
        self.source = source
    }
}

/// Loads `GatewayConfig`: defaults, then the JSON file, then `DFP_*` variables, then flags.
///
/// Why our own layer and not swift-configuration: one table (`ConfigKeys`) is the single
/// source of the keys, their env names, ranges and docs (docs/CONFIG.md is checked against it
/// by a test); unknown keys in the file are errors, so a typo cannot silently fall back to a
/// default; every error names the key and its source; and no extra dependency to build.
public enum ConfigLoader {
    public static let defaultFile = "Config/dongfeng.json"

    /// Every key, in documentation order.
    public static var keys: [ConfigKeyInfo] { ConfigKeys.all }

    /// `file`: an explicit path (from `--config` or `DFP_CONFIG`) must exist; nil means
    /// `Config/dongfeng.json` when present, else the built-in defaults.
    public static func load(file: String?, environment: [String: String], overrides: [ConfigOverride]) throws(ConfigError)
        -> GatewayConfig
    {
        var config = GatewayConfig()
        let path = file ?? (FileManager.default.fileExists(atPath: defaultFile) ? defaultFile : nil)
        if let path { try applyFile(path, to: &config) }
        try applyEnvironment(environment, to: &config)
        for override in overrides {
            guard let info = keys.first(where: { $0.key == override.key }) else {
                throw ConfigError(key: override.key, message: "unknown key (from \(override.source))")
            }
            try info.apply(text: override.value, source: override.source, to: &config)
        }
        try validate(config)
        return config
    }

    private static func applyFile(_ path: String, to config: inout GatewayConfig) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "(file)", message: "cannot read config file \(path)")
        }
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ConfigError(key: "(file)", message: "\(path) is not valid JSON: \(Self.describe(error))")
        }
        guard case .object(let top) = root else {
            throw ConfigError(key: "(file)", message: "\(path) must hold a JSON object")
        }
        try walk(top, prefix: "", path: path, into: &config)
    }

    private static func walk(_ object: [String: JSONValue], prefix: String, path: String,
                             into config: inout GatewayConfig) throws(ConfigError) {
        for name in object.keys.sorted() where !name.hasPrefix("_") {
            guard let value = object[name] else { continue }
            let key = prefix + name
            if let info = keys.first(where: { $0.key == key }) {
                try info.apply(json: value, source: path, to: &config)
            } else if case .object(let inner) = value, keys.contains(where: { $0.key.hasPrefix(key + ".") }) {
                try walk(inner, prefix: key + ".", path: path, into: &config)
            } else {
                throw ConfigError(key: key, message: "unknown key in \(path)")
            }
        }
    }

    private static func applyEnvironment(_ environment: [String: String], to config: inout GatewayConfig) throws(ConfigError) {
        for info in keys {
            let long = environment[info.env]
            let short = info.alias.flatMap { environment[$0] }
            if let long, let short, long != short, let alias = info.alias {
                throw ConfigError(key: info.key, message: "\(alias) and \(info.env) are both set and differ")
            }
            if let long {
                try info.apply(text: long, source: info.env, to: &config)
            } else if let short, let alias = info.alias {
                try info.apply(text: short, source: alias, to: &config)
            }
        }
    }

    /// Rules that involve more than one key.
    static func validate(_ config: GatewayConfig) throws(ConfigError) {
        if (config.tls.cert == nil) != (config.tls.key == nil) {
            throw ConfigError(key: config.tls.cert == nil ? "tls.cert" : "tls.key",
                              message: "tls.cert and tls.key must be given together")
        }
        if config.server.loops > 1 && !config.server.reusePort {
            throw ConfigError(key: "server.loops", message: "more than one loop needs server.reuse_port = true")
        }
        if config.http.maxURIBytes > config.http.maxHeaderBytes {
            throw ConfigError(key: "http.max_uri_bytes", message: "must not exceed http.max_header_bytes (\(config.http.maxHeaderBytes))")
        }
        if config.plainHTTP.enabled && config.plainHTTP.port != 0 && config.plainHTTP.port == config.server.port {
            throw ConfigError(key: "plain_http.port", message: "must differ from server.port (\(config.server.port))")
        }
    }

    private static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                ?? context.debugDescription
        }
        return "\(error)"
    }
}

