import Contracts

/// Ticks that make one strategy fire on a fresh symbol (for `dongfeng trigger`): the hand-made
/// paths of the built-ins below, or whatever `TriggerSearch` finds for any strategy.
///
/// Each hand-made scenario is a short, fixed price path around 100.00 (prices in whole cents, bid/ask one
/// cent either side, a constant 100 per bar except where volume is the point) designed against
/// the built-ins' default parameters so that, on a symbol with no history:
/// - no strategy fires before the firing bar closes, and on it only the target does, so the
///   opportunity it opens is `new`, names the strategy and is not expired by an opposite signal;
/// - no tick moves the price more than about 2 % (the risk guard blocks a symbol for a minute
///   after a 5 % tick jump) or 8σ of the recent tick returns, spreads stay narrow, and no
///   scenario has the 50 bar returns a volatility-spike warning needs;
/// - every scenario but `macd_cross` ends before `ema_26` exists, so the rules of
///   `Config/strategies.json` cannot fire either; the `macd_cross` path keeps `ema_12` under
///   `ema_26` throughout, which neither shipped rule acts on.
///
/// Prices and volumes depend only on the strategy; the symbol and the start time only label
/// and place the ticks, so any two symbols (or runs) get the same, independent sequences.
public struct TriggerScenario: Sendable {
    public let strategy: String
    /// Warm-up ticks (indicator history) followed by the ticks of the bar that fires.
    public let setup: [Tick]
    /// The one tick that opens the next bar and so closes the firing bar: the moment the signal is made.
    public let closing: Tick
    public let expectedDirection: Direction

    public init(strategy: String, setup: [Tick], closing: Tick, expectedDirection: Direction) {
        self.strategy = strategy
        self.setup = setup
        self.closing = closing
        self.expectedDirection = expectedDirection
    }

    /// The same ticks moved in time so the closing tick is at `closingTs` — a bar boundary, as
    /// the closing tick is, so every tick stays in its bar. Indicators, the aggregator and the
    /// risk guard see only differences of times, so the scenario fires wherever it is placed.
    /// nil when a tick's time would leave 0…Int64.max.
    public func placed(closingAt closingTs: Int64) -> TriggerScenario? {
        let (shift, overflow) = closingTs.subtractingReportingOverflow(closing.ts)
        let first = setup.first?.ts ?? closing.ts
        guard !overflow, closingTs >= 0, !first.addingReportingOverflow(shift).overflow, first + shift >= 0 else { return nil }
        func move(_ t: Tick) -> Tick {
            var t = t
            t.ts += shift
            return t
        }
        return TriggerScenario(strategy: strategy, setup: setup.map(move), closing: move(closing), expectedDirection: expectedDirection)
    }

    /// The scenario for a built-in strategy on `symbol`. Bars are `intervalMs` long (the server's
    /// bar interval) and aligned as the engine aligns them: the first tick is at the first bar
    /// boundary at or after `startTs`, warm-up bar `i` starts `i · intervalMs` later with its ticks
    /// spread inside it, and `closing` is at the start of the bar after the firing one (which is
    /// also the `ts` of the signal).
    /// nil when the strategy has no scenario (unknown name or a rule strategy), and when `startTs`
    /// is negative, `intervalMs` is not positive or the ticks' times would overflow.
    public static func make(strategy: String, symbol: String, startTs: Int64, intervalMs: Int64 = 1000) -> TriggerScenario? {
        guard let plan = Plan(strategy), startTs >= 0, intervalMs > 0 else { return nil }
        // The firing bar and the closing tick's bar follow the warm-up bars.
        let bars = Int64(plan.closes.count + 2)
        let offset = startTs % intervalMs
        let (base, late) = offset == 0 ? (startTs, false) : (startTs - offset).addingReportingOverflow(intervalMs)
        let (span, long) = intervalMs.multipliedReportingOverflow(by: bars)
        guard !late, !long, !base.addingReportingOverflow(span).overflow else { return nil }

        var setup: [Tick] = []
        setup.reserveCapacity(plan.closes.count * 4 + 3)
        // One bar's ticks, evenly spaced from the bar's start: (price in cents, volume).
        func bar(_ index: Int, _ points: [(cents: Int, volume: Double)]) {
            let start = base + Int64(index) * intervalMs
            for (j, point) in points.enumerated() {
                setup.append(tick(symbol, start + intervalMs * Int64(j) / Int64(points.count), point.cents, point.volume))
            }
        }
        var previous = plan.closes.first ?? plan.fire
        for (i, close) in plan.closes.enumerated() {
            if plan.wick > 0 {
                // Opens at the previous close, trades a wick either side of the body, closes.
                bar(i, [(previous, 30), (max(previous, close) + plan.wick, 10), (min(previous, close) - plan.wick, 10), (close, 50)])
            } else {
                bar(i, [(previous, 40), (close, 60)])
            }
            previous = close
        }
        let v = plan.fireVolume
        bar(plan.closes.count, [(previous, v * 2 / 10), ((previous + plan.fire) / 2, v * 3 / 10), (plan.fire, v * 5 / 10)])
        let closing = tick(symbol, base + Int64(plan.closes.count + 1) * intervalMs, plan.fire, Plan.barVolume)
        return TriggerScenario(strategy: strategy, setup: setup, closing: closing, expectedDirection: plan.direction)
    }

