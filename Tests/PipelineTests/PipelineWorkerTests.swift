import Contracts
import Foundation
import Pipeline
import Synchronization
import XCTest

final class PipelineWorkerTests: XCTestCase {
    func testTwoProducersOneConsumerAndTheStore() throws {
        let store = EventStore(capacity: 100_000)
        let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, store: store)
        let a = worker.makeInput(name: "a", capacity: 256, policy: .block)
        let b = worker.makeInput(name: "b", capacity: 256, policy: .block)
        let wakes = Atomic<Int>(0)
        let output = worker.addOutput(capacity: 1 << 20) { wakes.wrappingAdd(1, ordering: .relaxed) }
        worker.start()
        let ticks = EngineTests.ticks(count: 30_000)
        let first = ticks.filter { $0.symbol == "600519.SH" }, second = ticks.filter { $0.symbol != "600519.SH" }
        let t1 = Thread { for t in first { a.submit(t) } }
        let t2 = Thread { for t in second { b.submit(t) } }
        t1.start(); t2.start()
        while worker.stats.counts.totals.ticks < ticks.count { usleep(2_000) }
        worker.stop()
        var seqs: [UInt64] = []
        var tickCount = 0
        output.drain { event, _ in
            if case .tick = event { tickCount += 1 }
            if let s = event.seq { seqs.append(s) }
        }
        XCTAssertEqual(tickCount, ticks.count)
        XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)), "consumers see every sequenced event, in order")
        XCTAssertGreaterThan(wakes.load(ordering: .relaxed), 0)
        XCTAssertEqual(store.lastSeq, UInt64(seqs.count))
        let opportunities = store.opportunities(limit: 1_000_000)
        XCTAssertEqual(opportunities.count, worker.stats.counts.totals.opportunities)
        let later = store.opportunities(sinceSeq: opportunities[opportunities.count / 2].seq, limit: 5)
        XCTAssertTrue(later.allSatisfy { $0.seq > opportunities[opportunities.count / 2].seq })
        XCTAssertEqual(later.map(\.seq), later.map(\.seq).sorted())
        let longs = store.opportunities(limit: 10) { $0.direction == .long }
        XCTAssertTrue(longs.allSatisfy { $0.direction == .long })
        XCTAssertEqual(store.opportunity(id: opportunities[0].id)?.id, opportunities[0].id)
        XCTAssertEqual(store.symbols, ["000001.SZ", "600519.SH"])
        XCTAssertFalse(store.bars("600519.SH", limit: 10).isEmpty)
        XCTAssertNotNil(store.latestFeatures("600519.SH"))
    }

    /// The store takes each batch's outcomes and its strategies' scorecard figures at the
    /// batch's end: after the run they are the engine's, figure for figure, and every signal's
    /// outcomes are the ones the engine gave it.
    func testStoreScoresAndOutcomesAreTheEngines() throws {
        let store = EventStore(capacity: 100_000)
        let settings = EngineSettings(interval: BarInterval("1m")!)
        // A long grace: the wall clock closes no bar here, so the run is the ticks' alone.
        let worker = PipelineWorker(settings: settings, strategies: .defaults, store: store, barGraceMs: 600_000)
        let input = worker.makeInput(name: "t", capacity: 512, policy: .block)
        worker.start()
        let ticks = EngineTests.ticks(count: 40_000)
        for t in ticks { input.submit(t) }
        while worker.stats.counts.totals.ticks < ticks.count { usleep(2_000) }
        worker.stop()

        let sink = CollectingSink()
        let engine = SignalEngine(settings: settings, strategies: .defaults, sink: sink)
        for t in ticks { engine.process(t, wallMs: t.ts) }
        engine.finish()  // as the worker does at its stop
        XCTAssertGreaterThan(sink.outcomes.count, 100, "the run scores signals")
        XCTAssertEqual(store.liveScores, engine.liveScores.mapValues(\.card))
        for o in sink.outcomes.suffix(300) { XCTAssertEqual(store.outcome(o.seq)[o.bars], o.ret, "signal \(o.seq) at \(o.bars) bars") }
    }

    /// A burst drained at once is handed on in slices of work: with no budget every tick's events
    /// go out as they are made (the first wake-up carries only the first ticks' events), with an
    /// unbounded one the burst is one hand-off; either way the consumer sees the same events in
    /// the same order.
    func testALongBurstIsHandedOnInSlicesWithTheSameEvents() throws {
        final class Seen: @unchecked Sendable {
            var perWake: [Int] = []
            var seqs: [UInt64] = []
            var output: EventOutput?
        }
        func run(sliceNs: Int64) -> Seen {
            let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults,
                                        store: EventStore(capacity: 100_000), barGraceMs: 600_000)
            let input = worker.makeInput(name: "t", capacity: 4096, policy: .block)
            let seen = Seen()
            // The wake-up runs on the worker thread: the test reads the ring there, its only reader.
            seen.output = worker.addOutput(capacity: 1 << 20) {
                var n = 0
                _ = seen.output?.drain { event, _ in
                    n += 1
                    if let s = event.seq { seen.seqs.append(s) }
                }
                seen.perWake.append(n)
            }
            worker.publishSliceNs = sliceNs
            // Every tick closes the previous one's bar: each makes events. All are in the ring
            // before the worker starts, so it drains them as one burst.
            let ticks = (0..<2_000).map { i in
                Tick(symbol: "600519.SH", ts: 1_700_000_000_000 + Int64(i) * 1000, price: 100 + Double(i % 13) * 0.5, volume: 100)
            }
            XCTAssertEqual(input.submit(contentsOf: ticks), ticks.count)
            worker.start()
            while worker.stats.counts.totals.ticks < ticks.count { usleep(1_000) }
            worker.stop()  // joins the worker: every wake-up has run
            return seen
        }
        let sliced = run(sliceNs: 0), whole = run(sliceNs: .max)
        // Unbounded: the burst in one hand-off (and the stop's closing of the last bar in another).
        XCTAssertLessThanOrEqual(whole.perWake.count, 2, "\(whole.perWake)")
        XCTAssertGreaterThan(whole.perWake[0], 2_000)
        XCTAssertGreaterThan(sliced.perWake.count, 100, "with no budget, events go out tick by tick")
        XCTAssertLessThan(sliced.perWake[0], whole.perWake[0] / 100, "the first hand-off does not wait for the burst's end")
        XCTAssertEqual(sliced.perWake.reduce(0, +), whole.perWake.reduce(0, +))
        XCTAssertFalse(whole.seqs.isEmpty)
        XCTAssertEqual(sliced.seqs, whole.seqs, "same sequenced events, same order")
    }

    func testStrategiesCanBeReplacedWithoutLosingIndicatorState() throws {
        let store = EventStore()
        let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, store: store)
        let input = worker.makeInput(name: "t", policy: .block)
        worker.start()
        defer { worker.stop() }
        var ts: Int64 = 0
        for i in 0..<60 {
            ts += 1000
            input.submit(Tick(symbol: "A", ts: ts, price: 100 + Double(i % 7), volume: 100))
        }
        while worker.stats.counts.totals.bars < 59 { usleep(1_000) }
        XCTAssertNotNil(store.latestFeatures("A")?.sma20, "warmed up")
        var registry = worker.strategies
        try registry.update("rsi_reversal", with: ["enabled": .bool(false)])
        worker.updateStrategies(registry)
        input.submit(Tick(symbol: "A", ts: ts + 1000, price: 101, volume: 100))
        input.submit(Tick(symbol: "A", ts: ts + 2000, price: 101, volume: 100))
        while worker.stats.counts.totals.bars < 60 { usleep(1_000) }
        XCTAssertNotNil(store.latestFeatures("A")?.ema50, "indicators kept their state across the reload")
        XCTAssertFalse(worker.strategies.entries.first { $0.strategy.name == "rsi_reversal" }?.enabled ?? true)
    }
}
