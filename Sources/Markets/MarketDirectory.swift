import Contracts
import Foundation

/// A markets setting that could not be used, naming its key (`venues.SSE.sessions[1]`) or the
/// file and line (`Config/holidays.csv line 7`).
public struct MarketConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let key: String
    public let message: String
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { "\(key): \(message)" }
}

/// Which venue each symbol trades on, and the venues' profiles (docs/MARKETS.md). Symbols map by
/// suffix (`.SH .SZ .BJ .HK`), by shape (`BTC-USDT` pairs are crypto, tickers of one to five
/// capital letters such as `AAPL` or `BRK.B` are US), or by name in the markets file, which wins.
public struct MarketDirectory: Sendable {
    public private(set) var venues: [String: MarketProfile]
    public private(set) var suffixes: [(suffix: String, venue: String)]
    public private(set) var symbols: [String: String]
    /// Previous closes and ST flags by symbol (`reference_file`).
    public internal(set) var reference: [String: SymbolReference] = [:]
    /// Off: every symbol is on UTC clock buckets around the clock (`MarketProfile.alwaysOpen`).
    public let enabled: Bool

    public static let off = MarketDirectory(enabled: false, venues: [:], suffixes: [], symbols: [:])

    init(enabled: Bool, venues: [String: MarketProfile], suffixes: [(String, String)], symbols: [String: String]) {
        self.enabled = enabled
        self.venues = venues
        self.suffixes = suffixes.map { (suffix: $0.0, venue: $0.1) }
        self.symbols = symbols
    }

    /// The built-in venues and mappings, with zones from `zones`.
    public static func builtin(zones: TimeZoneDatabase) throws(MarketConfigError) -> MarketDirectory {
        let venues: [String: MarketProfile]
        do {
            venues = try MarketProfile.builtins { name throws(TimeZoneRules.Failure) in try zones.rules(name) }
        } catch {
            throw MarketConfigError(key: "time zone", message: error.message)
        }
        return MarketDirectory(enabled: true, venues: venues,
                               suffixes: [(".SH", "SSE"), (".SZ", "SZSE"), (".BJ", "BSE"), (".HK", "HKEX")], symbols: [:])
    }

