import Contracts
import Foundation

/// A setting that cannot be used. Always names the key (`(file)` for whole-file problems)
/// and where the value came from: the file path,
/// the environment variable, or the flag. Secret values are never part of the message.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The dotted key, e.g. `http.max_body_bytes`, or `(file)`.
    public let key: String
    /// What is wrong, including the source, e.g. `must be … (got "abc" from DFP_PORT)`.
    public let message: String

    /// An error about `key`.
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// `config error: <key>: <message>` — one line, for stderr.
    public var description: String { "config error: \(key): \(message)" }
}

/// A value given on the command line for a config key.
public struct ConfigOverride: Sendable, Equatable {
    /// The dotted key, e.g. `server.port`.
    public let key: String
    /// The value as typed (parsed like an environment variable).
    public let value: String
    /// The flag, e.g. `--port`, named in errors.
    public let source: String

    /// A flag value for `key`.
    public init(key: String, value: String, source: String) {
        self.key = key
        self.value = value
        self.source = source
    }
}

/// Loads `GatewayConfig`: defaults, then the JSON file, then `DFP_*` environment variables,
/// then command-line flags. Each layer is validated as it is applied; rules that involve
/// several keys are checked last. See docs/CONFIG.md.
public enum ConfigLoader {
    /// The file read when none is named and it exists (relative to the working directory).
    public static let defaultFile = "Config/dongfeng.json"
    /// The environment variable naming the config file.
    public static let configFileVariable = "DFP_CONFIG"

    /// Every key, in documentation order (the order of Config/dongfeng.json).
    public static var keys: [ConfigKeyInfo] { ConfigKeys.all }

    /// The key named `key`, if there is one.
    public static func info(for key: String) -> ConfigKeyInfo? { index[key].map { ConfigKeys.all[$0] } }

    private static let index: [String: Int] = Dictionary(
        uniqueKeysWithValues: ConfigKeys.all.enumerated().map { ($1.key, $0) })

    /// Loads the configuration.
    /// - Parameters:
    ///   - file: an explicit path (from `--config`, or `DFP_CONFIG`); it must exist. When nil,
    ///     `DFP_CONFIG` from `environment` is used if set, else `Config/dongfeng.json` when it
    ///     exists, else the built-in defaults.
    ///   - environment: the process environment (injected by tests). Empty variables count as unset.
    ///   - overrides: values from command-line flags, highest precedence.
    /// - Throws: the first `ConfigError` found.
    public static func load(file: String?,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            overrides: [ConfigOverride] = []) throws(ConfigError) -> GatewayConfig {
        try load(file: file, environment: environment, overrides: overrides, defaultFile: defaultFile)
    }

    /// `load(file:environment:overrides:)` with the fallback file injectable (nil = none).
    static func load(file: String?, environment: [String: String], overrides: [ConfigOverride],
                     defaultFile: String?) throws(ConfigError) -> GatewayConfig {
        let environment = environment.filter { !$0.value.isEmpty }
        var state = State()
        if let file {
            let source = environment[configFileVariable] == file ? configFileVariable : "--config"
            try applyFile(file, named: source, to: &state)
        } else if let file = environment[configFileVariable] {
            try applyFile(file, named: configFileVariable, to: &state)
        } else if let defaultFile, FileManager.default.fileExists(atPath: defaultFile) {
            try applyFile(defaultFile, named: nil, to: &state)
        }
        try applyEnvironment(environment, to: &state)
        for override in overrides {
            guard let info = info(for: override.key) else {
                throw ConfigError(key: override.key, message: "unknown key (from \(override.source))"
                                  + suggestion(for: override.key))
            }
            try info.apply(text: override.value, source: override.source, to: &state.config)
            state.sources[info.key] = override.source
        }
        try checkRules(state)
        return state.config
    }

    /// The configuration being built, and where each key's value came from.
    struct State {
        var config = GatewayConfig()
        var sources: [String: String] = [:]
        func source(_ key: String) -> String { sources[key] ?? "default" }
    }

    // MARK: - File

