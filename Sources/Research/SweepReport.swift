import Contracts
import Foundation

/// A sweep's ranked table (terminal), CSV, JSON and 2-D heatmap (SVG).
public enum SweepReport {
    static func formatted(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }

    static func score(_ x: Double?, _ metric: SweepMetric) -> String {
        guard let x, x.isFinite else { return "-" }
        switch metric {
        case .sharpe, .sortino, .profitFactor: return String(format: "%.3f", x)
        default: return BacktestTable.percent(x)
        }
    }

    /// The top `limit` rows; with a held-out tail, its figures beside and a flag on the rows that
    /// fall apart out of sample; then the walk-forward folds.
    public static func table(_ r: SweepResult, limit: Int) -> String {
        let m = r.settings.metric
        var header = ["rank"] + r.parameters + ["\(m.rawValue) (train)", "return", "trades"]
        let heldOut = r.settings.trainFraction < 1
        if heldOut { header += ["\(m.rawValue) (test)", "return", "trades", ""] }
        var rows = [header]
        for (i, row) in r.rows.prefix(limit).enumerated() {
            var cells = ["\(i + 1)"] + row.values.map(formatted)
            cells += [score(row.train.score, m), BacktestTable.percent(row.train.totalReturn), "\(row.train.trades)"]
            if let t = row.test {
                cells += [score(t.score, m), BacktestTable.percent(t.totalReturn), "\(t.trades)",
                          row.fallsApart ? "falls apart out of sample" : ""]
            }
            rows.append(cells)
        }
        var out = BacktestTable.table(rows, leftColumns: 0)
        if !r.foldWinners.isEmpty {
            var folds = [["fold"] + r.parameters + ["\(m.rawValue) (train)", "\(m.rawValue) (test)", "return (test)"]]
            for (k, index) in r.foldWinners.enumerated() {
                let row = r.rows[index]
                folds.append(["\(k + 1)"] + row.values.map(formatted)
                             + [score(row.folds[k].train.score, m), score(row.folds[k].test.score, m),
                                BacktestTable.percent(row.folds[k].test.totalReturn)])
            }
            out += "\nwalk-forward: the best training combination of each fold, on the fold that follows\n"
            out += BacktestTable.table(folds, leftColumns: 0)
        }
        return out
    }