    /// The venue of a symbol: named in the file, else by suffix, else by shape; nil when none fits
    /// (the symbol then trades around the clock, without rules).
    public func venue(of symbol: String) -> String? {
        if let v = symbols[symbol] { return v }
        for (suffix, venue) in suffixes where symbol.count > suffix.count && symbol.uppercased().hasSuffix(suffix) { return venue }
        let parts = symbol.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 2, parts.allSatisfy({ (2...10).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) } }),
           venues["CRYPTO"] != nil {
            return "CRYPTO"
        }
        // A US ticker: one to five capital letters, and a share class (BRK.B).
        let root = symbol.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if (1...5).contains(root[0].count), root[0].allSatisfy({ $0.isASCII && $0.isUppercase }),
           root.count == 1 || (root[1].count == 1 && root[1].allSatisfy { $0.isASCII && $0.isUppercase }), venues["US"] != nil {
            return "US"
        }
        return nil
    }

    /// The profile a symbol's bars, sessions and rules follow.
    public func profile(for symbol: String) -> MarketProfile {
        guard enabled, let v = venue(of: symbol), let p = venues[v] else { return .alwaysOpen }
        return p
    }

    /// The markets file (`markets.file`) over the built-ins: venue settings changed or added,
    /// suffixes and symbols mapped, holidays read from `holidays_file` (relative to `baseDirectory`
    /// when not absolute). Every problem names its key, or the calendar file and line.
    public static func load(json: Data, zones: TimeZoneDatabase, baseDirectory: String = ".") throws(MarketConfigError) -> MarketDirectory {
        let root: [String: JSONValue]
        switch JSONValue.parse(json) {
        case .success(.object(let object)): root = object
        case .success: throw MarketConfigError(key: "(file)", message: "must hold a JSON object")
        case .failure(let error): throw MarketConfigError(key: "(file)", message: "not valid JSON: \(error)")
        }
        let known: Set<String> = ["venues", "suffixes", "symbols", "holidays_file", "reference_file"]
        for key in root.keys.sorted() where !key.hasPrefix("_") && !known.contains(key) {
            throw MarketConfigError(key: key, message: "unknown key (expected \(known.sorted().joined(separator: ", ")))")
        }
        var directory = try builtin(zones: zones)
        if let value = root["venues"] {
            for (name, settings) in try object(value, "venues").sorted(by: { $0.key < $1.key }) where !name.hasPrefix("_") {
                let key = "venues.\(name)"
                guard name.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }), !name.isEmpty else {
                    throw MarketConfigError(key: key, message: "venue names are upper-case letters, digits and _")
                }
                directory.venues[name] = try venue(name, try object(settings, key), base: directory.venues[name], zones: zones, key: key)
            }
        }
        if let value = root["suffixes"] {
            var suffixes: [(String, String)] = []
            for (suffix, v) in try object(value, "suffixes").filter({ !$0.key.hasPrefix("_") }).sorted(by: { $0.key.count > $1.key.count || ($0.key.count == $1.key.count && $0.key < $1.key) }) {
                let key = "suffixes.\(suffix)"
                guard suffix.hasPrefix("."), suffix.count >= 2 else { throw MarketConfigError(key: key, message: "a suffix starts with a dot, e.g. .SH") }
                suffixes.append((suffix.uppercased(), try venueName(v, directory, key)))
            }
            // The file's suffixes first (longest first), then the built-in ones it does not name.
            let named = Set(suffixes.map(\.0))
            directory.suffixes = suffixes.map { (suffix: $0.0, venue: $0.1) } + directory.suffixes.filter { !named.contains($0.suffix) }
        }
        if let value = root["symbols"] {
            for (symbol, v) in try object(value, "symbols") where !symbol.hasPrefix("_") {
                directory.symbols[symbol] = try venueName(v, directory, "symbols.\(symbol)")
            }
        }
        func file(_ key: String) throws(MarketConfigError) -> (path: String, text: String)? {
            guard let value = root[key] else { return nil }
            guard case .string(let path) = value, !path.isEmpty else { throw MarketConfigError(key: key, message: "must be a file path") }
            let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: full) else { throw MarketConfigError(key: key, message: "cannot read \(full)") }
            return (path, String(decoding: data, as: UTF8.self))
        }
        if let (path, text) = try file("reference_file") {
            directory.reference = try ReferenceData.parse(text, file: path)
        }
        if let (path, text) = try file("holidays_file") {
            let holidays = try HolidayCalendar.parse(text, file: path, venues: Set(directory.venues.keys))
            for (venue, days) in holidays {
                directory.venues[venue]?.holidays.formUnion(days)
            }
        }
        return directory
    }

    private static func object(_ v: JSONValue, _ key: String) throws(MarketConfigError) -> [String: JSONValue] {
        guard case .object(let o) = v else { throw MarketConfigError(key: key, message: "must be an object") }
        return o
    }

    private static func venueName(_ v: JSONValue, _ d: MarketDirectory, _ key: String) throws(MarketConfigError) -> String {
        guard case .string(let name) = v else { throw MarketConfigError(key: key, message: "must name a venue") }
        guard d.venues[name] != nil else {
            throw MarketConfigError(key: key, message: "unknown venue \(name) (have: \(d.venues.keys.sorted().joined(separator: ", ")))")
        }
        return name
    }

    static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// A venue from its settings, over `base` (a built-in of that name) when there is one.
    static func venue(_ name: String, _ s: [String: JSONValue], base: MarketProfile?, zones: TimeZoneDatabase,
                      key: String) throws(MarketConfigError) -> MarketProfile {
        let allowed: Set<String> = ["time_zone", "sessions", "auctions", "weekdays", "tick_size", "lot_size", "enforce_lots",
                                    "currency", "limits", "off_session"]
        for k in s.keys.sorted() where !k.hasPrefix("_") && !allowed.contains(k) {
            throw MarketConfigError(key: "\(key).\(k)", message: "unknown setting (expected \(allowed.sorted().joined(separator: ", ")))")
        }
        func string(_ k: String) throws(MarketConfigError) -> String? {
            guard let v = s[k] else { return nil }
            guard case .string(let text) = v, !text.isEmpty else { throw MarketConfigError(key: "\(key).\(k)", message: "must be a string") }
            return text
        }
        func number(_ k: String) throws(MarketConfigError) -> Double?? {
            guard let v = s[k] else { return nil }
            if case .null = v { return .some(nil) }
            guard let x = v.number, x.isFinite, x > 0 else { throw MarketConfigError(key: "\(key).\(k)", message: "must be a positive number or null") }
            return .some(x)
        }
        func spans(_ k: String) throws(MarketConfigError) -> [MarketProfile.Session]? {
            guard let v = s[k] else { return nil }
            guard case .array(let items) = v else { throw MarketConfigError(key: "\(key).\(k)", message: "must be an array of \"HH:MM-HH:MM\"") }
            var out: [MarketProfile.Session] = []
            for (i, item) in items.enumerated() {
                guard case .string(let text) = item, let session = MarketProfile.Session(text) else {
                    throw MarketConfigError(key: "\(key).\(k)[\(i)]", message: "\(item.text.debugDescription) is not a span like \"09:30-11:30\" (an end before the start opens the evening before)")
                }
                out.append(session)
            }
            return out.sorted { $0.start < $1.start }
        }
        let zone: TimeZoneRules
        if let z = try string("time_zone") {
            do {
                zone = try zones.rules(z)
            } catch {
                throw MarketConfigError(key: "\(key).time_zone", message: error.message)
            }
        } else if let base {
            zone = base.timeZone
        } else {
            throw MarketConfigError(key: "\(key).time_zone", message: "a new venue needs a time zone, e.g. \"Europe/London\"")
        }
        guard let sessions = try spans("sessions") ?? base?.sessions else {
            throw MarketConfigError(key: "\(key).sessions", message: "a new venue needs its sessions, e.g. [\"08:00-16:30\"]")
        }
        let auctions = try spans("auctions") ?? base?.auctions ?? []
        if let problem = MarketProfile.problem(sessions: sessions, auctions: auctions) {
            throw MarketConfigError(key: "\(key).sessions", message: problem)
        }
        var weekdays = base?.weekdays ?? Set(1...5)
        if let v = s["weekdays"] {
            guard case .array(let items) = v, !items.isEmpty else {
                throw MarketConfigError(key: "\(key).weekdays", message: "must be an array of day names, e.g. [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]")
            }
            weekdays = []
            for (i, item) in items.enumerated() {
                guard case .string(let day) = item, let d = weekdayNames.firstIndex(of: day.lowercased()) else {
                    throw MarketConfigError(key: "\(key).weekdays[\(i)]", message: "\(item.text.debugDescription) is not one of \(weekdayNames.joined(separator: ", "))")
                }
                weekdays.insert(d)
            }
        }
        var tick = base?.tickSize
        if let t = try number("tick_size") { tick = t.map(MarketProfile.TickRule.fixed) }
        var lot = base?.lotSize
        if let l = try number("lot_size") { lot = l }
        var enforceLots = base?.enforceLots ?? false
        if let v = s["enforce_lots"] {
            guard case .bool(let b) = v else { throw MarketConfigError(key: "\(key).enforce_lots", message: "must be true or false") }
            enforceLots = b
        }
        if enforceLots && lot == nil { throw MarketConfigError(key: "\(key).enforce_lots", message: "needs a lot_size") }
        var limits = base?.limits ?? MarketProfile.LimitRule.none
        if let v = s["limits"] {
            switch v {
            case .null: limits = .none
            case .string("a_share"): limits = .aShare
            case .string("none"): limits = .none
            default:
                guard let x = v.number, x > 0, x < 1 else {
                    throw MarketConfigError(key: "\(key).limits", message: "must be \"a_share\", \"none\" or a fraction such as 0.1")
                }
                limits = .fraction(x)
            }
        }
        var offSession = base?.offSession ?? .flag
        if let o = try string("off_session") {
            guard let policy = MarketProfile.OffSession(rawValue: o) else {
                throw MarketConfigError(key: "\(key).off_session", message: "must be \"flag\" (alert, not in bars) or \"keep\" (into bars)")
            }
            offSession = policy
        }
        return MarketProfile(venue: name, timeZone: zone, sessions: sessions, auctions: auctions, weekdays: weekdays,
                             holidays: base?.holidays ?? [], tickSize: tick, lotSize: lot, enforceLots: enforceLots,
                             currency: try string("currency") ?? base?.currency ?? "", limits: limits, offSession: offSession)
    }
}

