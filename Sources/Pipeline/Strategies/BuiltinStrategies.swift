import Contracts

/// RSI reversal: long when RSI crosses back up through `oversold`, short when it crosses back
/// down through `overbought`. Strength grows with how deep the previous bar was. The previous
/// reading counts only if the close moved on at least half of the 14 bars RSI rests on: after a
/// long flat stretch (a suspended stock, a stuck feed) the one change that ends it swings RSI to
/// ~0 or ~100 — TA-Lib's value as well — and a flat series from its first bar reads 0 by
/// convention; neither is an oversold or overbought market.
public struct RSIReversal: Strategy {
    public let name = "rsi_reversal"
    public var oversold = 30.0
    public var overbought = 70.0

    public init() {}

    public func evaluate(_ c: StrategyContext) -> StrategyVerdict? {
        guard let now = c.features.rsi14, let previous = c.previous, let before = previous.rsi14,
              previous.movedBars14 >= 7 else { return nil }
        if before < oversold && now >= oversold {
            return StrategyVerdict(direction: .long, strength: clamp01(0.5 + (oversold - before) / 20),
                                   reason: "RSI crossed back above \(format(oversold)) (\(format(before)) → \(format(now)))")
        }
        if before > overbought && now <= overbought {
            return StrategyVerdict(direction: .short, strength: clamp01(0.5 + (before - overbought) / 20),
                                   reason: "RSI crossed back below \(format(overbought)) (\(format(before)) → \(format(now)))")
        }
        return nil
    }
}

/// MACD line crossing its signal line. Strength: the histogram against the 20-bar deviation.
public struct MACDCross: Strategy {
    public let name = "macd_cross"

    public init() {}

    public func evaluate(_ c: StrategyContext) -> StrategyVerdict? {
        guard let m = c.features.macd, let s = c.features.macdSignal, let pm = c.previous?.macd,
              let ps = c.previous?.macdSignal else { return nil }
        let scale = max(c.features.stddev20 ?? 0, c.values.close * 1e-4)
        let strength = clamp01(0.5 + abs(m - s) / scale)
        if pm <= ps && m > s { return StrategyVerdict(direction: .long, strength: strength, reason: "MACD crossed above its signal line") }
        if pm >= ps && m < s { return StrategyVerdict(direction: .short, strength: strength, reason: "MACD crossed below its signal line") }
        return nil
    }
}

/// Bollinger bands: `mean_reversion` buys a close that falls below the lower band (sells above
/// the upper); `breakout` does the opposite. Fires on the bar that crosses the band.
public struct BollingerStrategy: Strategy {
    public enum Mode: String, Sendable { case meanReversion = "mean_reversion", breakout }
    public let name = "bollinger"
    public var mode = Mode.meanReversion

    public init() {}

    public func evaluate(_ c: StrategyContext) -> StrategyVerdict? {
        guard let upper = c.features.bbUpper, let lower = c.features.bbLower, let p = c.previous,
              let pu = p.bbUpper, let pl = p.bbLower else { return nil }
        let close = c.values.close
        let width = max(upper - lower, close * 1e-6)
        if close > upper && p.close <= pu {
            let strength = clamp01(0.5 + (close - upper) / width)
            return StrategyVerdict(direction: mode == .breakout ? .long : .short, strength: strength,
                                   reason: "close \(format(close)) above the upper band \(format(upper)) (\(mode.rawValue))")
        }
        if close < lower && p.close >= pl {
            let strength = clamp01(0.5 + (lower - close) / width)
            return StrategyVerdict(direction: mode == .breakout ? .short : .long, strength: strength,
                                   reason: "close \(format(close)) below the lower band \(format(lower)) (\(mode.rawValue))")
        }
        return nil
    }
}

/// N-bar breakout: a close above the highest high (below the lowest low) of the previous N bars.
public struct MomentumBreakout: Strategy {
    public let name = "momentum_breakout"
    public var lookback = 20

    public init() {}

