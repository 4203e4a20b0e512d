import Contracts
import Foundation

/// A strategy setting that could not be used, naming its key (`strategies.rsi_reversal.oversold`).
public struct StrategyConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let key: String
    public let message: String
    public var description: String { "\(key): \(message)" }
}

/// The strategies in force: built-ins with their parameters and the rule strategies, each
/// enabled or not. Built from `Config/strategies.json`; changing it at runtime replaces the
/// strategy values only — indicator state is the engine's and survives.
public struct StrategyRegistry: Sendable {
    public struct Entry: Sendable {
        public var strategy: any Strategy
        public var enabled: Bool
        /// For `GET /api/v1/strategies`: a built-in's parameters as given, and every one not
        /// given at its default (so a client can rebuild the registry the server runs — `dongfeng
        /// trigger` does); a rule's `when`, `direction` and `strength`.
        public var settings: [String: JSONValue]
    }

    public private(set) var entries: [Entry] = [] {
        didSet {
            enabled = entries.filter(\.enabled).map(\.strategy)
            readsFeatures = enabled.contains { $0.readsFeatures }
            readsRecentBars = enabled.contains { $0.readsRecentBars }
        }
    }
    /// Whether any enabled strategy reads the fixed features / the recent bars (research runs
    /// compute only what is read; the live engine always computes both, for its outputs).
    public private(set) var readsFeatures = false
    public private(set) var readsRecentBars = false
    /// The parameterised indicator calls of the enabled rules (slots of every symbol's bank).
    public private(set) var plan = IndicatorPlan()

    /// No strategies at all (an engine that only builds bars and features).
    public init() {}

    public static let builtinNames = ["rsi_reversal", "macd_cross", "bollinger", "momentum_breakout", "volume_spike",
                                     "vwap_deviation"]

    /// Every built-in with its defaults, enabled.
    public static var defaults: StrategyRegistry {
        var registry = StrategyRegistry()
        for name in builtinNames {
            if let entry = try? builtin(name, [:], key: "strategies.\(name)") { registry.entries.append(entry) }
        }
        return registry
    }

    /// The enabled strategies, in order (what the engine runs on every bar close).
    public private(set) var enabled: [any Strategy] = []

