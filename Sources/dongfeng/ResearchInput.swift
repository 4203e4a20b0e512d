import ArgumentParser
import CLinux
import Contracts
import Feeds
import Foundation
import Markets
import Pipeline
import Research

/// What `backtest` and `sweep` read: an OHLCV bar file (read whole, ready for the engine) or a
/// tick file (streamed through the bar builder, as `replay` does), and the strategies to test.
final class ResearchInput {
    enum Data {
        case bars([Bar])
        case ticks(TickFile)
    }

    struct Failure: Error { let message: String }

    let data: Data
    let interval: BarInterval
    var rejected: Int
    /// The venues ticks are built into bars on (`--markets`).
    var markets = MarketDirectory.off
    /// For the JSON report's `input` object.
    let description: [(String, JSONValue)]

    private init(data: Data, interval: BarInterval, rejected: Int, description: [(String, JSONValue)]) {
        self.data = data
        self.interval = interval
        self.rejected = rejected
        self.description = description
    }

    /// Reads `path`; bad options or an unreadable file exit 2 with a message naming `command`.
    /// Zone-less OHLCV times are read at `utcOffset` when given, else in each symbol's venue's zone
    /// (`markets` on), else UTC.
    /// `cache`: the file's parse (OHLCV bars, or ticks: `TickFile`) is kept in `path.dfcache` and
    /// reused while the file and the reading options (`cacheOptions`) are unchanged.
    static func load(path: String, interval: String?, symbol: String?, utcOffset: String?, markets: MarketDirectory,
                     command: String, cache: Bool = false, cacheOptions: String = "") throws -> ResearchInput {
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Foundation.Data("dongfeng \(command): \(message)\n".utf8))
            Foundation.exit(2)
        }
        var asked: BarInterval?
        if let interval {
            guard let i = BarInterval(interval) else { fail("--interval \(interval.debugDescription) is not an interval like 1m, 1h, 1d") }
            asked = i
        }
        guard let offset = parseOffset(utcOffset ?? "+00:00") else { fail("--utc-offset \(utcOffset!.debugDescription): use ±HH:MM, e.g. +08:00") }
        var localToUTC: BarCSV.LocalTime?
        if utcOffset == nil && markets.enabled {
            localToUTC = { (symbol: String, local: Int64) -> Int64 in
                let zone = markets.profile(for: symbol).timeZone
                let (seconds, ms) = CivilDate.floorDivide(local, 1000)
                return zone.utc(fromLocal: seconds) * 1000 + ms
            }
        }
        guard let format = TickFormat(fileName: path) else { fail("--input: use a .csv, .ndjson, .jsonl or .json file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { fail("--input: cannot open \(path)") }
        let head = (try? handle.read(upToCount: 4096)) ?? Foundation.Data()
        try? handle.close()
        let firstLine = String(decoding: head.prefix { $0 != 10 }, as: UTF8.self)
        guard format == .csv, BarCSV.isBarHeader(firstLine) else {
            guard let reader = TickFile(path: path, format: format, cache: cache) else { fail("--input: cannot open \(path)") }
            let i = asked ?? BarInterval("1m")!
            return ResearchInput(data: .ticks(reader), interval: i, rejected: 0,
                                 description: [("file", .string(path)), ("kind", .string("ticks")), ("interval", .string(i.label))])
        }
        let name = symbol ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let cachePath = path + ".dfcache"
        let key = cache ? fileStamp(path).map { "\($0)|symbol=\(name)|interval=\(asked?.label ?? "")|offset=\(offset)|\(cacheOptions)" } : nil
        let entry: BarCache.Entry
        if let key, let cached = MappedFile(cachePath)?.withBytes({
            BarCache.decode($0, key: key, threads: ProcessInfo.processInfo.activeProcessorCount)
        }) {
            entry = cached
            FileHandle.standardError.write(Foundation.Data("cache: read \(cachePath)\n".utf8))
            reportRejected(entry.rejectedLines, count: entry.rejectedCount)
        } else {
            entry = parseBars(path: path, name: name, asked: asked, offset: offset, localToUTC: localToUTC, fail: fail)
            if let key, writeCache(BarCache.encode(entry, key: key), to: cachePath) {
                FileHandle.standardError.write(Foundation.Data("cache: wrote \(cachePath)\n".utf8))
            }
        }
        let prepared = entry.prepared
        for d in prepared.duplicates.prefix(BarCache.keptLines) {
            FileHandle.standardError.write(Foundation.Data("duplicate bar: \(d)\n".utf8))
        }
        let rejected = entry.rejectedCount + entry.duplicateCount
        return ResearchInput(data: .bars(prepared.bars), interval: prepared.interval, rejected: rejected,
                             description: [("file", .string(path)), ("kind", .string("bars")),
                                           ("interval", .string(prepared.interval.label)), ("rejected", .int(rejected))])
    }

    /// An OHLCV file parsed and prepared (exits 2 when it cannot be).
    private static func parseBars(path: String, name: String, asked: BarInterval?, offset: Int64, localToUTC: BarCSV.LocalTime?,
                                  fail: (String) -> Never) -> BarCache.Entry {
        // Mapped, not read: the parse reads the page cache in place (no copy of the whole file).
        let mapped = MappedFile(path)?.withBytes { raw in
            BarSeries.decode(raw.bindMemory(to: UInt8.self), symbol: name, interval: asked?.label ?? "", utcOffsetMinutes: offset,
                             localToUTC: localToUTC, threads: ProcessInfo.processInfo.activeProcessorCount)
        }
        guard var decoded = mapped else { fail("--input: cannot read \(path)") }
        if let e = decoded.documentError { fail("\(path): \(e)") }
        let rejectedLines = decoded.rejected.prefix(BarCache.keptLines).map(\.description)
        reportRejected(rejectedLines, count: decoded.rejected.count)
        let prepared: BarSeries.Prepared
        do {
            let bars = decoded.bars
            decoded.bars = []  // the only reference left is passed on: relabelled in place
            prepared = try BarSeries.prepare(bars, interval: asked)
        } catch {
            fail("\(path): \(error)")
        }
        return BarCache.Entry(prepared: prepared, rejectedCount: decoded.rejected.count, rejectedLines: rejectedLines,
                              duplicateCount: prepared.duplicates.count)
    }

    private static func reportRejected(_ lines: [String], count: Int) {
        for line in lines.prefix(BarCache.keptLines) {
            FileHandle.standardError.write(Foundation.Data("rejected bar: \(line)\n".utf8))
        }
        if count > BarCache.keptLines {
            FileHandle.standardError.write(Foundation.Data("… and \(count - BarCache.keptLines) more rejected bars\n".utf8))
        }
    }

    /// Writes a cache file whole or not at all (a temporary file renamed over it); a directory
    /// that cannot take it only costs the next run a parse, so that is a note, not an error.
    private static func writeCache(_ bytes: [UInt8], to path: String) -> Bool {
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Foundation.Data(bytes)),
              rename(temporary, path) == 0 else {
            unlink(temporary)
            FileHandle.standardError.write(Foundation.Data("cache: could not write \(path); the next run parses the file again\n".utf8))
            return false
        }
        return true
    }

    /// The closed bars, in time order: an OHLCV file's as read, or the ticks built into bars by
    /// the live bar builder (for runs that reuse the bars many times).
    func bars() -> [Bar] {
        switch data {
        case .bars(let bars): return bars
        case .ticks(let file):
            let collector = BarCollector()
            let engine = SignalEngine(settings: Backtest.researchSettings(interval, markets: markets), strategies: StrategyRegistry(),
                                      sink: collector)
            rejected += Self.feedTicks(file) { engine.process($0) }
            engine.finish()
            return collector.bars
        }
    }

    /// A research run allocates and frees arrays of a million bars in turn (decoded parts, the
    /// merged file, each symbol's series): keep freed memory in the heap for the next one rather
    /// than mapping fresh pages each time (their first touch is a page fault per 4 KiB).
    static func keepFreedMemory() {
        dfl_heap_keep_freed()
    }

    /// "+08:00" / "-0530" / "Z" → minutes east of UTC.
    static func parseOffset(_ text: String) -> Int64? {
        if text == "Z" || text == "UTC" { return 0 }
        let sign: Int64
        switch text.first {
        case "+": sign = 1
        case "-": sign = -1
        default: return nil
        }
        let digits = text.dropFirst().filter { $0 != ":" }
        guard digits.count == 4, digits.allSatisfy(\.isNumber), let h = Int64(digits.prefix(2)), let m = Int64(digits.suffix(2)),
              h < 24, m < 60 else { return nil }
        return sign * (h * 60 + m)
    }

    /// Streams ticks to `body`; reports bad rows (and a document error) on stderr and returns how
    /// many rows were refused.
    static func feedTicks(_ file: TickFile, _ body: (Tick) -> Void) -> Int {
        guard let outcome = file.read(body) else {
            FileHandle.standardError.write(Foundation.Data("input error: cannot read \(file.path)\n".utf8))
            return 0
        }
        if outcome.rejected > BarCache.keptLines {
            FileHandle.standardError.write(Foundation.Data("… and \(outcome.rejected - BarCache.keptLines) more rejected ticks\n".utf8))
        }
        if let e = outcome.documentError { FileHandle.standardError.write(Foundation.Data("input error: \(e)\n".utf8)) }
        return outcome.rejected
    }

    /// The strategies file (default Config/strategies.json when present, else the built-ins) with
    /// exactly `names` enabled (nil: the file's enabled ones).
    static func strategies(file: String?, names: String?, requireEnabled: Bool = true) throws(Failure) -> StrategyRegistry {
        let path = file ?? (FileManager.default.fileExists(atPath: "Config/strategies.json") ? "Config/strategies.json" : nil)
        var registry = StrategyRegistry.defaults
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else { throw Failure(message: "--strategies-file: cannot read \(path)") }
            do {
                registry = try StrategyRegistry.parse(data)
            } catch {
                throw Failure(message: "\(path): \(error)")
            }
        }
        if let names {
            let wanted = names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let known = registry.entries.map(\.strategy.name)
            for name in wanted where !known.contains(name) {
                throw Failure(message: "--strategies: no strategy \(name) in \(path ?? "the built-ins") (have: \(known.joined(separator: ", ")))")
            }
            guard !wanted.isEmpty else { throw Failure(message: "--strategies: name at least one strategy") }
            do {
                for name in known { try registry.update(name, with: ["enabled": .bool(wanted.contains(name))]) }
            } catch {
                throw Failure(message: "\(path ?? "strategies"): \(error)")
            }
        }
        guard !requireEnabled || registry.entries.contains(where: \.enabled) else {
            throw Failure(message: "no strategy is enabled in \(path ?? "the built-ins"); name some with --strategies")
        }
        return registry
    }
}