    public func evaluate(_ c: StrategyContext) -> StrategyVerdict? {
        guard let high = c.recent.highest(lookback), let low = c.recent.lowest(lookback) else { return nil }
        let close = c.values.close
        let scale = max(c.features.atr14 ?? 0, close * 1e-4)
        if close > high {
            return StrategyVerdict(direction: .long, strength: clamp01(0.5 + (close - high) / scale),
                                   reason: "close \(format(close)) broke the \(lookback)-bar high \(format(high))")
        }
        if close < low {
            return StrategyVerdict(direction: .short, strength: clamp01(0.5 + (low - close) / scale),
                                   reason: "close \(format(close)) broke the \(lookback)-bar low \(format(low))")
        }
        return nil
    }
}

/// Volume spike: volume z-score at or above `threshold`, in the direction of the bar's return.
public struct VolumeSpike: Strategy {
    public let name = "volume_spike"
    public var threshold = 3.0

    public init() {}

    public func evaluate(_ c: StrategyContext) -> StrategyVerdict? {
        guard let z = c.features.volumeZ20, z >= threshold, let r = c.features.ret1, r != 0 else { return nil }
        if let pz = c.previous?.volumeZ20, pz >= threshold { return nil }  // one signal per spike
        return StrategyVerdict(direction: r > 0 ? .long : .short, strength: clamp01(z / (2 * threshold)),
                               reason: "volume z-score \(format(z)) with return \(format(r * 100))%")
    }
}

/// VWAP deviation: a close more than `threshold` (fraction) below the 20-bar VWAP is a long
/// (reversion), above it a short. Fires when the deviation first passes the threshold.
public struct VWAPDeviation: Strategy {
    public let name = "vwap_deviation"
    public var threshold = 0.005

    public init() {}

    public func evaluate(_ c: StrategyContext) -> StrategyVerdict? {
        guard let vwap = c.features.vwap20, vwap > 0 else { return nil }
        let deviation = c.values.close / vwap - 1
        let before = c.previous.flatMap { p in p.vwap20.map { p.close / $0 - 1 } } ?? 0
        if deviation <= -threshold && before > -threshold {
            return StrategyVerdict(direction: .long, strength: clamp01(-deviation / (2 * threshold)),
                                   reason: "close \(format(deviation * 100))% below the 20-bar VWAP")
        }
        if deviation >= threshold && before < threshold {
            return StrategyVerdict(direction: .short, strength: clamp01(deviation / (2 * threshold)),
                                   reason: "close \(format(deviation * 100))% above the 20-bar VWAP")
        }
        return nil
    }
}

/// A strategy defined in config by a rule expression; fires when the rule becomes true (it
/// held not on the previous bar but holds now), so a lasting condition gives one signal.
/// How a rule strategy's position ends in a backtest: its own rule, a number of bars, a stop or a
/// take-profit (percent of the entry price); whichever comes first. Empty: on the opposite signal
/// or at the end of the data.
public struct RuleExit: Sendable {
    public var when: RuleExpression?
    public var holdBars: Int?
    public var stopPct: Double?
    public var takePct: Double?
    public init() {}
}

public struct RuleStrategy: Strategy {
    public let name: String
    public let rule: RuleExpression
    public let direction: Direction
    public let strength: Double
    public let exit: RuleExit

    public init(name: String, rule: RuleExpression, direction: Direction, strength: Double, exit: RuleExit = RuleExit()) {
        self.name = name
        self.rule = rule
        self.direction = direction
        self.strength = strength
        self.exit = exit
        let read = rule.term.names + (exit.when?.term.names ?? [])
        readsFeatures = read.contains { !RuleExpression.barFields.contains($0) }
        reason = "rule \(name): \(rule.source)"
    }

    /// The same for every signal of the rule: built once, shared by them all.
    private let reason: String

    /// A rule reads features only through the feature names it uses (bar fields and indicator
    /// calls read the bar and the symbol's indicator bank), never the recent bars.
    public let readsFeatures: Bool
    public var readsRecentBars: Bool { false }

    /// Fires on the bar the rule starts to hold (it did not on the previous bar).
    public func evaluate(_ c: StrategyContext) -> StrategyVerdict? {
        guard rule.holds(c.input) else { return nil }
        if let before = c.input.before, rule.holds(before) { return nil }
        return StrategyVerdict(direction: direction, strength: strength, reason: reason)
    }
}
