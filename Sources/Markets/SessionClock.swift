import Contracts

/// One symbol's market clock: which trading day and session an instant falls in, and the bar
/// bucket that holds it — bars never span a session break, intraday bars align to each
/// session's open, a daily bar is the venue's trading day. Ticks come in time order, so the
/// current trading day's sessions (as UTC instants, computed through the tz database once per
/// day) answer almost every call in O(1).
public struct SessionClock: Sendable {
    public let profile: MarketProfile
    public let interval: BarInterval
    /// UTC clock buckets (crypto, markets off): the bucket is `interval.bucket(ts)`, as before
    /// markets existed.
    let plainClock: Bool

    /// One stretch of a trading day in UTC milliseconds.
    struct Span: Sendable, Equatable {
        let open: Int64
        let close: Int64
        /// Auctions' ticks go into the bar that opens next (the following session's first).
        let auction: Bool
    }

    /// The trading day last looked up and its spans, in time order.
    private var day: Int64 = .min
    private var spans: [Span] = []

    public init(profile: MarketProfile, interval: BarInterval) {
        self.profile = profile
        self.interval = interval
        plainClock = profile.isAlwaysOpen && profile.timeZone.transitions.isEmpty && profile.timeZone.footer == nil
            && profile.timeZone.initialOffset == 0
    }

    /// Where an instant falls: its trading day (local date number) and bar bucket.
    public struct Slot: Sendable, Equatable {
        public let tradingDay: Int64
        /// The bar bucket: [start, end) in UTC milliseconds; `end` may come before start + interval
        /// at a session's close.
        public let start: Int64
        public let end: Int64
    }

    /// The slot of `ts` (UTC ms), nil outside every session and auction.
    public mutating func slot(_ ts: Int64) -> Slot? {
        if plainClock {
            let start = interval.bucket(ts)
            return Slot(tradingDay: CivilDate.floorDivide(ts, 86_400_000).quotient, start: start, end: start + interval.milliseconds)
        }
        guard let (d, i) = locate(ts) else { return nil }
        let span = spans[i]
        if interval.milliseconds >= 86_400_000 {
            // Daily bars: the trading day, stamped at its local midnight.
            let n = interval.milliseconds / 86_400_000
            let first = CivilDate.floorDivide(d, n).quotient * n
            let start = profile.timeZone.utc(fromLocal: first * 86_400) * 1000
            let end = n == 1 ? spans.last!.close : profile.timeZone.utc(fromLocal: (first + n) * 86_400) * 1000
            return Slot(tradingDay: d, start: start, end: end)
        }
        if span.auction {
            // Into the first bar of the session after the auction.
            guard let next = spans[(i + 1)...].first(where: { !$0.auction }) else { return nil }
            return Slot(tradingDay: d, start: next.open, end: min(next.open + interval.milliseconds, next.close))
        }
        let k = (ts - span.open) / interval.milliseconds
        let start = span.open + k * interval.milliseconds
        return Slot(tradingDay: d, start: start, end: min(start + interval.milliseconds, span.close))
    }

    /// Whether the venue trades at `ts` (sessions and auctions).
    public mutating func isOpen(_ ts: Int64) -> Bool { plainClock || locate(ts) != nil }

    /// The trading day and span holding `ts`.
    private mutating func locate(_ ts: Int64) -> (Int64, Int)? {
        if let i = spanIndex(ts) { return (day, i) }
        let seconds = CivilDate.floorDivide(ts, 1000).quotient
        let local = CivilDate.floorDivide(seconds + profile.timeZone.offset(atUTC: seconds), 86_400).quotient
        // The trading day of a day session on this date, or of a night session opened this evening
        // or last night.
        var candidates: [Int64] = [local]
        if profile.sessions.contains(where: { $0.start < 0 }) || profile.auctions.contains(where: { $0.start < 0 }) {
            candidates += [nextTradingDay(after: local), nextTradingDay(after: local - 1)]
        }
        for d in candidates where isTradingDay(d) {
            load(d)
            if let i = spanIndex(ts) { return (d, i) }
        }
        return nil
    }

    private func spanIndex(_ ts: Int64) -> Int? {
        guard let first = spans.first, ts >= first.open, ts < spans.last!.close else { return nil }
        return spans.firstIndex { ts >= $0.open && ts < $0.close }
    }

    private mutating func load(_ d: Int64) {
        guard d != day else { return }
        day = d
        spans.removeAll(keepingCapacity: true)
        // A night session (start below zero) opens on the evening of the trading day before and
        // ends on the calendar day after that evening.
        let evening = previousTradingDay(before: d)
        func utc(_ date: Int64, _ minutes: Int) -> Int64 {
            profile.timeZone.utc(fromLocal: date * 86_400 + Int64(minutes) * 60) * 1000
        }
        func span(_ s: MarketProfile.Session, auction: Bool) -> Span {
            s.start < 0
                ? Span(open: utc(evening, s.start + 24 * 60), close: utc(evening + 1, s.end), auction: auction)
                : Span(open: utc(d, s.start), close: utc(d, s.end), auction: auction)
        }
        spans = (profile.sessions.map { span($0, auction: false) } + profile.auctions.map { span($0, auction: true) })
            .sorted { $0.open < $1.open }
    }

    public func isTradingDay(_ d: Int64) -> Bool {
        profile.weekdays.contains(Int(CivilDate.floorDivide(d + 4, 7).remainder)) && !profile.holidays.contains(d)
    }

    func nextTradingDay(after d: Int64) -> Int64 {
        var x = d + 1
        for _ in 0..<60 where !isTradingDay(x) { x += 1 }
        return x
    }

    func previousTradingDay(before d: Int64) -> Int64 {
        var x = d - 1
        for _ in 0..<60 where !isTradingDay(x) { x -= 1 }
        return x
    }
}