    private static func applyFile(_ path: String, named origin: String?, to state: inout State) throws(ConfigError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(key: "(file)", message: "config file \(path) does not exist (from \(origin ?? "default"))")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "(file)", message: "cannot read config file \(path) (from \(origin ?? "default"))")
        }
        let root: ConfigValue
        do {
            root = try ConfigValue.parse(data)
        } catch {
            throw ConfigError(key: "(file)", message: "\(path) is not valid JSON: \(error.message)")
        }
        guard case .object(let top) = root else {
            throw ConfigError(key: "(file)", message: "\(path) must hold a JSON object (got \(root.shown))")
        }
        try walk(top, prefix: "", path: path, into: &state)
    }

    /// Applies every leaf; `_`-prefixed names are comments at any level.
    private static func walk(_ object: [String: ConfigValue], prefix: String, path: String,
                             into state: inout State) throws(ConfigError) {
        for name in object.keys.sorted() where !name.hasPrefix("_") {
            let value = object[name]!
            let key = prefix + name
            if name.contains(".") {
                throw ConfigError(key: key, message: "unknown key in \(path): nest sections as objects instead of"
                                  + " dotted names ({\"server\": {\"port\": 8443}})")
            }
            if let info = info(for: key) {
                try info.apply(json: value, source: path, to: &state.config)
                state.sources[key] = path
            } else if keys.contains(where: { $0.key.hasPrefix(key + ".") }) {
                guard case .object(let inner) = value else {
                    throw ConfigError(key: key, message: "must be an object holding the \(key).* keys"
                                      + " (got \(value.shown) from \(path))")
                }
                try walk(inner, prefix: key + ".", path: path, into: &state)
            } else {
                throw ConfigError(key: key, message: "unknown key in \(path)" + suggestion(for: key))
            }
        }
    }

    // MARK: - Environment

    private static func applyEnvironment(_ environment: [String: String], to state: inout State) throws(ConfigError) {
        var environment = environment
        let fromFiles = try readSecretFiles(&environment)
        for info in keys {
            let set = ([info.env] + info.aliases).filter { environment[$0] != nil }
            guard let variable = set.first, let text = environment[variable] else { continue }
            if let other = set.dropFirst().first(where: { environment[$0] != text }) {
                let values = info.secret ? "" : " (\(ConfigValue.quote(environment[other]!)) and \(ConfigValue.quote(text)))"
                throw ConfigError(key: info.key, message: "\(other) and \(variable) are both set, to different values"
                                  + values + "; set only one")
            }
            let source = fromFiles[variable] ?? variable
            try info.apply(text: text, source: source, to: &state.config)
            state.sources[info.key] = source
        }
    }

    /// A secret's variable may name a file holding it instead (`DFP_ADMIN_TOKEN_FILE`, the
    /// convention of container images, Kubernetes secret volumes and systemd credentials): its
    /// contents, without trailing line breaks, stand for the variable. Both set is an error, as
    /// is a file that cannot be read; the message names the variable and path, never the value.
    /// Returns the `_FILE` variable each secret variable was read through.
    private static func readSecretFiles(_ environment: inout [String: String]) throws(ConfigError) -> [String: String] {
        var sources: [String: String] = [:]
        for info in keys where info.secret {
            for variable in [info.env] + info.aliases {
                guard let path = environment[variable + "_FILE"], !path.isEmpty else { continue }
                if let direct = environment[variable], !direct.isEmpty {
                    throw ConfigError(key: info.key, message: "\(variable) and \(variable)_FILE are both set; set only one")
                }
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                      let data = FileManager.default.contents(atPath: path) else {
                    throw ConfigError(key: info.key, message: "cannot read \(path) (from \(variable)_FILE)")
                }
                guard var text = String(data: data, encoding: .utf8) else {
                    throw ConfigError(key: info.key, message: "\(path) (from \(variable)_FILE) is not UTF-8 text")
                }
                while let last = text.last, last.isNewline { text.removeLast() }
                environment[variable] = text
                sources[variable] = variable + "_FILE"
            }
        }
        return sources
    }

    // MARK: - Rules across keys

    /// Rules that involve several keys, with the source of each value involved.
    static func checkRules(_ state: State) throws(ConfigError) {
        let c = state.config
        func from(_ key: String) -> String { "\(key) from \(state.source(key))" }

        if (c.tls.cert == nil) != (c.tls.key == nil) {
            let (given, missing) = c.tls.cert == nil ? ("tls.key", "tls.cert") : ("tls.cert", "tls.key")
            throw ConfigError(key: missing, message: "must be set because \(given) is set (\(from(given)));"
                              + " give tls.cert and tls.key together, or neither")
        }
        if c.server.loops > 1 && !c.server.reusePort {
            throw ConfigError(key: "server.loops", message: "\(c.server.loops) loops require server.reuse_port = true"
                              + " (\(from("server.loops")); server.reuse_port = false from \(state.source("server.reuse_port")))")
        }
        if c.http.maxURIBytes > c.http.maxHeaderBytes {
            throw ConfigError(key: "http.max_uri_bytes", message: "must be at most http.max_header_bytes"
                              + " (\(c.http.maxHeaderBytes), from \(state.source("http.max_header_bytes")))"
                              + " (got \(c.http.maxURIBytes) from \(state.source("http.max_uri_bytes")))")
        }
        if c.simulator.symbols != "*" {
            let list = c.simulator.symbols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if list.isEmpty || list.contains(where: { Tick.symbolProblem($0) != nil }) {
                let bad = list.first { Tick.symbolProblem($0) != nil } ?? ""
                throw ConfigError(key: "simulator.symbols", message: "must be * or a comma-separated list of symbols"
                                  + " (\(bad.debugDescription): \(Tick.symbolProblem(bad) ?? "empty list"); from \(state.source("simulator.symbols")))")
            }
        }
        if BarInterval(c.pipeline.interval) == nil {
            throw ConfigError(key: "pipeline.interval", message: "must be a number and a unit ms, s, m, h or d, like 1s or 1m"
                              + " (got \(c.pipeline.interval.debugDescription) from \(state.source("pipeline.interval")))")
        }
        if c.redis.partitionCount > 0 {
            let list = (c.redis.partitions ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if let bad = list.first(where: { Int($0).map { !(0..<c.redis.partitionCount).contains($0) } ?? true }) {
                throw ConfigError(key: "redis.partitions", message: "must list partition numbers from 0 to \(c.redis.partitionCount - 1)"
                                  + " while redis.partition_count is \(c.redis.partitionCount) (\(from("redis.partition_count")));"
                                  + " got \(bad.debugDescription) from \(state.source("redis.partitions"))")
            }
            if !c.redis.source {
                throw ConfigError(key: "redis.partition_count", message: "leases partitions to read ticks from, so it needs"
                                  + " redis.source = true (\(from("redis.partition_count")); redis.source = false from \(state.source("redis.source")))")
            }
        }
        if let name = c.redis.consumer, let problem = ResumeCursor.nameProblem(name) {
            throw ConfigError(key: "redis.consumer", message: "names this gateway in resume cursors, and \(problem)"
                              + " (got \(name.debugDescription) from \(state.source("redis.consumer")))")
        }
        if c.plainHTTP.enabled, c.plainHTTP.port != 0, c.plainHTTP.port == c.server.port {
            throw ConfigError(key: "plain_http.port", message: "must differ from server.port while plain_http.enabled"
                              + " (both \(c.server.port): \(from("plain_http.port")), \(from("server.port")))")
        }
    }

    // MARK: - Typos

    /// " (did you mean http.max_body_bytes?)" for a near miss, else "".
    static func suggestion(for key: String) -> String {
        let candidates = keys.map(\.key) + Set(keys.compactMap { $0.key.split(separator: ".").first.map(String.init) })
        let scored = candidates.map { ($0, distance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, score) = scored, score <= max(2, key.count / 4) else { return "" }
        return " (did you mean \(best)?)"
    }

    /// Levenshtein distance over characters.
    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
