import Foundation

/// One config key: dotted name, environment variables, type and allowed values, default, doc.
/// `ConfigLoader.keys` lists them all; docs/CONFIG.md and `--help` text are generated from it.
public struct ConfigKeyInfo: Sendable {
    /// The type of a key and the values it accepts.
    public enum Kind: Sendable, Equatable {
        /// A non-empty string.
        case string
        /// A non-empty string, or unset (JSON null; an empty flag value).
        case optionalString
        /// A secret string of at least `minLength` characters, or unset. Never echoed.
        case secret(minLength: Int)
        /// JSON true/false; in the environment and flags also 1/0/yes/no.
        case bool
        /// An integer within the range (JSON numbers must be integral).
        case int(ClosedRange<Int>)
        /// A number of seconds, > `min` when `minExclusive`, else ≥ `min`, and ≤ `max`.
        case seconds(min: Double, minExclusive: Bool, max: Double)
        /// One of the listed strings, exactly.
        /// One of the strings; an option `name:FILE` allows `name:` followed by any path.
        case choice([String])
        /// A list of CORS origins: `"*"` alone, or `scheme://host[:port]` each. Comma-separated
        /// in the environment and flags.
        case origins
    }

    /// The dotted key, e.g. `http.max_body_bytes`.
    public let key: String
    /// `DFP_` + the key upper-cased with dots as underscores, e.g. `DFP_HTTP_MAX_BODY_BYTES`.
    public let env: String
    /// Short variables of the CLI contract that mean the same key (`DFP_PORT`), if different from `env`.
    public let aliases: [String]
    /// Type and allowed values.
    public let kind: Kind
    /// One-line meaning, for docs and `--help`.
    public let doc: String

    let get: @Sendable (GatewayConfig) -> ConfigValue
    let set: @Sendable (inout GatewayConfig, ConfigValue) -> Void

    init(key: String, aliases: [String], kind: Kind, doc: String,
         get: @escaping @Sendable (GatewayConfig) -> ConfigValue,
         set: @escaping @Sendable (inout GatewayConfig, ConfigValue) -> Void) {
        self.key = key
        self.env = Self.envName(key)
        self.aliases = aliases.filter { $0 != Self.envName(key) }
        self.kind = kind
        self.doc = doc
        self.get = get
        self.set = set
    }

