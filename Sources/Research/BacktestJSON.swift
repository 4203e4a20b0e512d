import Contracts

/// A backtest as JSON (docs/RESEARCH.md, "Output"): keys in a fixed order and numbers in Swift's
/// shortest round-trip form, so the same input gives the same bytes.
public enum BacktestJSON {
    /// `input`: what was read, for the reader of the report (path, kind, rows refused).
    public static func encode(_ r: BacktestResult, input: [(String, JSONValue)]) -> [UInt8] {
        var w = JSONWriter(capacity: 1 << 16)
        w.beginObject()
        w.beginObject("input")
        for (key, value) in input { w.value(key, value) }
        w.int("symbols", r.symbols.count)
        w.int("bars", r.bars.reduce(0) { $0 + $1.count })
        w.endObject()
        w.beginObject("settings")
        w.int64("interval_ms", r.intervalMs)
        w.beginArray("strategies")
        for s in r.strategies { w.string(nil, s) }
        w.endArray()
        w.beginArray("horizons")
        for h in r.settings.horizons { w.int(nil, h) }
        w.endArray()
        w.double("cost_bps", r.settings.trade.costBps)
        w.double("slippage_bps", r.settings.trade.slippageBps)
        w.bool("long_only", r.settings.trade.longOnly)
        w.optionalDouble("periods_per_year", r.settings.periodsPerYear)
        w.endObject()
        w.beginArray("trades")
        for t in r.trades { trade(&w, t, r) }
        w.endArray()
        w.beginArray("scorecard")
        for card in r.scorecards { scorecard(&w, card) }
        w.endArray()
        w.beginArray("metrics")
        let signalCounts = r.signalCounts
        for run in r.runs {
            w.beginObject()
            w.string("strategy", r.strategies[run.strategy])
            w.string("symbol", r.symbols[run.symbol])
            w.int("signals", signalCounts[run.strategy * r.symbols.count + run.symbol])
            metrics(&w, run.metrics)
            w.beginObject("buy_and_hold")
            metrics(&w, r.buyAndHold[run.symbol])
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.appendNewline()
        return w.bytes
    }

    static func trade(_ w: inout JSONWriter, _ t: Trade, _ r: BacktestResult) {
        w.beginObject()
        w.string("strategy", r.strategies[t.strategy])
        w.string("symbol", r.symbols[t.symbol])
        w.string("direction", t.direction.rawValue)
        w.int64("entry_ts", t.entryTs)
        w.double("entry_price", t.entryPrice)
        w.int64("exit_ts", t.exitTs)
        w.double("exit_price", t.exitPrice)
        w.double("return", t.ret)
        w.int("bars", t.exitBar - t.entryBar + 1)
        w.string("exit_reason", t.exitReason.rawValue)
        w.endObject()
    }

    static func scorecard(_ w: inout JSONWriter, _ card: Scorecard) {
        w.beginObject()
        w.string("strategy", card.strategy)
        if let symbol = card.symbol { w.string("symbol", symbol) } else { w.null("symbol") }
        w.int("signals", card.signals)
        w.beginArray("horizons")
        for h in card.horizons {
            w.beginObject()
            w.int("bars", h.bars)
            w.int("count", h.count)
            w.optionalDouble("hit_rate", h.hitRate)
            w.optionalDouble("mean_bps", h.meanBps)
            w.optionalDouble("median_bps", h.medianBps)
            w.optionalDouble("t_stat", h.tStat)
            w.optionalDouble("rank_corr", h.rankCorrelation)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    static func metrics(_ w: inout JSONWriter, _ m: Metrics) {
        w.double("total_return", m.totalReturn)
        w.optionalDouble("cagr", m.cagr)
        w.optionalDouble("volatility", m.volatility)
        w.optionalDouble("sharpe", m.sharpe)
        w.optionalDouble("sortino", m.sortino)
        w.double("max_drawdown", m.maxDrawdown)
        w.int("max_drawdown_bars", m.maxDrawdownBars)
        w.int("trades", m.trades)
        w.optionalDouble("win_rate", m.winRate)
        w.optionalDouble("profit_factor", m.profitFactor)
        w.optionalDouble("avg_trade", m.averageTrade)
        w.double("exposure", m.exposure)
    }
}
