import Contracts

/// A trading venue's clock and rules (docs/MARKETS.md): time zone, sessions, trading days,
/// price grid, lot size, currency and daily price limits.
public struct MarketProfile: Sendable, Equatable {
    /// A span of local time on a trading day, in minutes from the trading date's midnight. A
    /// night session that opens the evening before (Chinese futures, 21:00–02:30) starts below
    /// zero: it belongs to the next trading day.
    public struct Session: Sendable, Equatable, CustomStringConvertible {
        public let start: Int
        public let end: Int

        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }

        /// `"09:30-11:30"`; an end before the start (`"21:00-02:30"`) opens the evening before.
        public init?(_ text: String) {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = Self.minutes(parts[0]), let b = Self.minutes(parts[1]), a != b, a < 24 * 60 else {
                return nil
            }
            if b < a {
                start = a - 24 * 60
                end = b
            } else {
                start = a
                end = b
            }
        }

        static func minutes(_ s: Substring) -> Int? {
            let hm = s.split(separator: ":")
            guard hm.count == 2, hm[0].count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]),
                  (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 24 * 60 else { return nil }
            return h * 60 + m
        }

        public var description: String {
            func clock(_ m: Int) -> String {
                let x = (m + 24 * 60) % (24 * 60) == 0 && m > 0 ? 24 * 60 : (m + 24 * 60) % (24 * 60)
                return String(format: "%02d:%02d", x / 60, x % 60)
            }
            return "\(clock(start))-\(clock(end))"
        }
    }

    /// Price increments: one size, or by price band (HKEX's spread table, US sub-dollar quotes).
    public struct TickRule: Sendable, Equatable {
        /// (prices below `below` move by `size`), ascending; the last band has `below` = +∞.
        public let bands: [(below: Double, size: Double)]

        public init(bands: [(below: Double, size: Double)]) { self.bands = bands }
        public static func fixed(_ size: Double) -> TickRule { TickRule(bands: [(.infinity, size)]) }

        public func size(at price: Double) -> Double {
            bands.first { price < $0.below }?.size ?? bands.last!.size
        }

        /// Whether `price` is a whole number of ticks (to a millionth of a tick: decimal prices
        /// written as doubles are not exact).
        public func isOnGrid(_ price: Double) -> Bool {
            let steps = price / size(at: price)
            return abs(steps - steps.rounded()) <= 1e-6
        }

        public static func == (a: TickRule, b: TickRule) -> Bool {
            a.bands.count == b.bands.count && zip(a.bands, b.bands).allSatisfy { $0.below == $1.below && $0.size == $1.size }
        }
    }

    /// Daily price limits from the previous close.
    public enum LimitRule: Sendable, Equatable {
        case none
        /// China A-shares: ±10 % main board, ±20 % STAR (688…) and ChiNext (300…, 301…), ±30 %
        /// Beijing, ±5 % ST (named in the reference data).
        case aShare
        /// The same fraction for every symbol of the venue.
        case fraction(Double)
    }

    /// What happens to a tick outside every session.
    public enum OffSession: String, Sendable, Equatable {
        /// An `off_session` risk alert; the tick is not put into bars.
        case flag
        /// Into bars all the same (venues traded around the clock by some brokers).
        case keep
    }

    public let venue: String
    public let timeZone: TimeZoneRules
    /// Ascending, not overlapping.
    public let sessions: [Session]
    /// Call auctions: their ticks are in session and go into the bar that opens next.
    public let auctions: [Session]
    /// Trading weekdays of the trading date, 0 = Sunday … 6 = Saturday.
    public let weekdays: Set<Int>
    /// Local trading dates (day numbers, 0 = 1970-01-01) on which the venue is closed.
    public var holidays: Set<Int64>
    public let tickSize: TickRule?
    /// Shares per lot; volumes must be whole lots when `enforceLots`.
    public let lotSize: Double?
    public let enforceLots: Bool
    public let currency: String
    public let limits: LimitRule
    public let offSession: OffSession

    public init(venue: String, timeZone: TimeZoneRules, sessions: [Session], auctions: [Session] = [],
                weekdays: Set<Int> = [1, 2, 3, 4, 5], holidays: Set<Int64> = [], tickSize: TickRule?, lotSize: Double?,
                enforceLots: Bool = false, currency: String, limits: LimitRule = .none, offSession: OffSession = .flag) {
        self.venue = venue
        self.timeZone = timeZone
        self.sessions = sessions
        self.auctions = auctions
        self.weekdays = weekdays
        self.holidays = holidays
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.enforceLots = enforceLots
        self.currency = currency
        self.limits = limits
        self.offSession = offSession
    }

    /// Open every minute of every day (crypto; and every symbol when markets are off).
    public var isAlwaysOpen: Bool {
        weekdays.count == 7 && holidays.isEmpty && sessions == [Session(start: 0, end: 24 * 60)]
    }

    /// Why a set of sessions cannot be a trading day, nil when it can.
    public static func problem(sessions: [Session], auctions: [Session]) -> String? {
        guard !sessions.isEmpty else { return "a venue needs at least one session" }
        let all = (sessions.map { ($0, "session") } + auctions.map { ($0, "auction") }).sorted { $0.0.start < $1.0.start }
        for (a, b) in zip(all, all.dropFirst()) where b.0.start < a.0.end {
            return "\(a.1) \(a.0) overlaps \(b.1) \(b.0)"
        }
        if let first = all.first, let last = all.last, last.0.end - first.0.start > 24 * 60 {
            return "sessions \(first.0) to \(last.0) span more than a day"
        }
        return nil
    }
}

