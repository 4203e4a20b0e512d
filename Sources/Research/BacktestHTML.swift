import Contracts
import Foundation

/// A backtest as one self-contained HTML page (docs/RESEARCH.md, "Output"): inline SVG charts,
/// no scripts, fonts or other files. Per symbol: the price with each strategy's trades marked,
/// equity of every strategy beside buy-and-hold, and drawdown; then every strategy's hit rate by
/// horizon, the metrics and the trades. Each chart is an `<svg data-chart="…">`.
public enum BacktestHTML {
    static let palette = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]
    /// Most points a line keeps (longer series are thinned, keeping each stretch's extreme).
    static let maxPoints = 1200
    static let maxSymbols = 24
    static let maxTradeRows = 2000

    public static func render(_ r: BacktestResult, title: String) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Backtest · \(escape(title))</title>
            <style>
            body{font:14px system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#111827;background:#fff}
            h1{font-size:20px}h2{font-size:17px;margin-top:32px}h3{font-size:14px;margin:16px 0 4px}
            table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 8px;border-bottom:1px solid #e5e7eb;text-align:right}
            td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}
            svg{display:block;max-width:100%;height:auto}.legend span{margin-right:14px;white-space:nowrap}
            .legend i{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}
            .note{color:#6b7280}
            </style></head><body>
            <h1>Backtest · \(escape(title))</h1>
            <p class="note">\(r.strategies.count) strategies · \(r.symbols.count) symbols · \(r.bars.reduce(0) { $0 + $1.count }) bars of \(escape(intervalLabel(r.intervalMs))) · \
            costs \(r.settings.trade.costBps) bps + slippage \(r.settings.trade.slippageBps) bps per side\(r.settings.trade.longOnly ? " · long only" : "")</p>

            """
        page += legend(r.strategies)
        page += "<h2>Hit rate by horizon</h2>\n" + hitRateChart(r)
        page += metricsTable(r)
        for (m, symbol) in r.symbols.enumerated().prefix(maxSymbols) where !r.bars[m].isEmpty {
            page += "<h2>\(escape(symbol))</h2>\n"
            page += "<h3>Price and trades</h3>\n" + priceChart(r, symbol: m)
            page += "<h3>Equity (1 = start) against buy-and-hold</h3>\n" + equityChart(r, symbol: m)
            page += "<h3>Drawdown</h3>\n" + drawdownChart(r, symbol: m)
        }
        if r.symbols.count > maxSymbols {
            page += "<p class=\"note\">Charts of the first \(maxSymbols) of \(r.symbols.count) symbols; every symbol is in the tables.</p>\n"
        }
        page += tradesTable(r)
        page += "</body></html>\n"
        return page
    }

    // MARK: - Charts

    struct Frame {
        let width = 960.0, height = 260.0, left = 64.0, right = 16.0, top = 12.0, bottom = 28.0
        var lo: Double, hi: Double, count: Int
        func x(_ i: Int) -> Double { left + (width - left - right) * (count > 1 ? Double(i) / Double(count - 1) : 0.5) }
        func y(_ v: Double) -> Double { top + (height - top - bottom) * (hi > lo ? (hi - v) / (hi - lo) : 0.5) }
    }

    static func open(_ name: String, _ f: Frame, label: String) -> String {
        "<svg data-chart=\"\(name)\" viewBox=\"0 0 \(Int(f.width)) \(Int(f.height))\" role=\"img\" aria-label=\"\(escape(label))\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    }

    /// Horizontal grid lines with value labels, and the first, middle and last bar's dates.
    static func axes(_ f: Frame, bars: [Bar], format: (Double) -> String) -> String {
        var s = ""
        for k in 0...4 {
            let v = f.lo + (f.hi - f.lo) * Double(k) / 4
            let y = f.y(v)
            s += "<line x1=\"\(n(f.left))\" x2=\"\(n(f.width - f.right))\" y1=\"\(n(y))\" y2=\"\(n(y))\" stroke=\"#e5e7eb\"/>"
            s += "<text x=\"\(n(f.left - 6))\" y=\"\(n(y + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#6b7280\">\(escape(format(v)))</text>\n"
        }
        if !bars.isEmpty {
            for (i, anchor) in [(0, "start"), (bars.count / 2, "middle"), (bars.count - 1, "end")] {
                s += "<text x=\"\(n(f.x(i)))\" y=\"\(n(f.height - 8))\" font-size=\"11\" text-anchor=\"\(anchor)\" fill=\"#6b7280\">\(date(bars[i].start))</text>"
            }
            s += "\n"
        }
        return s
    }

    /// A polyline of `values` (one per bar), thinned to `maxPoints` keeping each stretch's
    /// lowest (`keepLow`) or last value.
    static func line(_ values: [Double], _ f: Frame, color: String, width: Double = 1.5, keepLow: Bool = false) -> String {
        let step = max(1, (values.count + maxPoints - 1) / maxPoints)
        var points = ""
        var i = 0
        while i < values.count {
            let end = min(values.count, i + step)
            var k = end - 1
            if keepLow { for j in i..<end where values[j] < values[k] { k = j } }
            points += "\(n(f.x(k))),\(n(f.y(values[k]))) "
            i = end
        }
        return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\" points=\"\(points)\"/>\n"
    }

    static func priceChart(_ r: BacktestResult, symbol m: Int) -> String {
        let bars = r.bars[m]
        let closes = bars.map(\.close)
        var f = Frame(lo: closes.min() ?? 0, hi: closes.max() ?? 1, count: bars.count)
        pad(&f)
        var s = open("price", f, label: "\(r.symbols[m]) close with trades")
        s += axes(f, bars: bars, format: short)
        s += line(closes, f, color: "#374151", width: 1.2)
        for run in r.runs where run.symbol == m {
            let color = palette[run.strategy % palette.count]
            for t in run.simulation.trades {
                let up = t.direction == .long
                let x = f.x(t.entryBar), y = f.y(t.entryPrice)
                let tri = up ? "\(n(x)),\(n(y + 2)) \(n(x - 5)),\(n(y + 10)) \(n(x + 5)),\(n(y + 10))"
                             : "\(n(x)),\(n(y - 2)) \(n(x - 5)),\(n(y - 10)) \(n(x + 5)),\(n(y - 10))"
                s += "<polygon class=\"entry\" points=\"\(tri)\" fill=\"\(color)\"><title>\(escape(r.strategies[run.strategy])) \(t.direction.rawValue) \(date(t.entryTs)) @ \(short(t.entryPrice))</title></polygon>"
                let ex = f.x(t.exitBar), ey = f.y(t.exitPrice)
                s += "<circle class=\"exit\" cx=\"\(n(ex))\" cy=\"\(n(ey))\" r=\"3.5\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"><title>\(escape(r.strategies[run.strategy])) exit (\(t.exitReason.rawValue)) \(date(t.exitTs)) @ \(short(t.exitPrice)) · \(String(format: "%.2f", t.ret * 100))%</title></circle>\n"
            }
        }
        return s + "</svg>\n"
    }

    static func equityChart(_ r: BacktestResult, symbol m: Int) -> String {
        let runs = r.runs.filter { $0.symbol == m }
        let hold = r.buyAndHoldEquity[m]
        let all = runs.flatMap(\.simulation.equity) + hold
        var f = Frame(lo: min(1, all.min() ?? 1), hi: max(1, all.max() ?? 1), count: hold.count)
        pad(&f)
        var s = open("equity", f, label: "\(r.symbols[m]) equity")
        s += axes(f, bars: r.bars[m], format: { String(format: "%.2f", $0) })
        s += line(hold, f, color: "#9ca3af", width: 1.5)
        for run in runs { s += line(run.simulation.equity, f, color: palette[run.strategy % palette.count], width: 1.8) }
        return s + "</svg>\n" + "<div class=\"legend\"><span><i style=\"background:#9ca3af\"></i>buy &amp; hold</span></div>\n"
    }

    static func drawdownChart(_ r: BacktestResult, symbol m: Int) -> String {
        let runs = r.runs.filter { $0.symbol == m }
        let curves = runs.map { run -> [Double] in
            var peak = 1.0
            return run.simulation.equity.map { e in
                peak = max(peak, e)
                return e / peak - 1
            }
        }
        var f = Frame(lo: min(-0.01, curves.flatMap { $0 }.min() ?? 0), hi: 0, count: r.bars[m].count)
        f.hi = 0
        var s = open("drawdown", f, label: "\(r.symbols[m]) drawdown")
        s += axes(f, bars: r.bars[m], format: { String(format: "%.0f%%", $0 * 100) })
        for (run, curve) in zip(runs, curves) {
            s += line(curve, f, color: palette[run.strategy % palette.count], width: 1.5, keepLow: true)
        }
        return s + "</svg>\n"
    }

    static func hitRateChart(_ r: BacktestResult) -> String {
        let cards = r.scorecards.filter { $0.symbol == nil }
        let horizons = r.settings.horizons
        var f = Frame(lo: 0, hi: 1, count: max(1, horizons.count))
        f.count = horizons.count
        var s = open("hitrate", f, label: "hit rate by horizon")
        s += axes(f, bars: [], format: { String(format: "%.0f%%", $0 * 100) })
        let y50 = f.y(0.5)
        s += "<line x1=\"\(n(f.left))\" x2=\"\(n(f.width - f.right))\" y1=\"\(n(y50))\" y2=\"\(n(y50))\" stroke=\"#9ca3af\" stroke-dasharray=\"4 3\"/>\n"
        let groupWidth = (f.width - f.left - f.right) / Double(max(1, horizons.count))
        let barWidth = groupWidth * 0.8 / Double(max(1, cards.count))
        for (h, bars) in horizons.enumerated() {
            let x0 = f.left + groupWidth * Double(h) + groupWidth * 0.1
            s += "<text x=\"\(n(x0 + groupWidth * 0.4))\" y=\"\(n(f.height - 8))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#6b7280\">\(bars) bar\(bars == 1 ? "" : "s")</text>"
            for (k, card) in cards.enumerated() {
                guard let score = card.horizons.first(where: { $0.bars == bars }), let rate = score.hitRate else { continue }
                let x = x0 + barWidth * Double(k)
                s += "<rect x=\"\(n(x))\" y=\"\(n(f.y(rate)))\" width=\"\(n(barWidth * 0.9))\" height=\"\(n(f.y(0) - f.y(rate)))\" fill=\"\(palette[k % palette.count])\"><title>\(escape(card.strategy)) · \(bars) bars · \(String(format: "%.1f", rate * 100))% of \(score.count)</title></rect>"
            }
            s += "\n"
        }
        return s + "</svg>\n"
    }

    // MARK: - Tables

    static func legend(_ strategies: [String]) -> String {
        var s = "<div class=\"legend\">"
        for (k, name) in strategies.enumerated() {
            s += "<span><i style=\"background:\(palette[k % palette.count])\"></i>\(escape(name))</span>"
        }
        return s + "</div>\n"
    }

    static func metricsTable(_ r: BacktestResult) -> String {
        var s = "<h2>Metrics</h2>\n<table data-table=\"metrics\"><tr><th>strategy</th><th>symbol</th><th>trades</th><th>return</th><th>CAGR</th><th>volatility</th><th>Sharpe</th><th>Sortino</th><th>max DD</th><th>DD bars</th><th>win rate</th><th>profit factor</th><th>avg trade</th><th>exposure</th></tr>\n"
        func row(_ name: String, _ symbol: String, _ m: Metrics, trades: Bool) {
            let pct = BacktestTable.percent, fx = { BacktestTable.fixed($0) }
            s += "<tr><td>\(escape(name))</td><td>\(escape(symbol))</td><td>\(trades ? "\(m.trades)" : "")</td><td>\(pct(m.totalReturn))</td><td>\(pct(m.cagr))</td><td>\(pct(m.volatility))</td><td>\(fx(m.sharpe))</td><td>\(fx(m.sortino))</td><td>\(pct(-m.maxDrawdown))</td><td>\(m.maxDrawdownBars)</td><td>\(trades ? pct(m.winRate) : "")</td><td>\(trades ? fx(m.profitFactor) : "")</td><td>\(trades ? pct(m.averageTrade) : "")</td><td>\(pct(m.exposure))</td></tr>\n"
        }
        for run in r.runs { row(r.strategies[run.strategy], r.symbols[run.symbol], run.metrics, trades: true) }
        for (m, symbol) in r.symbols.enumerated() { row("buy & hold", symbol, r.buyAndHold[m], trades: false) }
        return s + "</table>\n"
    }

    static func tradesTable(_ r: BacktestResult) -> String {
        let trades = r.trades
        var s = "<h2>Trades</h2>\n"
        if trades.count > maxTradeRows { s += "<p class=\"note\">The first \(maxTradeRows) of \(trades.count) trades; the JSON output has them all.</p>\n" }
        s += "<table data-table=\"trades\"><tr><th>strategy</th><th>symbol</th><th>side</th><th>entry</th><th>price</th><th>exit</th><th>price</th><th>return</th><th>reason</th></tr>\n"
        for t in trades.prefix(maxTradeRows) {
            s += "<tr><td>\(escape(r.strategies[t.strategy]))</td><td>\(escape(r.symbols[t.symbol]))</td><td>\(t.direction.rawValue)</td><td>\(date(t.entryTs))</td><td>\(short(t.entryPrice))</td><td>\(date(t.exitTs))</td><td>\(short(t.exitPrice))</td><td>\(BacktestTable.percent(t.ret))</td><td>\(t.exitReason.rawValue)</td></tr>\n"
        }
        return s + "</table>\n"
    }

    // MARK: - Formatting

    static func pad(_ f: inout Frame) {
        let margin = max((f.hi - f.lo) * 0.05, abs(f.hi) * 1e-6, 1e-12)
        f.lo -= margin
        f.hi += margin
    }

    static func n(_ x: Double) -> String { String(format: "%.1f", x) }

    static func short(_ x: Double) -> String {
        let a = abs(x)
        return String(format: a >= 1000 ? "%.0f" : a >= 1 ? "%.2f" : "%.4g", x)
    }

    /// UTC date (and time when not midnight) of epoch milliseconds.
    static func date(_ ms: Int64) -> String {
        let (days, rest) = CivilDate.floorDivide(ms, 86_400_000)
        let (y, m, d) = CivilDate.civil(days)
        let day = String(format: "%04lld-%02lld-%02lld", y, m, d)
        guard rest != 0 else { return day }
        return day + String(format: " %02lld:%02lld", rest / 3_600_000, rest / 60_000 % 60)
    }

    static func intervalLabel(_ ms: Int64) -> String { BarSeries.label(ms) }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
