import Contracts
import Pipeline

/// How trades fill: costs and slippage per side, and whether short signals only close longs.
public struct TradeSettings: Sendable, Equatable {
    /// Commission per side, in basis points of the position's value.
    public var costBps = 0.0
    /// Slippage per side, in basis points of the price, always against the trade.
    public var slippageBps = 0.0
    /// Short signals close a long and never open a short.
    public var longOnly = false
    public init() {}
}

/// One round trip of one strategy on one symbol.
public struct Trade: Sendable, Equatable {
    public enum ExitReason: String, Sendable { case signal, exitRule = "exit_when", holdBars = "hold_bars", stop, take, end }
    public var strategy: Int
    public var symbol: Int
    public var direction: Direction
    /// Bar indexes (among the symbol's bars) of the fills.
    public var entryBar: Int
    public var exitBar: Int
    /// The fill bars' starts (epoch ms) and the fill prices (after slippage).
    public var entryTs: Int64
    public var entryPrice: Double
    public var exitTs: Int64
    public var exitPrice: Double
    /// Change of equity over the trade, as a fraction, after costs.
    public var ret: Double
    public var exitReason: ExitReason
}

/// One strategy on one symbol: its trades and its equity at every bar close (1 at the start).
public struct Simulation: Sendable {
    public var trades: [Trade] = []
    public var equity: [Double] = []
    /// Bars that closed with a position open.
    public var barsInMarket = 0
}

/// Turns signals into trades with no look-ahead (docs/RESEARCH.md, "Trades"):
/// - a signal on bar i's close fills at bar i+1's open; one on the last bar never fills;
/// - one position at a time: a same-direction signal is ignored; an opposite one closes the
///   position and opens the other side at the same open (long-only: just closes);
/// - exits: `exit_when` holding on a bar's close (from the entry bar on) and `hold_bars` N (the
///   close after N bars held) fill at the next open; `stop_pct` / `take_pct` fill within the bar
///   at the level, or at the open when the bar gaps through it, the stop first when both are
///   touched; whatever is open at the end closes at the last close.
/// - equity compounds: each trade puts all of it in; commission is charged on each side's value.
public enum TradeSimulator {
    /// `bars` may be a stretch of a symbol's bars (a sweep's training or test part): bar indexes
    /// in signals and trades are the symbol's; signals outside the stretch are ignored, and
    /// `exitHolds` (empty, or one per bar of the symbol) is read at the same indexes.
    public static func run(bars: ArraySlice<Bar>, signals: ArraySlice<RecordedSignal>, exit: RuleExit,
                           exitHolds: ArraySlice<Bool>, strategy: Int, symbol: Int, settings: TradeSettings) -> Simulation {
        var sim = Simulation()
        sim.equity.reserveCapacity(bars.count)
        let commission = settings.costBps / 10_000
        let slip = settings.slippageBps / 10_000
        struct Position {
            var direction: Direction
            var entryBar: Int
            var price: Double
            /// Equity invested after the entry commission.
            var capital: Double
        }
        var equity = 1.0
        var position: Position?
        var pendingClose: Trade.ExitReason?
        var pendingOpen: Direction?
        var nextSignal = signals.startIndex

        func value(_ p: Position, at price: Double) -> Double {
            p.direction == .long ? p.capital * price / p.price : p.capital * (2 - price / p.price)
        }
        func fill(_ price: Double, buying: Bool) -> Double { buying ? price * (1 + slip) : price * (1 - slip) }
        func close(_ p: Position, at raw: Double, bar: Int, reason: Trade.ExitReason) {
            let price = fill(raw, buying: p.direction == .short)
            let before = equity
            equity = value(p, at: price) * (1 - commission)
            sim.trades.append(Trade(strategy: strategy, symbol: symbol, direction: p.direction, entryBar: p.entryBar,
                                    exitBar: bar, entryTs: bars[p.entryBar].start, entryPrice: p.price,
                                    exitTs: bars[bar].start, exitPrice: price, ret: equity / before - 1, exitReason: reason))
            position = nil
        }

        for i in bars.indices {
            // Field reads, not a copy of the bar (which would retain and release its strings).
            let openPrice = bars[i].open, closePrice = bars[i].close
            if let reason = pendingClose, let p = position { close(p, at: openPrice, bar: i, reason: reason) }
            if let d = pendingOpen {
                position = Position(direction: d, entryBar: i, price: fill(openPrice, buying: d == .long),
                                    capital: equity * (1 - commission))
            }
            pendingClose = nil
            pendingOpen = nil
            if let p = position { stopOrTake(p, open: openPrice, high: bars[i].high, low: bars[i].low, i) }
            if let p = position {
                sim.barsInMarket += 1
                sim.equity.append(value(p, at: closePrice))
            } else {
                sim.equity.append(equity)
            }
            // Orders for the next open.
            if let p = position {
                if let hold = exit.holdBars, i - p.entryBar + 1 >= hold { pendingClose = .holdBars }
                else if !exitHolds.isEmpty, exitHolds[i] { pendingClose = .exitRule }
            }
            while nextSignal < signals.endIndex, signals[nextSignal].bar < i { nextSignal += 1 }
            guard nextSignal < signals.endIndex, signals[nextSignal].bar == i else { continue }
            let d = signals[nextSignal].direction
            if let p = position {
                guard p.direction != d else { continue }
                pendingClose = .signal
                if !(settings.longOnly && d == .short) { pendingOpen = d }
            } else if !(settings.longOnly && d == .short) {
                pendingOpen = d
            }
        }
        if let p = position, let last = bars.indices.last {
            close(p, at: bars[last].close, bar: last, reason: .end)
            sim.equity[sim.equity.count - 1] = equity
        }
        return sim

        func stopOrTake(_ p: Position, open: Double, high: Double, low: Double, _ i: Int) {
            let long = p.direction == .long
            // Levels from the entry fill. The open comes first: a bar that opens beyond a level
            // fills there; within the bar the stop is assumed to be touched before the take.
            let stop = exit.stopPct.map { p.price * (long ? 1 - $0 / 100 : 1 + $0 / 100) }
            let take = exit.takePct.map { p.price * (long ? 1 + $0 / 100 : 1 - $0 / 100) }
            if let stop, long ? open <= stop : open >= stop { return close(p, at: open, bar: i, reason: .stop) }
            if let take, long ? open >= take : open <= take { return close(p, at: open, bar: i, reason: .take) }
            if let stop, long ? low <= stop : high >= stop { return close(p, at: stop, bar: i, reason: .stop) }
            if let take, long ? high >= take : low <= take { return close(p, at: take, bar: i, reason: .take) }
        }
    }
}
