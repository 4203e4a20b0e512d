import Contracts

/// An OHLCV file's bars made ready for the engine: each symbol's bars in time order (vendors
/// often write newest first), repeated times refused, aggregated up to a coarser interval when
/// one is asked for, and merged across symbols in time order.
public enum BarSeries {
    public struct Prepared: Sendable {
        public var bars: [Bar]
        public var interval: BarInterval
        /// A line per bar dropped because its symbol already had a bar at that time.
        public var duplicates: [String]
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case empty
        case finerThanFile(asked: String, file: String)
        public var description: String {
            switch self {
            case .empty: return "no bars to test"
            case .finerThanFile(let asked, let file):
                return "--interval \(asked) is finer than the file's bars (\(file)); bars can only be aggregated up"
            }
        }
    }

    /// `interval` nil: the file's own spacing (the smallest gap between two bars of a symbol).
    public static func prepare(_ input: [Bar], interval asked: BarInterval?) throws(Problem) -> Prepared {
        guard !input.isEmpty else { throw .empty }
        var bySymbol: [String: [Bar]] = [:]
        for bar in input { bySymbol[bar.symbol, default: []].append(bar) }
        var duplicates: [String] = []
        var smallestGap = Int64.max
        for (symbol, bars) in bySymbol {
            var sorted = bars.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
            var kept: [Bar] = []
            kept.reserveCapacity(sorted.count)
            for bar in sorted {
                if let last = kept.last, last.start == bar.start {
                    duplicates.append("\(symbol) has two bars at \(bar.start) ms; the first in the file is kept")
                    continue
                }
                if let last = kept.last { smallestGap = min(smallestGap, bar.start - last.start) }
                kept.append(bar)
            }
            sorted = kept
            bySymbol[symbol] = sorted
        }
        let fileInterval = smallestGap == .max ? nil : label(smallestGap)
        let interval = asked ?? fileInterval.flatMap(BarInterval.init) ?? BarInterval("1d")!
        if let asked, let fileInterval, let f = BarInterval(fileInterval), asked.milliseconds < f.milliseconds {
            throw .finerThanFile(asked: asked.label, file: f.label)
        }
        var merged: [Bar] = []
        merged.reserveCapacity(input.count)
        for symbol in bySymbol.keys.sorted() {
            let bars = bySymbol[symbol]!
            merged += asked == nil || asked == BarInterval(fileInterval ?? "") ? relabel(bars, interval) : aggregate(bars, interval)
        }
        // Time order across symbols (the engine's market clock), symbols in name order within a time.
        merged = merged.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        return Prepared(bars: merged, interval: interval, duplicates: duplicates)
    }

    /// The label of a spacing in milliseconds: the largest unit it is a whole number of.
    static func label(_ ms: Int64) -> String {
        for (unit, suffix) in [(Int64(86_400_000), "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")] where ms % unit == 0 {
            return "\(ms / unit)\(suffix)"
        }
        return "\(ms)ms"
    }

    static func relabel(_ bars: [Bar], _ interval: BarInterval) -> [Bar] {
        bars.map { var b = $0; b.interval = interval.label; return b }
    }

    /// Bars of one symbol, in time order, folded into `interval` buckets (UTC-aligned): first
    /// open, highest high, lowest low, last close, summed volume, volume-weighted vwap.
    static func aggregate(_ bars: [Bar], _ interval: BarInterval) -> [Bar] {
        var out: [Bar] = []
        var notional = 0.0
        for bar in bars {
            let start = interval.bucket(bar.start)
            if var last = out.last, last.start == start {
                last.high = max(last.high, bar.high)
                last.low = min(last.low, bar.low)
                last.close = bar.close
                last.volume += bar.volume
                last.trades += bar.trades
                notional += bar.vwap * bar.volume
                last.vwap = last.volume > 0 ? notional / last.volume : (last.high + last.low + last.close) / 3
                out[out.count - 1] = last
            } else {
                var b = bar
                b.start = start
                b.interval = interval.label
                notional = bar.vwap * bar.volume
                out.append(b)
            }
        }
        return out
    }
}