extension MarketProfile {
    /// The profiles every symbol maps to unless configured otherwise (docs/MARKETS.md). Time
    /// zones come from the tz database through `zones`.
    public static func builtins(zones: (String) throws(TimeZoneRules.Failure) -> TimeZoneRules) throws(TimeZoneRules.Failure) -> [String: MarketProfile] {
        let shanghai = try zones("Asia/Shanghai")
        func aShare(_ venue: String) -> MarketProfile {
            MarketProfile(venue: venue, timeZone: shanghai, sessions: [Session("09:30-11:30")!, Session("13:00-15:00")!],
                          auctions: [Session("09:15-09:25")!], tickSize: .fixed(0.01), lotSize: 100, enforceLots: true,
                          currency: "CNY", limits: .aShare)
        }
        // HKEX's spread table (prices below each bound move by the size beside it).
        let hkTicks = TickRule(bands: [(0.25, 0.001), (0.5, 0.005), (10, 0.01), (20, 0.02), (100, 0.05), (200, 0.1),
                                       (500, 0.2), (1000, 0.5), (2000, 1), (5000, 2), (.infinity, 5)])
        return [
            "SSE": aShare("SSE"),
            "SZSE": aShare("SZSE"),
            "BSE": aShare("BSE"),
            "HKEX": MarketProfile(venue: "HKEX", timeZone: try zones("Asia/Hong_Kong"),
                                  sessions: [Session("09:30-12:00")!, Session("13:00-16:00")!],
                                  auctions: [Session("09:00-09:20")!], tickSize: hkTicks, lotSize: nil, currency: "HKD"),
            "US": MarketProfile(venue: "US", timeZone: try zones("America/New_York"), sessions: [Session("09:30-16:00")!],
                                tickSize: TickRule(bands: [(1, 0.0001), (.infinity, 0.01)]), lotSize: nil, currency: "USD"),
            "CRYPTO": MarketProfile(venue: "CRYPTO", timeZone: .utc, sessions: [Session(start: 0, end: 24 * 60)],
                                    weekdays: Set(0...6), tickSize: nil, lotSize: nil, currency: "USDT"),
        ]
    }

    /// Every symbol on UTC clock buckets, around the clock, without rules: markets off.
    public static let alwaysOpen = MarketProfile(venue: "NONE", timeZone: .utc, sessions: [Session(start: 0, end: 24 * 60)],
                                                 weekdays: Set(0...6), tickSize: nil, lotSize: nil, currency: "")
}
