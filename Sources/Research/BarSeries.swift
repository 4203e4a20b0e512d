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
        // Index loops over the fields: iterating the bars by value would copy each (a retain and
        // release of its strings), which over a million bars costs more than the checks.
        let oneSymbol = bars.withUnsafeBufferPointer { b in b.indices.allSatisfy { b[$0].symbol == first.symbol } }
        if oneSymbol {
            // One symbol, as most files are: oldest first or newest first needs no sort.
            let (ascending, descending) = bars.withUnsafeBufferPointer { b in
                (b.indices.dropFirst().allSatisfy { b[$0 - 1].start < b[$0].start },
                 b.indices.dropFirst().allSatisfy { b[$0 - 1].start > b[$0].start })
            }
            if descending && bars.count > 1 {
                bars.reverse()
            } else if !ascending {
                bars = sortedByTime(bars, duplicates: &duplicates)
            }
        } else {
            bars = sortedByTime(bars, duplicates: &duplicates)
        }
        let smallestGap = bars.withUnsafeBufferPointer { b in
            var gap = Int64.max
            for i in b.indices.dropFirst() where oneSymbol || b[i - 1].symbol == b[i].symbol { gap = min(gap, b[i].start - b[i - 1].start) }
            return gap
        }
        let fileInterval = smallestGap == .max ? nil : BarInterval(label(smallestGap))
        let interval = asked ?? fileInterval ?? BarInterval("1d")!
        if let asked, let fileInterval, asked.milliseconds < fileInterval.milliseconds {
            throw .finerThanFile(asked: asked.label, file: fileInterval.label)
        }
        if fileInterval == nil || interval.milliseconds == fileInterval!.milliseconds {
            let label = interval.label
            bars.withUnsafeMutableBufferPointer { b in for i in b.indices where b[i].interval != label { b[i].interval = label } }
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
                              localToUTC: BarCSV.LocalTime? = nil, threads: Int) -> BarDecodeResult {
        var result = BarDecodeResult()
        let layout: BarCSV.Layout
        switch BarCSV.Layout.read(bytes) {
        case .success(let l): layout = l
        case .failure(let e):
            result.documentError = e.message
            return result
        }
        let cuts = BarCSV.splits(bytes, bodyStart: layout.bodyStart, count: max(1, threads))
        let n = cuts.count - 1
        nonisolated(unsafe) let bytes = bytes  // read-only while the workers run
        // Each part's bars go straight to their place in one array: part k starts at the room the
        // parts before it may need (their line feeds + 1), and the gaps are closed after. Bars
        // are moved, never copied (a copy of a million bars costs a retain of each string).
        let room = Slots<Int>(n, 0)
        DispatchQueue.concurrentPerform(iterations: n) { k in
            room.set(k, BarCSV.lineFeeds(bytes, from: cuts[k], to: cuts[k + 1]) + 1)
        }
        let rooms = room.values
        let starts = rooms.indices.map { k in rooms[..<k].reduce(0, +) }
        let parts = Slots<(BarDecodePart, Int)>(n, (BarDecodePart(), 0))
        result.bars = [Bar](unsafeUninitializedCapacity: rooms.reduce(0, +)) { buffer, count in
            nonisolated(unsafe) let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: n) { k in
                var part = BarDecodePart()
                var written = 0
                BarCSV.decodeRows(bytes, from: cuts[k], to: cuts[k + 1], layout: layout, symbol: symbol, interval: interval,
                                  utcOffsetMinutes: utcOffsetMinutes, localToUTC: localToUTC, into: &part) { bar in
                    precondition(written < rooms[k])
                    (base + starts[k] + written).initialize(to: bar)
                    written += 1
                }
                parts.set(k, (part, written))
            }
            count = 0
            for (k, (_, written)) in parts.values.enumerated() {
                if starts[k] != count { (base + count).moveInitialize(from: base + starts[k], count: written) }
                count += written
            }
        }
        var lines = layout.linesBefore
        for (part, _) in parts.values {
            result.append(part, linesBefore: lines)
            lines += part.lines
        }
        return result
    }

    /// Each worker writes only its own slot, through a pointer fixed at init (no access to a
    /// shared Swift variable while they run); read after every worker has returned.
    private final class Slots<T>: @unchecked Sendable {
        private let slots: UnsafeMutablePointer<T>
        private let count: Int
        init(_ count: Int, _ initial: T) {
            self.count = count
            slots = .allocate(capacity: count)
            slots.initialize(repeating: initial, count: count)
        }
        deinit {
            slots.deinitialize(count: count)
            slots.deallocate()
        }
        func set(_ k: Int, _ value: T) { slots[k] = value }
        var values: [T] { Array(UnsafeBufferPointer(start: slots, count: count)) }
    }
}
