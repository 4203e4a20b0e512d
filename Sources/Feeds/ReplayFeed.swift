import CLinux
import Contracts
import Foundation
import Markets
import Pipeline
import Synchronization

/// What a live feed tells `/admin/health` and the admin routes.
public protocol LiveFeed: AnyObject, Sendable {
    /// The producer ring's name (its freshness is the feed's).
    var inputName: String { get }
    /// "simulator", "replay".
    var kind: String { get }
    /// "running", "finished" (a replay without `loop` that reached its end) or "failed: why".
    var state: String { get }
    var paused: Atomic<Bool> { get }
    var published: Atomic<Int> { get }
    func start()
    func stop()
}

/// A recorded file played into the live pipeline (`feed = replay:FILE`): ticks (CSV, NDJSON,
/// JSON) as they are, OHLCV bars as four ticks each (open; low then high, or high then low; close)
/// inside the bar — inside the venue's sessions for daily bars. The pipeline's market clock
/// follows the file at `speed` × the wall clock from its first tick (or from where a restarted
/// engine left off), so bars close and feeds turn stale in the file's time. At the end: again,
/// shifted a whole number of weeks (`loop`), or finished — market time stops just after the last
/// bar's close, so nothing turns stale and no error repeats.
public final class ReplayFeed: LiveFeed, @unchecked Sendable {
    public let inputName = "replay"
    public let kind = "replay"
    public let path: String
    public let speed: Double
    public let loop: Bool
    public let paused = Atomic<Bool>(false)
    public let published = Atomic<Int>(0)
    private let input: TickInput
    private let clock: MarketClock
    private let markets: MarketDirectory
    private let interval: BarInterval
    private let resumeAfter: Int64
    private let staleFeedMs: Int64
    private let running = Atomic<Bool>(false)
    private let status = Mutex<String>("running")
    private var thread: WorkerThread?

    /// `resumeAfter`: the engine's market time after a restart (ticks up to it were played).
    public init(path: String, input: TickInput, clock: MarketClock, speed: Double, loop: Bool, markets: MarketDirectory,
                interval: BarInterval, staleFeedMs: Int64 = 10_000, resumeAfter: Int64 = .min) {
        self.path = path
        self.input = input
        self.clock = clock
        self.speed = speed
        self.loop = loop
        self.markets = markets
        self.interval = interval
        self.resumeAfter = resumeAfter
        self.staleFeedMs = staleFeedMs
    }

    public var state: String { status.withLock { $0 } }

    /// Why the file cannot be played (before the server starts), nil when it can.
    public static func problem(path: String) -> String? {
        guard FileManager.default.isReadableFile(atPath: path) else { return "cannot read \(path)" }
        guard TickFormat(fileName: path) != nil else { return "\(path): use a .csv (ticks or OHLCV bars), .ndjson, .jsonl or .json file" }
        return nil
    }