    public static func csv(_ r: SweepResult) -> String {
        // Sharpe is a column of its own unless it is the ranking metric.
        let sharpe = r.settings.metric != .sharpe
        func names(_ part: String) -> [String] {
            ["\(part)_\(r.settings.metric.rawValue)", "\(part)_total_return"] + (sharpe ? ["\(part)_sharpe"] : [])
                + ["\(part)_max_drawdown", "\(part)_trades"]
        }
        var header = ["rank"] + r.parameters + names("train")
        if r.settings.trainFraction < 1 { header += names("test") + ["falls_apart"] }
        var lines = [header.joined(separator: ",")]
        func figures(_ f: SweepFigures) -> [String] {
            [f.score.map { String($0) } ?? "", String(f.totalReturn)] + (sharpe ? [f.sharpe.map { String($0) } ?? ""] : [])
                + [String(f.maxDrawdown), String(f.trades)]
        }
        for (i, row) in r.rows.enumerated() {
            var cells = ["\(i + 1)"] + row.values.map(formatted) + figures(row.train)
            if let t = row.test { cells += figures(t) + [row.fallsApart ? "true" : "false"] }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ r: SweepResult) -> [UInt8] {
        var w = JSONWriter(capacity: 1 << 16)
        func figures(_ key: String, _ f: SweepFigures) {
            w.beginObject(key)
            w.optionalDouble(r.settings.metric.rawValue, f.score)
            w.double("total_return", f.totalReturn)
            w.optionalDouble("sharpe", f.sharpe)
            w.double("max_drawdown", f.maxDrawdown)
            w.int("trades", f.trades)
            w.endObject()
        }
        func params(_ values: [Double]) {
            w.beginObject("params")
            for (name, v) in zip(r.parameters, values) { w.value(name, Sweep.number(v)) }
            w.endObject()
        }
        w.beginObject()
        w.string("strategy", r.strategy)
        w.string("metric", r.settings.metric.rawValue)
        w.double("train_fraction", r.settings.trainFraction)
        w.int("bars", r.bars)
        w.beginArray("results")
        for row in r.rows {
            w.beginObject()
            params(row.values)
            figures("train", row.train)
            if let t = row.test {
                figures("test", t)
                w.bool("falls_apart", row.fallsApart)
            }
            w.endObject()
        }
        w.endArray()
        w.beginArray("walk_forward")
        for (k, index) in r.foldWinners.enumerated() {
            w.beginObject()
            w.int("fold", k + 1)
            params(r.rows[index].values)
            figures("train", r.rows[index].folds[k].train)
            figures("test", r.rows[index].folds[k].test)
            w.endObject()
        }
        w.endArray()
        w.beginArray("invalid")
        for bad in r.invalid {
            w.beginObject()
            params(bad.values)
            w.string("error", bad.message)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.appendNewline()
        return w.bytes
    }

    /// The training score over a 2-D grid: the first parameter across, the second down; each cell
    /// coloured from red (worst) through white to green (best), with its value.
    public static func heatmap(_ r: SweepResult) -> String? {
        guard r.parameters.count == 2 else { return nil }
        let xs = Array(Set(r.rows.map { $0.values[0] })).sorted()
        let ys = Array(Set(r.rows.map { $0.values[1] })).sorted()
        var cells: [[Double?]] = Array(repeating: Array(repeating: nil, count: xs.count), count: ys.count)
        for row in r.rows {
            if let i = xs.firstIndex(of: row.values[0]), let j = ys.firstIndex(of: row.values[1]) { cells[j][i] = row.train.score }
        }
        let scores = cells.flatMap { $0 }.compactMap { $0 }
        let lo = scores.min() ?? 0, hi = scores.max() ?? 1
        let cw = max(28.0, min(64.0, 900.0 / Double(xs.count))), ch = max(18.0, min(36.0, 600.0 / Double(ys.count)))
        let left = 70.0, top = 40.0
        let width = left + cw * Double(xs.count) + 20, height = top + ch * Double(ys.count) + 50
        let m = r.settings.metric
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"heatmap\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<text x=\"\(left)\" y=\"20\" font-size=\"14\">\(BacktestHTML.escape(r.strategy)): \(m.rawValue) on the training part (\(BacktestHTML.escape(r.parameters[0])) across, \(BacktestHTML.escape(r.parameters[1])) down)</text>\n"
        for (j, y) in ys.enumerated() {
            s += "<text x=\"\(left - 6)\" y=\"\(BacktestHTML.n(top + ch * (Double(j) + 0.5) + 4))\" text-anchor=\"end\">\(formatted(y))</text>"
            for (i, x) in xs.enumerated() {
                let value = cells[j][i]
                let t = value.map { hi > lo ? ($0 - lo) / (hi - lo) : 0.5 }.map { m.higherIsBetter ? $0 : 1 - $0 }
                let fill = t.map(color) ?? "#e5e7eb"
                let cx = left + cw * Double(i), cy = top + ch * Double(j)
                s += "<rect x=\"\(BacktestHTML.n(cx))\" y=\"\(BacktestHTML.n(cy))\" width=\"\(BacktestHTML.n(cw))\" height=\"\(BacktestHTML.n(ch))\" fill=\"\(fill)\" stroke=\"#fff\"><title>\(BacktestHTML.escape(r.parameters[0]))=\(formatted(x)) \(BacktestHTML.escape(r.parameters[1]))=\(formatted(y)): \(score(value, m))</title></rect>"
                if cw >= 40 {
                    s += "<text x=\"\(BacktestHTML.n(cx + cw / 2))\" y=\"\(BacktestHTML.n(cy + ch / 2 + 4))\" text-anchor=\"middle\" font-size=\"10\">\(score(value, m))</text>"
                }
            }
            s += "\n"
        }
        for (i, x) in xs.enumerated() {
            s += "<text x=\"\(BacktestHTML.n(left + cw * (Double(i) + 0.5)))\" y=\"\(BacktestHTML.n(top + ch * Double(ys.count) + 16))\" text-anchor=\"middle\">\(formatted(x))</text>"
        }
        return s + "\n</svg>\n"
    }

    /// 0 → red, 0.5 → white, 1 → green.
    static func color(_ t: Double) -> String {
        let (r, g, b): (Double, Double, Double) = t < 0.5
            ? (220, 38 + (255 - 38) * t * 2, 38 + (255 - 38) * t * 2)
            : (255 - (255 - 5) * (t - 0.5) * 2, 255 - (255 - 150) * (t - 0.5) * 2, 255 - (255 - 105) * (t - 0.5) * 2)
        return String(format: "#%02x%02x%02x", Int(r), Int(g), Int(b))
    }
}