/// Holidays as a CSV the user keeps up to date: `venue,date[,name]` per line (`SSE,2025-01-01,New
/// Year`), `#` comments and blank lines skipped, an optional `venue,date,name` header.
public enum HolidayCalendar {
    public static func parse(_ text: String, file: String, venues: Set<String>) throws(MarketConfigError) -> [String: Set<Int64>] {
        var out: [String: Set<Int64>] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let key = "\(file) line \(i + 1)"
            let cells = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if i == 0 || out.isEmpty, cells.first?.lowercased() == "venue" { continue }
            guard cells.count >= 2 else { throw MarketConfigError(key: key, message: "expected venue,date[,name], got \(line.debugDescription)") }
            guard venues.contains(cells[0]) else {
                throw MarketConfigError(key: key, message: "unknown venue \(cells[0].debugDescription) (have: \(venues.sorted().joined(separator: ", ")))")
            }
            guard case .success(let ms) = BarCSV.parseTime(cells[1]), cells[1].count == 10 else {
                throw MarketConfigError(key: key, message: "\(cells[1].debugDescription) is not a date like 2025-01-01")
            }
            out[cells[0], default: []].insert(ms / 86_400_000)
        }
        return out
    }
}

/// Reference data as CSV: `symbol,prev_close[,st]` per line (`600519.SH,1688.50`,
/// `600145.SH,2.31,st`), `#` comments, an optional header.
public enum ReferenceData {
    public static func parse(_ text: String, file: String) throws(MarketConfigError) -> [String: SymbolReference] {
        var out: [String: SymbolReference] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if out.isEmpty, cells.first?.lowercased() == "symbol" { continue }
            let key = "\(file) line \(i + 1)"
            guard (2...3).contains(cells.count), !cells[0].isEmpty else {
                throw MarketConfigError(key: key, message: "expected symbol,prev_close[,st], got \(line.debugDescription)")
            }
            var r = SymbolReference()
            if !cells[1].isEmpty {
                guard let close = Double(cells[1]), close.isFinite, close > 0 else {
                    throw MarketConfigError(key: key, message: "prev_close \(cells[1].debugDescription) is not a positive number")
                }
                r.previousClose = close
            }
            if cells.count == 3 {
                switch cells[2].lowercased() {
                case "st", "true", "1": r.specialTreatment = true
                case "", "false", "0": break
                default: throw MarketConfigError(key: key, message: "st must be st, true or false, got \(cells[2].debugDescription)")
                }
            }
            out[cells[0]] = r
        }
        return out
    }
}

