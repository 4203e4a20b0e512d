import Contracts
import Dispatch

/// A parsed OHLCV file kept beside it (`--cache`, docs/RESEARCH.md "Cache"): the bars as
/// `BarSeries.prepare` left them, column by column, with what the parse reported. A later run
/// with the same file (size and modification time) and the same reading options maps it instead
/// of parsing the text again. A pure codec: the caller reads and writes the file.
///
/// Layout (little-endian): the magic `DFBARS01`, a header written with `BinaryWriter` (the key,
/// the interval, the rejection and duplicate counts with the first lines of each, the symbols,
/// the bar count), zero padding to a multiple of 8, then the columns: symbol index (Int64),
/// start (Int64), open, high, low, close, volume, vwap (Float64) and trades (Int64).
public enum BarCache {
    static let magic = Array("DFBARS01".utf8)
    /// How many rejection and duplicate lines are kept (what the CLI prints).
    public static let keptLines = 20

    public struct Entry: Sendable {
        public var prepared: BarSeries.Prepared
        /// Rows the parse refused, and the first `keptLines` of their descriptions.
        public var rejectedCount: Int
        public var rejectedLines: [String]
        /// Bars dropped as repeated times (`prepared.duplicates` holds the first `keptLines`).
        public var duplicateCount: Int

        public init(prepared: BarSeries.Prepared, rejectedCount: Int, rejectedLines: [String], duplicateCount: Int) {
            self.prepared = prepared
            self.rejectedCount = rejectedCount
            self.rejectedLines = rejectedLines
            self.duplicateCount = duplicateCount
        }
    }

    public static func encode(_ entry: Entry, key: String) -> [UInt8] {
        let bars = entry.prepared.bars
        var symbols: [String] = []
        var index: [String: Int] = [:]
        var symbolColumn = [Int64](repeating: 0, count: bars.count)
        var last = "", lastIndex = -1
        for i in bars.indices {
            let s = bars[i].symbol
            if s != last {
                last = s
                lastIndex = index[s] ?? {
                    symbols.append(s)
                    index[s] = symbols.count - 1
                    return symbols.count - 1
                }()
            }
            symbolColumn[i] = Int64(lastIndex)
        }
        var w = BinaryWriter(capacity: 4096 + bars.count * 72)
        w.bytes += magic
        w.string(key)
        w.string(entry.prepared.interval.label)
        w.int(entry.rejectedCount)
        w.strings(Array(entry.rejectedLines.prefix(keptLines)))
        w.int(entry.duplicateCount)
        w.strings(Array(entry.prepared.duplicates.prefix(keptLines)))
        w.strings(symbols)
        w.int(bars.count)
        while w.bytes.count % 8 != 0 { w.u8(0) }
        func column<T>(_ values: [T]) { values.withUnsafeBytes { w.bytes += $0 } }
        column(symbolColumn)
        column(bars.map(\.start))
        column(bars.map(\.open))
        column(bars.map(\.high))
        column(bars.map(\.low))
        column(bars.map(\.close))
        column(bars.map(\.volume))
        column(bars.map(\.vwap))
        column(bars.map { Int64($0.trades) })
        return w.bytes
    }

    /// The entry in `bytes` when it was written under `key`; nil when it is of another file or
    /// other options, or is damaged (a cache is only ever a shortcut: the caller parses instead).
    /// The bars are built on `threads` threads.
    public static func decode(_ bytes: UnsafeRawBufferPointer, key: String, threads: Int = 1) -> Entry? {
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else { return nil }
        // The header is short: read it as an array, the columns in place.
        let headerLimit = min(bytes.count, 1 << 20)
        var r = BinaryReader(Array(bytes[0..<headerLimit]), offset: magic.count)
        do {
            guard try r.string() == key else { return nil }
            guard let interval = BarInterval(try r.string()) else { return nil }
            let rejectedCount = try r.int()
            let rejectedLines = try r.strings()
            let duplicateCount = try r.int()
            let duplicates = try r.strings()
            let symbols = try r.strings()
            let n = try r.int()
            guard !symbols.isEmpty || n == 0 else { return nil }
            let start = (r.offset + 7) / 8 * 8
            guard n >= 0, bytes.count == start + n * 72 else { return nil }
            let words = UnsafeRawBufferPointer(rebasing: bytes[start...])
            func int(_ column: Int, _ i: Int) -> Int64 { words.loadUnaligned(fromByteOffset: (column * n + i) * 8, as: Int64.self) }
            func real(_ column: Int, _ i: Int) -> Double { words.loadUnaligned(fromByteOffset: (column * n + i) * 8, as: Double.self) }
            for i in 0..<n where !(0..<Int64(symbols.count)).contains(int(0, i)) { return nil }
            let label = interval.label
            nonisolated(unsafe) let columns = words
            // Two halves on two threads: building a million bars is mostly first touches of
            // fresh memory, which the kernel serves on both cores at once.
            let parts = n >= 1 << 16 ? max(1, min(threads, 8)) : 1
            let bars = [Bar](unsafeUninitializedCapacity: n) { buffer, count in
                nonisolated(unsafe) let base = buffer.baseAddress!
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    func int(_ column: Int, _ i: Int) -> Int64 {
                        columns.loadUnaligned(fromByteOffset: (column * n + i) * 8, as: Int64.self)
                    }
                    func real(_ column: Int, _ i: Int) -> Double {
                        columns.loadUnaligned(fromByteOffset: (column * n + i) * 8, as: Double.self)
                    }
                    for i in (n * part / parts)..<(n * (part + 1) / parts) {
                        (base + i).initialize(to: Bar(
                            symbol: symbols[Int(int(0, i))], interval: label, start: int(1, i), open: real(2, i), high: real(3, i),
                            low: real(4, i), close: real(5, i), volume: real(6, i), vwap: real(7, i), trades: Int(int(8, i))))
                    }
                }
                count = n
            }
            return Entry(prepared: BarSeries.Prepared(bars: bars, interval: interval, duplicates: duplicates),
                         rejectedCount: rejectedCount, rejectedLines: rejectedLines, duplicateCount: duplicateCount)
        } catch {
            return nil
        }
    }
}