/// Keeps the closed bars of an engine run, in the order they close.
final class BarCollector: EngineSink {
    var bars: [Bar] = []
    func engine(bar: Bar) { bars.append(bar) }
    var takesTicks: Bool { false }
    func engine(tick: Tick) {}
    func engine(features: Features) {}
    func engine(signal: StrategySignal) {}
    func engine(opportunity: Opportunity) {}
    func engine(alert: RiskAlert) {}
}

/// The options `backtest` and `sweep` share: what to read and how trades fill.
struct ResearchOptions: ParsableArguments {
    @Option(help: "Ticks (.csv naming ts,symbol,price,volume; .ndjson/.jsonl; .json) or OHLCV bars (.csv naming Date,Open,High,Low,Close[,Volume][,Symbol]).")
    var input: String
    @Option(help: "Bar interval (1m, 1h, 1d…). Ticks: default 1m. OHLCV: default the file's own; a coarser one aggregates.")
    var interval: String?
    @Option(help: "Symbol of an OHLCV file without a symbol column (default: the file's name without extension).")
    var symbol: String?
    @Option(name: .customLong("strategies-file"), help: "Strategies file (default Config/strategies.json when present, else the built-ins).")
    var strategiesFile: String?
    @Option(name: .customLong("cost-bps"), help: "Commission per side, basis points of the position's value.")
    var costBps = 0.0
    @Option(name: .customLong("slippage-bps"), help: "Slippage per side, basis points of the price, against the trade.")
    var slippageBps = 0.0
    @Flag(name: .customLong("long-only"), help: "Short signals only close longs.")
    var longOnly = false
    @Option(name: .customLong("utc-offset"), help: "Zone of OHLCV dates and times written without one, as ±HH:MM (default: each symbol's venue's zone with --markets on, else UTC).")
    var utcOffset: String?
    @OptionGroup var markets: MarketsOption