/// The system's tz database (`/usr/share/zoneinfo`, or `$TZDIR`), each zone read once.
public final class TimeZoneDatabase: @unchecked Sendable {
    public let directory: String
    private var cache: [String: TimeZoneRules] = [:]
    private let lock = NSLock()

    public init(directory: String? = nil) {
        self.directory = directory ?? ProcessInfo.processInfo.environment["TZDIR"] ?? "/usr/share/zoneinfo"
    }

    public static let system = TimeZoneDatabase()

    /// The rules of a zone such as `Asia/Shanghai`; `UTC` needs no file.
    public func rules(_ name: String) throws(TimeZoneRules.Failure) -> TimeZoneRules {
        if name == "UTC" || name == "Etc/UTC" { return .utc }
        lock.lock()
        defer { lock.unlock() }
        if let known = cache[name] { return known }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ p in !p.isEmpty && p != "." && p != ".." && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+-".contains($0)) } }) else {
            throw TimeZoneRules.Failure(message: "\(name.debugDescription) is not a time zone name like Asia/Shanghai")
        }
        guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else {
            throw TimeZoneRules.Failure(message: "unknown time zone \(name) (not in \(directory))")
        }
        let rules = try TimeZoneRules(name: name, tzif: [UInt8](data))
        cache[name] = rules
        return rules
    }
}
