import Contracts
import Markets

/// Risk thresholds (market time unless noted).
public struct RiskSettings: Sendable, Equatable {
    /// No tick for this long (wall clock, live feeds only) → stale_feed (critical).
    public var staleFeedMs: Int64 = 10_000
    /// A tick return beyond k·σ of the recent tick returns → price_jump (warning)...
    public var jumpSigmas = 8.0
    /// ...or beyond this fraction → price_jump (critical).
    public var jumpBand = 0.05
    /// A k·σ warning needs a move of at least this fraction too: one step of a coarse price grid
    /// (a 10-yuan stock moving a fen) is no jump, however quiet the ticks before it.
    public var minJump = 0.002
    /// σ of the last 5 bar returns over σ of the last 50 → volatility_spike (warning).
    public var volatilityRatio = 3.0
    /// Signals per symbol per minute → signal_rate (warning).
    public var maxSignalsPerSymbolPerMinute = 12
    /// Signals over all symbols per minute → signal_rate (warning, symbol null).
    public var maxSignalsPerMinute = 120
    /// (ask − bid)/mid beyond this → wide_spread (warning).
    public var maxSpread = 0.005
    /// The same (symbol, kind) alert is repeated at most once per this interval.
    public var repeatAfterMs: Int64 = 60_000
    /// A symbol stays blocked/warned this long after a critical/warning alert.
    public var holdMs: Int64 = 60_000
    /// A close within this fraction of the previous close from a daily limit is "at the limit":
    /// price_limit (warning), and opportunities in that direction are untradable.
    public var limitNear = 0.005

    public init() {}
}

/// Watches each symbol's ticks, bars and signals and raises `RiskAlert`s; tells the aggregator
/// whether a symbol is ok, warned or blocked (a critical alert within `holdMs`).
public struct RiskGuard: Sendable {
    /// A class so the per-tick checks mutate in place (a struct copied out of the dictionary
    /// would copy its windows on every tick).
    final class SymbolState: @unchecked Sendable {
        var lastPrice: Double?
        var returns = ReturnStats(size: 100)
        var barReturns = MovingWindow(size: 50)
        var lastBarClose: Double?
        var signalTimes = SignalTimes(size: 256)
        var lastAlert: [String: Int64] = [:]
        var warnUntil: Int64 = .min
        var blockUntil: Int64 = .min
        var activeKinds: [String: Int64] = [:]   // kind → until
        var lastTickWallMs: Int64?
        init() {}
    }

    public var settings: RiskSettings
    var symbols: [String: SymbolState] = [:]
    var globalSignals = SignalTimes(size: 1024)
    var globalLastAlert: Int64 = .min

    public init(settings: RiskSettings = RiskSettings()) { self.settings = settings }

    // MARK: - Inputs

    /// Checks an accepted tick (price jump, spread). `wallMs` is for stale-feed tracking.
    public mutating func tick(_ t: Tick, wallMs: Int64?) -> [RiskAlert] {
        tick(t, wallMs: wallMs, state: state(t.symbol))
    }

    /// A symbol's state, made on first use: a caller that keeps it skips the lookup per tick.
    mutating func symbolState(_ symbol: String) -> SymbolState { state(symbol) }

    /// `tick(_:wallMs:)` with the symbol's state (`symbolState`) at hand.
    mutating func tick(_ t: Tick, wallMs: Int64?, state: SymbolState) -> [RiskAlert] {
        state.lastTickWallMs = wallMs
        var alerts: [RiskAlert] = []
        if let last = state.lastPrice, last > 0 {
            let r = t.price / last - 1
            if abs(r) > settings.jumpBand {
                emit(&alerts, state, t.ts, t.symbol, "price_jump", .critical,
                     "price moved \(format(r * 100))% in one tick", abs(r), settings.jumpBand)
            } else if let variance = state.returns.variance, variance > 0, abs(r) >= settings.minJump,
                      r * r > settings.jumpSigmas * settings.jumpSigmas * variance {
                // |r| > k·σ compared squared: no square root per tick, only when it fires.
                let sigma = variance.squareRoot()
                emit(&alerts, state, t.ts, t.symbol, "price_jump", .warning,
                     "tick return \(format(abs(r) / sigma))σ (σ \(format(sigma * 100))%)", abs(r) / sigma, settings.jumpSigmas)
            }
            state.returns.add(r)
        }
        state.lastPrice = t.price
        if let bid = t.bid, let ask = t.ask, bid > 0, ask > 0 {
            let spread = (ask - bid) / ((ask + bid) / 2)
            if spread > settings.maxSpread {
                emit(&alerts, state, t.ts, t.symbol, "wide_spread", .warning,
                     "spread \(format(spread * 100))% of mid", spread, settings.maxSpread)
            }
        }
        return alerts
    }