    /// The fills, or why the options are wrong.
    func trade() throws(ResearchInput.Failure) -> TradeSettings {
        guard costBps.isFinite, (0...10_000).contains(costBps) else { throw .init(message: "--cost-bps must be 0…10000") }
        guard slippageBps.isFinite, (0...10_000).contains(slippageBps) else { throw .init(message: "--slippage-bps must be 0…10000") }
        var t = TradeSettings()
        t.costBps = costBps
        t.slippageBps = slippageBps
        t.longOnly = longOnly
        return t
    }

    @Flag(help: "Keep the file's parse (OHLCV bars or ticks) in FILE.dfcache and reuse it while the file and these options are unchanged.")
    var cache = false

    func load(command: String) throws -> ResearchInput {
        let directory = markets.directory(command: command)
        // Zone-less times read in the venues' zones depend on the markets in force.
        var options = "markets=\(markets.markets)"
        if utcOffset == nil, directory.enabled {
            let file = markets.markets == "on" ? "Config/markets.json" : markets.markets
            options += "|\(fileStamp(file) ?? "builtin")"
        }
        let loaded = try ResearchInput.load(path: input, interval: interval, symbol: symbol, utcOffset: utcOffset, markets: directory,
                                            command: command, cache: cache, cacheOptions: options)
        loaded.markets = directory
        return loaded
    }
}

/// A file's size and modification time, as a cache key part ("size=…|mtime=…"); nil when it cannot be read.
func fileStamp(_ path: String) -> String? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return "size=\(st.st_size)|mtime=\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
}

/// A file mapped read-only for the duration of `withBytes`.
struct MappedFile {
    let path: String

    init?(_ path: String) {
        guard access(path, R_OK) == 0 else { return nil }
        self.path = path
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T?) -> T? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        guard size > 0 else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), base != MAP_FAILED else { return nil }
        defer { munmap(base, size) }
        return body(UnsafeRawBufferPointer(start: base, count: size))
    }
}