    public func start() {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        thread = WorkerThread.spawn(name: "df-replay") { self.run() }
    }

    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        thread?.join()
        thread = nil
    }

    private func run() {
        var shift: Int64 = 0
        var anchored = false
        var lastTs = Int64.min
        repeat {
            // The file's own first and last times (ticks already played before a restart count).
            var first = Int64.max, last = Int64.min
            let ok = forEachTick { tick in
                var t = tick
                t.ts += shift
                first = min(first, tick.ts)
                last = max(last, tick.ts)
                guard t.ts > resumeAfter else { return true }
                if !anchored {
                    clock.follow(market: max(t.ts, resumeAfter == .min ? t.ts : resumeAfter), speed: speed)
                    anchored = true
                }
                clock.hold(at: t.ts)
                guard wait(until: t.ts) else { return false }
                if !paused.load(ordering: .relaxed), input.submit(t) { published.wrappingAdd(1, ordering: .relaxed) }
                lastTs = max(lastTs, t.ts)
                return true
            }
            guard ok, running.load(ordering: .acquiring) else { return }
            guard loop, first <= last else { break }
            // The next pass starts a whole number of weeks after this one's first tick, past its
            // last: weekdays and session times line up, and ticks stay in time order.
            let week: Int64 = 7 * 86_400_000
            let span = last - first + interval.milliseconds
            shift += max(1, (span + week - 1) / week) * week
        } while running.load(ordering: .acquiring)
        // Finished: once the worker has processed every tick (at market times before the stop),
        // market time stops just short of the stale-feed time after the last tick — past the last
        // bar's end when it ends within that (a bar expanded from OHLCV always does) — so no feed
        // turns stale and nothing repeats.
        let processed = DispatchSemaphore(value: 0)
        input.whenCommitted { _ in processed.signal() }
        _ = processed.wait(timeout: .now() + 10)
        clock.stop(at: (lastTs == .min ? resumeAfter : lastTs) + min(interval.milliseconds + 1_000, staleFeedMs - 1))
        status.withLock { $0 = "finished" }
    }

    /// Sleeps until market time reaches `ts` (false when stopped meanwhile).
    private func wait(until ts: Int64) -> Bool {
        while running.load(ordering: .acquiring) {
            let now = clock.now()
            if now >= ts { return true }
            let wallMs = min(50.0, Double(ts - now) / speed)
            var pause = timespec(tv_sec: 0, tv_nsec: Int(max(1, wallMs) * 1_000_000))
            nanosleep(&pause, nil)
        }
        return false
    }

    /// Every tick of the file in order, to `body` (false stops); false when the file could not
    /// be read.
    private func forEachTick(_ body: (Tick) -> Bool) -> Bool {
        guard let format = TickFormat(fileName: path), let reader = ChunkedFile(path: path) else {
            status.withLock { $0 = "failed: cannot read \(path)" }
            return false
        }
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4096)) ?? Data()
        if format == .csv, BarCSV.isBarHeader(String(decoding: head.prefix { $0 != 10 }, as: UTF8.self)) {
            return forEachBarTick(body)
        }
        var going = true
        reader.forEachDecoded(format: format) { result in
            for tick in result.ticks where going { going = body(tick) }
            return going
        }
        return going
    }

    /// An OHLCV file's bars, in time order, as four ticks each.
    private func forEachBarTick(_ body: (Tick) -> Bool) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        var decoded = BarDecodeResult()
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        data.withUnsafeBytes { BarCSV.decode($0.bindMemory(to: UInt8.self), symbol: name, interval: interval.label, into: &decoded) }
        if let e = decoded.documentError {
            status.withLock { $0 = "failed: \(e)" }
            return false
        }
        let bars = decoded.bars.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        var spacing = Int64.max
        for (a, b) in zip(bars, bars.dropFirst()) where a.symbol == b.symbol && b.start > a.start { spacing = min(spacing, b.start - a.start) }
        if spacing == .max { spacing = interval.milliseconds }
        for bar in bars {
            for tick in Self.ticks(of: bar, spacing: spacing, profile: markets.profile(for: bar.symbol)) {
                guard body(tick) else { return true }
            }
        }
        return true
    }

    /// Four ticks inside a bar: the open first, the close last, the high and the low between in
    /// the order the bar's direction suggests; volume in four parts (whole lots where the venue
    /// enforces them). Daily or longer bars on a venue with sessions trade inside its sessions.
    static func ticks(of bar: Bar, spacing: Int64, profile: MarketProfile) -> [Tick] {
        let prices = bar.close >= bar.open ? [bar.open, bar.low, bar.high, bar.close] : [bar.open, bar.high, bar.low, bar.close]
        var times: [Int64]
        if spacing >= 86_400_000, !profile.isAlwaysOpen, let first = profile.sessions.first, let last = profile.sessions.last {
            // The bar's date (as the file wrote it) is the trading date.
            let date = CivilDate.floorDivide(bar.start, 86_400_000).quotient
            let seconds = [first.start * 60 + 1, (first.start + first.end) * 30, (last.start + last.end) * 30, last.end * 60 - 1]
            times = seconds.map { profile.timeZone.utc(fromLocal: date * 86_400 + Int64($0)) * 1000 }
        } else {
            // The close a second before the bar's end: the bar closes as soon as market time passes it.
            times = [bar.start, bar.start + spacing / 3, bar.start + 2 * spacing / 3, bar.start + max(spacing - 1_000, spacing * 3 / 4)]
        }
        for i in 1..<4 where times[i] <= times[i - 1] { times[i] = times[i - 1] + 1 }
        var volumes = [Double](repeating: bar.volume / 4, count: 4)
        if let lot = profile.lotSize, profile.enforceLots {
            let lots = (bar.volume / lot).rounded(.down)
            let each = (lots / 4).rounded(.down)
            volumes = [each * lot, each * lot, each * lot, bar.volume - 3 * each * lot]
        }
        return (0..<4).map { Tick(symbol: bar.symbol, ts: times[$0], price: prices[$0], volume: volumes[$0]) }
    }
}