    /// An out-of-order tick was rejected (reported once per repeat interval per symbol).
    public mutating func outOfOrder(_ t: Tick, lastTs: Int64) -> [RiskAlert] {
        let state = self.state(t.symbol)
        var alerts: [RiskAlert] = []
        emit(&alerts, state, lastTs, t.symbol, "out_of_order", .info,
             "tick at \(t.ts) is older than the last accepted tick at \(lastTs)", Double(lastTs - t.ts), 0)
        return alerts
    }

    /// Checks a closed bar (volatility spike).
    public mutating func bar(_ b: Bar) -> [RiskAlert] {
        let state = self.state(b.symbol)
        var alerts: [RiskAlert] = []
        if let last = state.lastBarClose, last > 0 {
            _ = state.barReturns.push(b.close / last - 1)
            if state.barReturns.isFull {
                let long = Self.deviation(state.barReturns, last: 50)
                let short = Self.deviation(state.barReturns, last: 5)
                if long > 0, short / long > settings.volatilityRatio {
                    emit(&alerts, state, b.start, b.symbol, "volatility_spike", .warning,
                         "5-bar volatility is \(format(short / long))× the 50-bar", short / long, settings.volatilityRatio)
                }
            }
        }
        state.lastBarClose = b.close
        return alerts
    }

    /// Counts a signal against the per-symbol and global rate limits.
    public mutating func signal(_ s: StrategySignal) -> [RiskAlert] {
        let state = self.state(s.symbol)
        var alerts: [RiskAlert] = []
        state.signalTimes.push(s.ts)
        let perSymbol = state.signalTimes.countNewer(than: s.ts - 60_000)
        if perSymbol > settings.maxSignalsPerSymbolPerMinute {
            emit(&alerts, state, s.ts, s.symbol, "signal_rate", .warning,
                 "\(perSymbol) signals in the last minute", Double(perSymbol), Double(settings.maxSignalsPerSymbolPerMinute))
        }
        globalSignals.push(s.ts)
        let global = globalSignals.countNewer(than: s.ts - 60_000)
        if global > settings.maxSignalsPerMinute, s.ts >= globalLastAlert + settings.repeatAfterMs {
            globalLastAlert = s.ts
            alerts.append(RiskAlert(ts: s.ts, symbol: nil, kind: "signal_rate", severity: .warning,
                                    message: "\(global) signals in the last minute across all symbols",
                                    value: Double(global), threshold: Double(settings.maxSignalsPerMinute)))
        }
        return alerts
    }

    /// Stale feeds (live only): symbols without a tick for `staleFeedMs` of wall time while their
    /// venue trades (`inSession(symbol, ms)`: now and `staleFeedMs` ago — a market that opened a
    /// moment ago is not stale yet). `found` turns true when a stale symbol's state changed (an
    /// alert, or its hold extended even when the alert itself is not repeated).
    public mutating func staleFeeds(wallMs: Int64, marketMs: Int64, found: inout Bool,
                                    inSession: (String, Int64) -> Bool = { _, _ in true }) -> [RiskAlert] {
        var alerts: [RiskAlert] = []
        for symbol in symbols.keys.sorted() {
            guard let state = symbols[symbol], let last = state.lastTickWallMs, wallMs - last > settings.staleFeedMs,
                  inSession(symbol, wallMs), inSession(symbol, wallMs - settings.staleFeedMs) else { continue }
            let before = (state.blockUntil, state.activeKinds["stale_feed"], state.lastAlert["stale_feed"])
            emit(&alerts, state, marketMs, symbol, "stale_feed", .critical,
                 "no tick for \((wallMs - last) / 1000) s", Double(wallMs - last), Double(settings.staleFeedMs))
            // Only a change is worth reporting: with market time standing still, a feed that stays
            // stale changes nothing (and an idle server journals nothing).
            if before != (state.blockUntil, state.activeKinds["stale_feed"], state.lastAlert["stale_feed"]) { found = true }
        }
        return alerts
    }

    /// A bar closed at or near its daily limit (`price_limit`, warning).
    public mutating func priceLimit(_ b: Bar, band: PriceBand, up: Bool, closeTime: Int64) -> [RiskAlert] {
        var alerts: [RiskAlert] = []
        let limit = up ? band.up : band.down
        emit(&alerts, state(b.symbol), closeTime, b.symbol, "price_limit", .warning,
             "\(b.close) is at the limit-\(up ? "up" : "down") \(limit) (previous close \(band.previousClose), \(up ? "+" : "-")\(Int((band.fraction * 100).rounded())) %)",
             b.close, limit)
        return alerts
    }