    /// This registry in the strategies file's form (`parse` gives it back, entry for entry and in
    /// order): what the input journal and the engine checkpoint keep of the strategies in force.
    public var fileJSON: [UInt8] {
        var w = JSONWriter(capacity: 1024)
        func value(_ key: String, _ v: JSONValue) { w.value(key, v) }
        w.beginObject()
        w.beginObject("strategies")
        for e in entries where Self.builtinNames.contains(e.strategy.name) {
            w.beginObject(e.strategy.name)
            w.bool("enabled", e.enabled)
            for key in e.settings.keys.sorted() { value(key, e.settings[key]!) }
            w.endObject()
        }
        w.endObject()
        w.beginArray("rules")
        for e in entries where !Self.builtinNames.contains(e.strategy.name) {
            w.beginObject()
            w.string("name", e.strategy.name)
            w.bool("enabled", e.enabled)
            for key in e.settings.keys.sorted() { value(key, e.settings[key]!) }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// Parses the strategies file: `{"strategies": {name: {enabled, params…}}, "rules": [{name, when, direction, strength, enabled}]}`.
    public static func parse(_ data: Data) throws(StrategyConfigError) -> StrategyRegistry {
        let root: [String: JSONValue]
        switch JSONValue.parse(data) {
        case .success(.object(let object)): root = object
        case .success: throw StrategyConfigError(key: "(file)", message: "must hold a JSON object")
        case .failure(let error): throw StrategyConfigError(key: "(file)", message: "not valid JSON: \(error)")
        }
        for key in root.keys where !key.hasPrefix("_") && key != "strategies" && key != "rules" {
            throw StrategyConfigError(key: key, message: "unknown key (expected strategies, rules)")
        }
        var registry = StrategyRegistry()
        var builtins: [String: JSONValue] = [:]
        if let value = root["strategies"] {
            guard case .object(let object) = value else { throw StrategyConfigError(key: "strategies", message: "must be an object") }
            builtins = object
        }
        for name in builtins.keys where !name.hasPrefix("_") && !builtinNames.contains(name) {
            throw StrategyConfigError(key: "strategies.\(name)", message: "unknown strategy (built-ins: \(builtinNames.joined(separator: ", ")))")
        }
        for name in builtinNames {
            var settings: [String: JSONValue] = [:]
            if let value = builtins[name] {
                guard case .object(let object) = value else {
                    throw StrategyConfigError(key: "strategies.\(name)", message: "must be an object")
                }
                settings = object
            }
            registry.entries.append(try builtin(name, settings, key: "strategies.\(name)"))
        }
        var rules: [JSONValue] = []
        if let value = root["rules"] {
            guard case .array(let array) = value else { throw StrategyConfigError(key: "rules", message: "must be an array") }
            rules = array
        }
        for (i, item) in rules.enumerated() {
            guard case .object(let rule) = item else { throw StrategyConfigError(key: "rules[\(i)]", message: "must be an object") }
            var checked = IndicatorPlan()  // the real plan is made by compileRules, below
            let entry = try ruleEntry(rule, key: "rules[\(i)]", plan: &checked)
            if registry.entries.contains(where: { $0.strategy.name == entry.strategy.name }) {
                throw StrategyConfigError(key: "rules[\(i)].name", message: "\(entry.strategy.name) is already defined")
            }
            registry.entries.append(entry)
        }
        try registry.compileRules()
        return registry
    }

    /// Compiles every rule again against a fresh plan: the enabled ones share it (their calls
    /// are what the banks run), a disabled one gets slots of its own it never reads.
    private mutating func compileRules() throws(StrategyConfigError) {
        var plan = IndicatorPlan()
        for i in entries.indices where !Self.builtinNames.contains(entries[i].strategy.name) {
            var settings = entries[i].settings
            settings["name"] = .string(entries[i].strategy.name)
            settings["enabled"] = .bool(entries[i].enabled)
            let key = "strategies.\(entries[i].strategy.name)"
            if entries[i].enabled {
                entries[i] = try Self.ruleEntry(settings, key: key, plan: &plan)
            } else {
                var own = IndicatorPlan()
                entries[i] = try Self.ruleEntry(settings, key: key, plan: &own)
            }
        }
        self.plan = plan
    }

    /// Applies `{"enabled": Bool, params…}` to one strategy (runtime reconfiguration).
    public mutating func update(_ name: String, with settings: [String: JSONValue]) throws(StrategyConfigError) {
        guard let i = entries.firstIndex(where: { $0.strategy.name == name }) else {
            throw StrategyConfigError(key: name, message: "no such strategy")
        }
        let key = "strategies.\(name)"
        if Self.builtinNames.contains(name) {
            var merged = entries[i].settings
            merged["enabled"] = .bool(entries[i].enabled)
            for (k, v) in settings { merged[k] = v }
            entries[i] = try Self.builtin(name, merged, key: key)
        } else {
            var merged = entries[i].settings
            merged["name"] = .string(name)
            merged["enabled"] = .bool(entries[i].enabled)
            for (k, v) in settings {
                // Parameters merge one by one: `{"params": {"fast": 5}}` keeps `slow`.
                if k == "params", case .object(let given) = v, case .object(var old)? = merged["params"] {
                    for (p, x) in given { old[p] = x }
                    merged[k] = .object(old)
                } else {
                    merged[k] = v
                }
            }
            var checked = IndicatorPlan()
            entries[i] = try Self.ruleEntry(merged, key: key, plan: &checked)
        }
        try compileRules()
    }

    // MARK: - Entries

    private static func builtin(_ name: String, _ s: [String: JSONValue], key: String) throws(StrategyConfigError) -> Entry {
        var allowed: Set<String> = ["enabled"]
        let enabled = try bool(s, "enabled", key: key, default: true)
        let strategy: any Strategy
        let effective: [String: JSONValue]
        switch name {
        case "rsi_reversal":
            allowed.formUnion(["oversold", "overbought"])
            var x = RSIReversal()
            x.oversold = try number(s, "oversold", key: key, default: 30, range: 0...100)
            x.overbought = try number(s, "overbought", key: key, default: 70, range: 0...100)
            guard x.oversold < x.overbought else { throw StrategyConfigError(key: "\(key).oversold", message: "must be below overbought") }
            strategy = x
            effective = ["oversold": .double(x.oversold), "overbought": .double(x.overbought)]
        case "macd_cross":
            strategy = MACDCross()
            effective = [:]
        case "bollinger":
            allowed.insert("mode")
            var x = BollingerStrategy()
            var mode = "mean_reversion"
            if let value = s["mode"] {
                guard case .string(let text) = value else { throw StrategyConfigError(key: "\(key).mode", message: "must be mean_reversion or breakout") }
                mode = text
            }
            guard let m = BollingerStrategy.Mode(rawValue: mode) else {
                throw StrategyConfigError(key: "\(key).mode", message: "must be mean_reversion or breakout")
            }
            x.mode = m
            strategy = x
            effective = ["mode": .string(m.rawValue)]
        case "momentum_breakout":
            allowed.insert("lookback")
            var x = MomentumBreakout()
            x.lookback = Int(try number(s, "lookback", key: key, default: 20, range: 2...Double(RecentBars.size)))
            strategy = x
            effective = ["lookback": .int(x.lookback)]
        case "volume_spike":
            allowed.insert("threshold")
            var x = VolumeSpike()
            x.threshold = try number(s, "threshold", key: key, default: 3, range: 0.5...20)
            strategy = x
            effective = ["threshold": .double(x.threshold)]
        default:
            allowed.insert("threshold")
            var x = VWAPDeviation()
            x.threshold = try number(s, "threshold", key: key, default: 0.005, range: 0.0001...0.5)
            strategy = x
            effective = ["threshold": .double(x.threshold)]
        }
        for k in s.keys where !k.hasPrefix("_") && !allowed.contains(k) {
            throw StrategyConfigError(key: "\(key).\(k)", message: "unknown setting (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        let given = s.filter { $0.key != "enabled" && !$0.key.hasPrefix("_") }
        return Entry(strategy: strategy, enabled: enabled, settings: given.merging(effective) { given, _ in given })
    }

    private static func ruleEntry(_ r: [String: JSONValue], key: String, plan: inout IndicatorPlan) throws(StrategyConfigError) -> Entry {
        let allowed: Set<String> = ["name", "when", "direction", "strength", "enabled", "params", "exit_when", "hold_bars",
                                    "stop_pct", "take_pct"]
        for k in r.keys where !k.hasPrefix("_") && !allowed.contains(k) {
            throw StrategyConfigError(key: "\(key).\(k)", message: "unknown setting (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        guard case .string(let name)? = r["name"], !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw StrategyConfigError(key: "\(key).name", message: "must be a name of letters, digits and _")
        }
        var parameters: [String: Double] = [:]
        if let value = r["params"] {
            guard case .object(let object) = value else {
                throw StrategyConfigError(key: "\(key).params", message: "must be an object of named numbers")
            }
            for (p, v) in object {
                guard p.first?.isLetter == true, p.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
                      RuleExpression.accessor(p) == nil, IndicatorCall.Function(rawValue: p) == nil else {
                    throw StrategyConfigError(key: "\(key).params.\(p)", message: "must be a name of letters, digits and _ that is not a feature, field or function")
                }
                guard let n = v.number, n.isFinite else {
                    throw StrategyConfigError(key: "\(key).params.\(p)", message: "must be a number")
                }
                parameters[p] = n
            }
        }
        func compile(_ field: String) throws(StrategyConfigError) -> RuleExpression? {
            guard let value = r[field] else { return nil }
            guard case .string(let source) = value else { throw StrategyConfigError(key: "\(key).\(field)", message: "must be a rule expression") }
            do {
                return try RuleExpression(source, parameters: parameters, plan: &plan)
            } catch {
                throw StrategyConfigError(key: "\(key).\(field)", message: "\(error) in \(source.debugDescription)")
            }
        }
        guard let rule = try compile("when") else { throw StrategyConfigError(key: "\(key).when", message: "must be a rule expression") }
        guard case .string(let d)? = r["direction"], let direction = Direction(rawValue: d) else {
            throw StrategyConfigError(key: "\(key).direction", message: "must be long or short")
        }
        let strength = try number(r, "strength", key: key, default: 0.5, range: 0...1)
        let enabled = try bool(r, "enabled", key: key, default: true)
        var exit = RuleExit()
        exit.when = try compile("exit_when")
        if r["hold_bars"] != nil {
            exit.holdBars = Int(try number(r, "hold_bars", key: key, default: 1, range: 1...100_000))
            guard Double(exit.holdBars!) == r["hold_bars"]?.number else {
                throw StrategyConfigError(key: "\(key).hold_bars", message: "must be a whole number of bars")
            }
        }
        if r["stop_pct"] != nil { exit.stopPct = try number(r, "stop_pct", key: key, default: 1, range: 0.0001...100) }
        if r["take_pct"] != nil { exit.takePct = try number(r, "take_pct", key: key, default: 1, range: 0.0001...10_000) }
        var settings: [String: JSONValue] = ["when": .string(rule.source), "direction": .string(d),
                                             "strength": .double(strength)]
        if !parameters.isEmpty { settings["params"] = .object(parameters.mapValues { $0 == $0.rounded() && abs($0) < 1e15 ? .int(Int($0)) : .double($0) }) }
        for k in ["exit_when", "hold_bars", "stop_pct", "take_pct"] { if let v = r[k] { settings[k] = v } }
        return Entry(strategy: RuleStrategy(name: name, rule: rule, direction: direction, strength: strength, exit: exit),
                     enabled: enabled, settings: settings)
    }

    private static func number(_ s: [String: JSONValue], _ name: String, key: String, default value: Double,
                               range: ClosedRange<Double>) throws(StrategyConfigError) -> Double {
        guard let raw = s[name] else { return value }
        guard let n = raw.number, range.contains(n) else {
            throw StrategyConfigError(key: "\(key).\(name)", message: "must be a number between \(range.lowerBound) and \(range.upperBound)")
        }
        return n
    }

    private static func bool(_ s: [String: JSONValue], _ name: String, key: String, default value: Bool) throws(StrategyConfigError) -> Bool {
        guard let raw = s[name] else { return value }
        if case .bool(let b) = raw { return b }
        throw StrategyConfigError(key: "\(key).\(name)", message: "must be true or false")
    }
}