    /// The long environment variable name of a dotted key.
    public static func envName(_ key: String) -> String {
        "DFP_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Whether values of this key are secret (never echoed in errors or `redactedJSON()`).
    public var secret: Bool {
        if case .secret = kind { return true }
        return false
    }

    /// The built-in default as JSON text (`8443`, `"127.0.0.1"`, `null`, `[]`).
    public var defaultText: String { currentText(GatewayConfig()) }

    /// The value in `config` as JSON text (not redacted: use `redactedJSON()` for output).
    public func currentText(_ config: GatewayConfig) -> String { get(config).text }

    func jsonValue(of config: GatewayConfig) -> ConfigValue { get(config) }

    /// The accepted values in words, e.g. "an integer between 0 and 65535".
    public var allowedText: String { expectation(fromText: false) }

    // MARK: - Decoding and validation

    /// Sets the key from a JSON value found in the file at `source`.
    func apply(json value: ConfigValue, source: String, to config: inout GatewayConfig) throws(ConfigError) {
        let checked: ConfigValue
        switch (kind, value) {
        case (.optionalString, .null), (.secret, .null):
            checked = .null
        case (.string, .string), (.optionalString, .string), (.secret, .string), (.choice, .string),
             (.bool, .bool), (.int, .int), (.seconds, .int), (.seconds, .double):
            checked = try validate(value, shown: value.shown, source: source, fromText: false)
        case (.origins, .array(let items)):
            for item in items {
                guard case .string = item else {
                    throw failure(expectation(fromText: false), got: "\(item.shown) in the list", source: source)
                }
            }
            checked = try validate(value, shown: value.shown, source: source, fromText: false)
        default:
            throw failure(expectation(fromText: false), got: secretSafe(value), source: source)
        }
        set(&config, checked)
    }

    /// Sets the key from the text of an environment variable or a flag named `source`.
    func apply(text: String, source: String, to config: inout GatewayConfig) throws(ConfigError) {
        let shown = secret ? "\(text.count) characters" : ConfigValue.quote(text)
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value: ConfigValue
        switch kind {
        case .string, .choice:
            value = .string(text)
        case .optionalString, .secret:
            value = text.isEmpty ? .null : .string(text)
        case .bool:
            switch trimmed.lowercased() {
            case "true", "1", "yes": value = .bool(true)
            case "false", "0", "no": value = .bool(false)
            default: throw failure(expectation(fromText: true), got: shown, source: source)
            }
        case .int:
            guard let i = Int(trimmed) else { throw failure(expectation(fromText: true), got: shown, source: source) }
            value = .int(i)
        case .seconds:
            guard let d = Double(trimmed) else { throw failure(expectation(fromText: true), got: shown, source: source) }
            value = .double(d)
        case .origins:
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            value = .array(items.filter { !$0.isEmpty }.map(ConfigValue.string))
        }
        set(&config, try validate(value, shown: shown, source: source, fromText: true))
    }

    /// Checks a value of the right JSON type against the range, choices or format.
    private func validate(_ value: ConfigValue, shown: String, source: String, fromText: Bool) throws(ConfigError) -> ConfigValue {
        let bad = failure(expectation(fromText: fromText), got: shown, source: source)
        switch (kind, value) {
        case (.string, .string(let s)):
            guard !s.isEmpty else { throw bad }
        case (.optionalString, .string(let s)):
            guard !s.isEmpty else { throw bad }
        case (.secret(let minLength), .string(let s)):
            guard s.count >= minLength else {
                throw failure(expectation(fromText: fromText), got: "\(s.count) characters", source: source)
            }
        case (.choice(let options), .string(let s)):
            // An option written "name:FILE" takes any non-empty text after "name:".
            guard options.contains(where: { option in
                option == s || (option.hasSuffix(":FILE") && s.hasPrefix(option.dropLast(4)) && s.count > option.count - 4)
            }) else { throw bad }
        case (.int(let range), .int(let i)):
            guard range.contains(i) else { throw bad }
        case (.seconds(let min, let exclusive, let max), .int(let i)):
            let d = Double(i)
            guard exclusive ? d > min : d >= min, d <= max else { throw bad }
            return .double(d)
        case (.seconds(let min, let exclusive, let max), .double(let d)):
            guard d.isFinite, exclusive ? d > min : d >= min, d <= max else { throw bad }
        case (.origins, .array(let items)):
            for case .string(let origin) in items where !Self.isOrigin(origin) || (origin == "*" && items.count > 1) {
                throw failure(expectation(fromText: fromText), got: ConfigValue.quote(origin) + " in the list", source: source)
            }
        default:
            break
        }
        return value
    }

    /// `scheme://host[:port]` with no path, query or trailing slash — what browsers send.
    private static func isOrigin(_ s: String) -> Bool {
        if s == "*" { return true }
        guard let range = s.range(of: "://") else { return false }
        let scheme = s[..<range.lowerBound]
        let authority = s[range.upperBound...]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
            && !authority.isEmpty && !authority.contains(where: { "/?#@ ".contains($0) })
    }

    /// What a valid value looks like. Booleans and lists read differently in text sources.
    func expectation(fromText: Bool) -> String {
        switch kind {
        case .string: return "a non-empty string"
        case .optionalString: return fromText ? "a non-empty string (empty = unset)" : "a non-empty string or null"
        case .secret(let n): return "a string of at least \(n) characters" + (fromText ? "" : ", or null")
        case .bool: return fromText ? "a boolean (true, false, 1, 0, yes, no)" : "true or false"
        case .int(let r): return "an integer between \(r.lowerBound) and \(r.upperBound)"
        case .seconds(let min, let exclusive, let max):
            let low = ConfigValue.format(min), high = ConfigValue.format(max)
            return exclusive ? "a number of seconds greater than \(low) and at most \(high)"
                : "a number of seconds between \(low) and \(high)"
        case .choice(let options): return "one of " + options.map(ConfigValue.quote).joined(separator: ", ")
        case .origins:
            return (fromText ? "a comma-separated list of origins" : "a list of origin strings")
                + ": \"*\" alone, or scheme://host[:port] each (no path or trailing slash)"
        }
    }

    private func secretSafe(_ value: ConfigValue) -> String {
        guard secret else { return value.shown }
        switch value {
        case .string(let s): return "\(s.count) characters"
        case .bool, .int, .double: return "a " + (value == .bool(true) || value == .bool(false) ? "boolean" : "number")
        default: return value.shown
        }
    }

    func failure(_ expected: String, got: String, source: String) -> ConfigError {
        ConfigError(key: key, message: "must be \(expected) (got \(got) from \(source))")
    }
}