    /// A tick outside every session of its venue (`off_session`, info: it changes no risk
    /// status), at most once per `repeatAfterMs` of market time per symbol.
    public mutating func offSession(_ t: Tick, venue: String) -> [RiskAlert] {
        var alerts: [RiskAlert] = []
        emit(&alerts, state(t.symbol), t.ts, t.symbol, "off_session", .info,
             "tick outside the \(venue) sessions", Double(t.ts), 0)
        return alerts
    }

    /// The symbol's risk state at market time `ts`, for opportunities.
    public func status(_ symbol: String, at ts: Int64) -> (status: RiskStatus, alerts: [String]) {
        guard let state = symbols[symbol] else { return (.ok, []) }
        let kinds = state.activeKinds.filter { $0.value > ts }.keys.sorted()
        if state.blockUntil > ts { return (.blocked, kinds) }
        if state.warnUntil > ts { return (.warn, kinds) }
        return (.ok, [])
    }

    // MARK: - Helpers

    private mutating func state(_ symbol: String) -> SymbolState {
        if let s = symbols[symbol] { return s }
        let s = SymbolState()
        symbols[symbol] = s
        return s
    }

    private func emit(_ alerts: inout [RiskAlert], _ state: SymbolState, _ ts: Int64, _ symbol: String, _ kind: String,
                      _ severity: RiskSeverity, _ message: @autoclosure () -> String, _ value: Double, _ threshold: Double) {
        if severity != .info {
            state.activeKinds[kind] = max(state.activeKinds[kind] ?? .min, ts + settings.holdMs)
            if severity == .critical { state.blockUntil = max(state.blockUntil, ts + settings.holdMs) }
            else { state.warnUntil = max(state.warnUntil, ts + settings.holdMs) }
        }
        if let last = state.lastAlert[kind], ts < last + settings.repeatAfterMs { return }
        state.lastAlert[kind] = ts
        alerts.append(RiskAlert(ts: ts, symbol: symbol, kind: kind, severity: severity, message: message(),
                                value: value, threshold: threshold))
    }

    private static func deviation(_ w: MovingWindow, last n: Int) -> Double {
        let start = w.count - n
        var mean = 0.0
        for i in start..<w.count { mean += w[oldest: i] }
        mean /= Double(n)
        var sq = 0.0
        for i in start..<w.count { let d = w[oldest: i] - mean; sq += d * d }
        return (sq / Double(n)).squareRoot()
    }
}

/// The times of the last signals (a symbol's, or all of them), for the rate limits: how many of
/// the newest are later than a time, counted from the newest back to the first that is not. Times
/// mostly arrive in order, so the count is a binary search over the newest in-order run (its
/// length kept as times are pushed), and a walk only past that run's start: the same count as
/// walking the whole window, in O(log n) instead of O(n) per signal.
struct SignalTimes: Sendable {
    private(set) var window: MovingWindow
    /// How many of the newest times are in non-decreasing order.
    private var run = 0

    init(size: Int) { window = MovingWindow(size: size) }

    init(_ window: MovingWindow) {
        self.window = window
        run = window.count == 0 ? 0 : 1
        var i = window.count - 1
        while i > 0, window[oldest: i - 1] <= window[oldest: i] { run += 1; i -= 1 }
    }

    var size: Int { window.size }

    mutating func push(_ ts: Int64) {
        let x = Double(ts)
        let inOrder = window.count > 0 && window[oldest: window.count - 1] <= x
        _ = window.push(x)
        run = inOrder ? min(run + 1, window.count) : 1
    }

    /// How many of the newest times are later than `since`, walking back from the newest and
    /// stopping at the first that is not.
    func countNewer(than since: Int64) -> Int {
        let limit = Double(since)
        let count = window.count
        // In the run, times ascend: the first later than `since`, by bisection.
        var lo = count - run, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if window[oldest: mid] > limit { hi = mid } else { lo = mid + 1 }
        }
        if lo > count - run || run == count { return count - lo }
        // The whole run is later: walk on before it (times out of order).
        var i = lo - 1
        while i >= 0, window[oldest: i] > limit { i -= 1 }
        return count - 1 - i
    }
}

/// Running mean and deviation of the last `size` tick returns (window sums: returns are small
/// and centred near zero, so the sums do not cancel badly; a heuristic threshold, not a feature).
struct ReturnStats: Sendable {
    var window: MovingWindow
    var total = 0.0
    var squares = 0.0

    init(size: Int) { window = MovingWindow(size: size) }

    mutating func add(_ r: Double) {
        if let old = window.push(r) {
            total -= old
            squares -= old * old
        }
        total += r
        squares += r * r
    }

    /// nil until 30 returns are known.
    var variance: Double? {
        guard window.count >= 30 else { return nil }
        let n = Double(window.count)
        return max(0, squares / n - (total / n) * (total / n))
    }
}
