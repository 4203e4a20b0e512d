import CLinux
import Contracts
import Glibc
import Markets
import Pipeline
import Synchronization

/// Runs the market simulator live: a thread that wakes 20 times a second and hands the pipeline
/// every tick due by then (timestamps are wall-clock milliseconds). Pushes with the `.block`
/// policy: a feed waits for the pipeline rather than losing ticks.
public final class SimulatorFeed: LiveFeed, @unchecked Sendable {
    public let inputName = "simulator"
    public let kind = "simulator"
    public var state: String { "running" }
    private var simulator: MarketSimulator
    private let input: TickInput
    private let running = Atomic<Bool>(false)
    private var thread: WorkerThread?
    public let published = Atomic<Int>(0)
    /// Paused by the operator (`POST /admin/feed/pause`): market time goes on, ticks are not sent.
    public let paused = Atomic<Bool>(false)
    public let ticksPerSecond: Int

    /// With venue clocks (`markets`), each symbol trades in its own sessions: in real time, or —
    /// `speed` > 1, with the pipeline's `clock` — in market time running `speed` times the wall
    /// clock (a trading day in minutes), still `ticksPerSecond` ticks a wall second. Market time
    /// starts now, or after `resumeAfter` (the restored engine's time) when that is later.
    public init(input: TickInput, instruments: [MarketSimulator.Instrument] = MarketSimulator.defaultInstruments,
                ticksPerSecond: Int, seed: UInt64, markets: MarketDirectory = .off, clock: MarketClock? = nil, speed: Int = 1,
                resumeAfter: Int64 = .min) {
        self.input = input
        self.ticksPerSecond = ticksPerSecond
        let start = max(WallClock.milliseconds(), resumeAfter == .min ? .min : resumeAfter + 1)
        self.clock = speed > 1 ? clock : nil
        self.speed = max(1, speed)
        self.startMs = start
        simulator = MarketSimulator(instruments: instruments, ticksPerSecond: max(1, ticksPerSecond / max(1, speed)), seed: seed,
                                    startMs: start, markets: markets)
    }

    private let clock: MarketClock?
    private let speed: Int
    private let startMs: Int64

    public func start() {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        clock?.follow(market: startMs, speed: Double(speed))
        thread = WorkerThread.spawn(name: "df-simulator") { self.run() }
    }

    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        thread?.join()
        thread = nil
    }

    private func run() {
        var next = simulator.next()
        // The ticks due at each wake-up go in as one burst: the worker wakes once for them.
        var due: [Tick] = []
        while running.load(ordering: .acquiring) {
            let now = clock?.now() ?? WallClock.milliseconds()
            let sending = !paused.load(ordering: .relaxed)
            due.removeAll(keepingCapacity: true)
            while next.ts <= now {
                if sending { due.append(next) }
                next = simulator.next()
            }
            let sent = due.isEmpty ? 0 : input.submit(contentsOf: due)
            published.wrappingAdd(sent, ordering: .relaxed)
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&pause, nil)
        }
    }
}