    private static func tick(_ symbol: String, _ ts: Int64, _ cents: Int, _ volume: Double) -> Tick {
        Tick(symbol: symbol, ts: ts, price: Double(cents) / 100, volume: volume,
             bid: Double(cents - 1) / 100, ask: Double(cents + 1) / 100)
    }

    /// A scenario's price path in cents: the warm-up bars' closes, the wick each warm-up bar
    /// trades beyond its body (a range that keeps N-bar highs and lows out of reach of the closes),
    /// and the firing bar's close and volume.
    private struct Plan {
        static let barVolume = 100.0
        let closes: [Int]
        let wick: Int
        let fire: Int
        let fireVolume: Double
        let direction: Direction

        /// A range of `count` closes alternating `amplitude` cents either side of 100.00.
        private static func range(_ count: Int, amplitude: Int) -> [Int] {
            (0..<count).map { 10_000 + ($0 % 2 == 1 ? amplitude : -amplitude) }
        }

        init?(_ strategy: String) {
            var fireVolume = Self.barVolume
            switch strategy {
            case "rsi_reversal":
                // 15 lower closes (101.40 → 100.00) pin RSI(14) at 0; a bounce to 100.80 lifts it
                // to ~38, back through 30. Too short for any other feature to be ready.
                closes = (0..<15).map { 10_140 - 10 * $0 }
                wick = 30
                fire = 10_080
                direction = .long
            case "macd_cross":
                // A sell-off gathering pace (2.5 ¢ a bar, 0.03 ¢ faster each bar: 100.00 → 98.92 in
                // 36 bars) keeps MACD falling under its signal line; a 15 ¢ rebound lifts it above.
                // The fall stays inside the 20-bar wicks and the bands, and a 15 ¢ bounce leaves
                // RSI (0 on the way down) under 30.
                let drop = { (t: Int) in (500 * (t + 1) + 3 * t * (t + 1)) / 200 }
                closes = (0..<36).map { 10_000 - drop($0) }
                wick = 80
                fire = 10_000 - drop(35) + 15
                direction = .long
            case "bollinger":
                // A ±10 ¢ range for 20 bars (bands ≈ 99.80–100.20), then a close at 100.35 above the
                // upper band: a mean-reversion short. The ±50 ¢ wicks keep it below the 20-bar
                // high, so momentum_breakout stays quiet.
                closes = Self.range(20, amplitude: 10)
                wick = 50
                fire = 10_035
                direction = .short
            case "momentum_breakout":
                // A tight ±10 ¢ range without wicks for 20 bars, then a close at 100.16: above the
                // 20-bar high (100.10) but inside the upper band (≈ 100.22).
                closes = Self.range(20, amplitude: 10)
                wick = 0
                fire = 10_016
                direction = .long
            case "volume_spike":
                // 20 bars of exactly 100 (no volume deviation yet), then ten times that on a bar
                // that closes 8 ¢ lower: volume z-score √19 ≈ 4.4 ≥ 3 on a falling bar.
                closes = Self.range(20, amplitude: 10)
                wick = 30
                fire = 10_002
                fireVolume = 10 * Self.barVolume
                direction = .short
            case "vwap_deviation":
                // A ±30 ¢ range around a 20-bar VWAP of ~100.00, then a close at 99.45: 0.54 %
                // below it, inside the lower band (≈ 99.35) and above the 20-bar low (the ±80 ¢ wicks).
                closes = Self.range(20, amplitude: 30)
                wick = 80
                fire = 9_945
                direction = .long
            default:
                return nil
            }
            self.fireVolume = fireVolume
        }
    }
}
