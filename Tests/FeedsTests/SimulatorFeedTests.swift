import Contracts
import Feeds
import Pipeline
import XCTest

/// The live simulator feed into a running pipeline worker: it paces ticks on the wall clock, in
/// order per symbol, every one within the contract, and a pause stops what reaches the engine.
final class SimulatorFeedTests: XCTestCase {
    private func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    func testTicksArriveLiveInOrderAndAPauseStopsThem() throws {
        let store = EventStore()
        let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, store: store)
        let input = worker.makeInput(name: "simulator", policy: .block)
        let feed = SimulatorFeed(input: input, ticksPerSecond: 400, seed: 7)
        worker.start()
        let startedMs = WallClock.milliseconds()
        feed.start()
        defer {
            feed.stop()
            worker.stop()
        }
        XCTAssertTrue(waitUntil(5) { feed.published.load(ordering: .relaxed) >= 100 }, "ticks are paced on the wall clock")
        feed.paused.store(true, ordering: .relaxed)
        usleep(150_000)  // the feed thread wakes every 50 ms
        let atPause = feed.published.load(ordering: .relaxed)
        usleep(400_000)
        XCTAssertEqual(feed.published.load(ordering: .relaxed), atPause, "nothing is sent while paused")
        XCTAssertTrue(waitUntil(5) { worker.stats.counts.totals.ticks == atPause }, "the engine took every tick sent")
        let counts = worker.stats.counts.totals
        XCTAssertEqual(counts.outOfOrder, 0, "the feed sends each symbol's ticks in order")
        // Less than real time elapsed × rate (plus one 50 ms wake-up of slack): paced, not a burst.
        let elapsedMs = WallClock.milliseconds() - startedMs
        XCTAssertLessThanOrEqual(atPause, Int(Double(elapsedMs + 50) * 0.4) + 1)
        feed.paused.store(false, ordering: .relaxed)
        XCTAssertTrue(waitUntil(5) { feed.published.load(ordering: .relaxed) > atPause }, "resuming sends again")
    }

    /// `speed` 60: market time (the ticks' and the pipeline clock's) runs a minute a wall second,
    /// at the configured ticks per wall second, and bars close on that clock.
    func testACompressedMarketRunsItsClockFaster() throws {
        let store = EventStore()
        let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1m")!), strategies: .defaults, store: store)
        let input = worker.makeInput(name: "simulator", policy: .block)
        let feed = SimulatorFeed(input: input, ticksPerSecond: 600, seed: 5, clock: worker.clock, speed: 60)
        worker.start()
        let started = WallClock.milliseconds()
        feed.start()
        defer {
            feed.stop()
            worker.stop()
        }
        XCTAssertTrue(waitUntil(10) { worker.stats.counts.totals.bars >= 8 }, "one-minute bars close every wall second or so")
        let wallElapsed = Double(WallClock.milliseconds() - started)
        let marketElapsed = Double(worker.clock.now() - started)
        XCTAssertEqual(marketElapsed / wallElapsed, 60, accuracy: 6, "the pipeline's clock runs 60 times the wall clock")
        let ticks = Double(feed.published.load(ordering: .relaxed))
        XCTAssertLessThan(ticks, 600 * wallElapsed / 1000 * 1.5, "still about 600 ticks a wall second, not 60 times that")
    }

    func testTheSameSeedGivesTheSameMarket() {
        func ticks(_ seed: UInt64) -> [Tick] {
            var sim = MarketSimulator(instruments: MarketSimulator.defaultInstruments, ticksPerSecond: 50, seed: seed, startMs: 1_000)
            return (0..<500).map { _ in sim.next() }
        }
        let a = ticks(11)
        XCTAssertEqual(a, ticks(11))
        XCTAssertNotEqual(a, ticks(12))
        for tick in a { XCTAssertNil(tick.validate(), "\(tick)") }
        XCTAssertEqual(a.map(\.ts), a.map(\.ts).sorted(), "market time never goes back")
    }
}
