import Foundation

/// A strategy's (or buy-and-hold's) figures over one symbol's bars (docs/RESEARCH.md, "Metrics").
/// Ratios are fractions; nil where a figure is undefined (no trades, no losing trade, no
/// variation). Annualised figures use `periodsPerYear` bars a year.
public struct Metrics: Sendable, Equatable {
    public var totalReturn = 0.0
    public var cagr: Double?
    public var volatility: Double?
    public var sharpe: Double?
    public var sortino: Double?
    /// The largest fall from a peak of equity, as a positive fraction.
    public var maxDrawdown = 0.0
    /// The longest time below a previous peak, in bars.
    public var maxDrawdownBars = 0
    public var trades = 0
    public var winRate: Double?
    public var profitFactor: Double?
    public var averageTrade: Double?
    /// Share of bars that closed with a position open.
    public var exposure = 0.0

    /// From an equity curve (one value per bar close, starting from 1 before the first bar).
    public init(equity: [Double], trades tradeReturns: [Double], barsInMarket: Int, years: Double, periodsPerYear: Double) {
        guard let last = equity.last else { return }
        totalReturn = last - 1
        if years > 0, last > 0 { cagr = pow(last, 1 / years) - 1 }
        var previous = 1.0
        var sum = 0.0, sumSquares = 0.0, downside = 0.0
        var peak = 1.0, peakIndex = -1
        for (i, e) in equity.enumerated() {
            let r = previous > 0 ? e / previous - 1 : 0
            previous = e
            sum += r
            sumSquares += r * r
            if r < 0 { downside += r * r }
            if e >= peak {
                peak = e
                peakIndex = i
            } else {
                maxDrawdown = max(maxDrawdown, 1 - e / peak)
                maxDrawdownBars = max(maxDrawdownBars, i - peakIndex)
            }
        }
        let n = Double(equity.count)
        let mean = sum / n
        if equity.count > 1 {
            let variance = max(0, (sumSquares - n * mean * mean) / (n - 1))
            let sd = variance.squareRoot()
            volatility = sd * periodsPerYear.squareRoot()
            if sd > 0 { sharpe = mean / sd * periodsPerYear.squareRoot() }
            let downsideDeviation = (downside / n).squareRoot()
            if downsideDeviation > 0 { sortino = mean / downsideDeviation * periodsPerYear.squareRoot() }
        }
        exposure = Double(barsInMarket) / n
        trades = tradeReturns.count
        if !tradeReturns.isEmpty {
            winRate = Double(tradeReturns.filter { $0 > 0 }.count) / Double(trades)
            averageTrade = tradeReturns.reduce(0, +) / Double(trades)
            let gains = tradeReturns.filter { $0 > 0 }.reduce(0, +)
            let losses = -tradeReturns.filter { $0 < 0 }.reduce(0, +)
            if losses > 0 { profitFactor = gains / losses }
        }
    }
}

/// Forward returns of signals, per horizon (docs/RESEARCH.md, "Scorecard"): a signal's forward
/// return at h bars is the close h bars after its bar over its bar's close, minus 1, with the sign
/// turned for a short signal. Signals without h bars after them are not counted at h.
public struct HorizonScore: Sendable, Equatable {
    public var bars: Int
    public var count = 0
    public var hitRate: Double?
    public var meanBps: Double?
    public var medianBps: Double?
    /// Mean over its standard error (nil below 2 samples or without variation).
    public var tStat: Double?
    /// Spearman rank correlation of signal strength with the forward return (ties averaged).
    public var rankCorrelation: Double?

    public init(bars: Int, samples: [(strength: Double, ret: Double)]) {
        self.bars = bars
        count = samples.count
        guard count > 0 else { return }
        let returns = samples.map(\.ret)
        hitRate = Double(returns.filter { $0 > 0 }.count) / Double(count)
        let mean = returns.reduce(0, +) / Double(count)
        meanBps = mean * 10_000
        let sorted = returns.sorted()
        medianBps = (count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2) * 10_000
        if count > 1 {
            let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1)
            if variance > 0 { tStat = mean / (variance / Double(count)).squareRoot() }
        }
        rankCorrelation = Self.spearman(samples.map(\.strength), returns)
    }

    static func ranks(_ xs: [Double]) -> [Double] {
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        var ranks = [Double](repeating: 0, count: xs.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, xs[order[j + 1]] == xs[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = average }
            i = j + 1
        }
        return ranks
    }

    static func spearman(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count > 2 else { return nil }
        let ra = ranks(a), rb = ranks(b)
        let n = Double(a.count)
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var cov = 0.0, va = 0.0, vb = 0.0
        for i in ra.indices {
            cov += (ra[i] - ma) * (rb[i] - mb)
            va += (ra[i] - ma) * (ra[i] - ma)
            vb += (rb[i] - mb) * (rb[i] - mb)
        }
        guard va > 0, vb > 0 else { return nil }
        return cov / (va * vb).squareRoot()
    }
}

/// One strategy's signals scored at every horizon, over all symbols or one.
public struct Scorecard: Sendable, Equatable {
    public var strategy: String
    /// nil: all symbols.
    public var symbol: String?
    public var signals: Int
    public var horizons: [HorizonScore]
}
