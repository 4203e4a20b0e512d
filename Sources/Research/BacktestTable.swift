import Foundation

/// The terminal summary of a backtest: one row per strategy and symbol, buy-and-hold under each
/// symbol's rows, then hit rates by horizon.
public enum BacktestTable {
    public static func render(_ r: BacktestResult) -> String {
        var rows: [[String]] = [["strategy", "symbol", "signals", "trades", "return", "CAGR", "Sharpe", "max DD", "win rate", "exposure"]]
        let signalCounts = r.signalCounts
        for run in r.runs {
            let m = run.metrics
            rows.append([r.strategies[run.strategy], r.symbols[run.symbol], "\(signalCounts[run.strategy * r.symbols.count + run.symbol])",
                         "\(m.trades)", percent(m.totalReturn), percent(m.cagr), fixed(m.sharpe), percent(-m.maxDrawdown),
                         percent(m.winRate), percent(m.exposure)])
        }
        for (i, symbol) in r.symbols.enumerated() {
            let m = r.buyAndHold[i]
            rows.append(["buy & hold", symbol, "", "", percent(m.totalReturn), percent(m.cagr), fixed(m.sharpe),
                         percent(-m.maxDrawdown), "", "100.00%"])
        }
        var out = table(rows)
        var hits: [[String]] = [["strategy", "signals"] + r.settings.horizons.map { "hit@\($0)" } + r.settings.horizons.map { "mean@\($0) bps" }]
        for card in r.scorecards where card.symbol == nil {
            hits.append([card.strategy, "\(card.signals)"] + card.horizons.map { percent($0.hitRate) }
                        + card.horizons.map { fixed($0.meanBps, digits: 1) })
        }
        out += "\n" + table(hits)
        return out
    }

    static func percent(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "-" }
        return String(format: "%.2f%%", x * 100)
    }

    static func fixed(_ x: Double?, digits: Int = 2) -> String {
        guard let x, x.isFinite else { return "-" }
        return String(format: "%.\(digits)f", x)
    }

    /// The first `leftColumns` columns left-aligned, the rest (numbers) right-aligned.
    static func table(_ rows: [[String]], leftColumns: Int = 2) -> String {
        guard let width = rows.first?.count else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in rows {
            let cells = row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i < leftColumns ? cell + pad : pad + cell
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
