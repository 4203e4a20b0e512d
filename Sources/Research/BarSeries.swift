import Dispatch
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
    /// `input` is consumed: a caller that lets go of it has it relabelled in place, not copied.
    public static func prepare(_ input: consuming [Bar], interval asked: BarInterval?) throws(Problem) -> Prepared {
        var bars = input
        guard let first = bars.first else { throw .empty }
        var duplicates: [String] = []
        let oneSymbol = bars.allSatisfy { $0.symbol == first.symbol }
        if oneSymbol {
            // One symbol, as most files are: oldest first or newest first needs no sort.
            if zip(bars, bars.dropFirst()).contains(where: { $0.start >= $1.start }) {
                if zip(bars, bars.dropFirst()).allSatisfy({ $0.start > $1.start }) {
                    bars.reverse()
                } else {
                    bars = sortedByTime(bars, duplicates: &duplicates)
                }
            }
        } else {
            bars = sortedByTime(bars, duplicates: &duplicates)
        }
        var smallestGap = Int64.max
        for (a, b) in zip(bars, bars.dropFirst()) where a.symbol == b.symbol { smallestGap = min(smallestGap, b.start - a.start) }
        let fileInterval = smallestGap == .max ? nil : BarInterval(label(smallestGap))
        let interval = asked ?? fileInterval ?? BarInterval("1d")!
        if let asked, let fileInterval, asked.milliseconds < fileInterval.milliseconds {
            throw .finerThanFile(asked: asked.label, file: fileInterval.label)
        }
        if fileInterval == nil || interval.milliseconds == fileInterval!.milliseconds {
            for i in bars.indices { bars[i].interval = interval.label }
        } else {
            bars = aggregate(bars, interval)
        }
        if !oneSymbol {
            // Time order across symbols (the engine's market clock), symbols in name order within a time.
            bars = bars.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        }
        return Prepared(bars: bars, interval: interval, duplicates: duplicates)
    }

    /// Bars grouped by symbol (in name order), each symbol's in time order; a repeated time keeps
    /// the first row of the file.
    static func sortedByTime(_ bars: [Bar], duplicates: inout [String]) -> [Bar] {
        let order = bars.indices.sorted { (bars[$0].symbol, bars[$0].start, $0) < (bars[$1].symbol, bars[$1].start, $1) }
        var out: [Bar] = []
        out.reserveCapacity(bars.count)
        for i in order {
            if let last = out.last, last.symbol == bars[i].symbol, last.start == bars[i].start {
                duplicates.append("\(last.symbol) has two bars at \(last.start) ms; the first in the file is kept")
                continue
            }
            out.append(bars[i])
        }
        return out
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

    /// Bars grouped by symbol, each in time order, folded into `interval` buckets (UTC-aligned): first
    /// open, highest high, lowest low, last close, summed volume, volume-weighted vwap.
    static func aggregate(_ bars: [Bar], _ interval: BarInterval) -> [Bar] {
        var out: [Bar] = []
        var notional = 0.0
        for bar in bars {
            let start = interval.bucket(bar.start)
            if var last = out.last, last.start == start, last.symbol == bar.symbol {
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

extension BarSeries {
    /// An OHLCV file's bars, decoded on `threads` threads (each a share of the rows; one when the
    /// file quotes its cells), with the same bars, rejections and line numbers as one pass.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, symbol: String, interval: String, utcOffsetMinutes: Int64,
                              threads: Int) -> BarDecodeResult {
        var result = BarDecodeResult()
        let layout: BarCSV.Layout
        switch BarCSV.Layout.read(bytes) {
        case .success(let l): layout = l
        case .failure(let e):
            result.documentError = e.message
            return result
        }
        let cuts = BarCSV.splits(bytes, bodyStart: layout.bodyStart, count: max(1, threads))
        let parts = PartSlots(count: cuts.count - 1)
        nonisolated(unsafe) let bytes = bytes  // read-only while the workers run
        DispatchQueue.concurrentPerform(iterations: cuts.count - 1) { k in
            var part = BarDecodePart()
            BarCSV.decodeRows(bytes, from: cuts[k], to: cuts[k + 1], layout: layout, symbol: symbol, interval: interval,
                              utcOffsetMinutes: utcOffsetMinutes, into: &part)
            parts.set(k, part)
        }
        let decoded = parts.take()
        result.bars.reserveCapacity(decoded.reduce(0) { $0 + $1.bars.count })
        var lines = layout.linesBefore
        for part in decoded {
            result.append(part, linesBefore: lines)
            lines += part.lines
        }
        return result
    }

    /// Each worker writes only its own slot; read after every worker has returned.
    private final class PartSlots: @unchecked Sendable {
        private var slots: [BarDecodePart]
        init(count: Int) { slots = Array(repeating: BarDecodePart(), count: count) }
        func set(_ k: Int, _ part: BarDecodePart) { slots.withUnsafeMutableBufferPointer { $0[k] = part } }
        func take() -> [BarDecodePart] {
            defer { slots = [] }
            return slots
        }
    }
}
