import Contracts
import Pipeline
import XCTest

/// Live signal scoring in the engine: every signal's forward return at each horizon, from the
/// bars that close after it, and per-strategy scorecards over the latest ones.
final class LiveScorerTests: XCTestCase {
    func testOutcomesAreForwardReturnsOfTheBarsThatFollow() throws {
        var settings = EngineSettings(interval: BarInterval("1m")!)
        settings.scoring.horizons = [1, 3, 10]
        settings.scoring.window = 25
        let sink = CollectingSink()
        let engine = SignalEngine(settings: settings, strategies: .defaults, sink: sink)
        for tick in EngineTests.ticks(count: 30_000) { engine.process(tick) }
        engine.finish()
        XCTAssertGreaterThan(sink.signals.count, 50)
        // The bars of each symbol in order; a signal fires on the close of its symbol's latest bar.
        var barsBySymbol: [String: [Bar]] = [:]
        for bar in sink.bars { barsBySymbol[bar.symbol, default: []].append(bar) }
        let signalsBySeq = Dictionary(uniqueKeysWithValues: sink.signals.map { ($0.seq, $0) })
        var checked = 0
        for o in sink.outcomes {
            let signal = try XCTUnwrap(signalsBySeq[o.seq])
            let bars = try XCTUnwrap(barsBySymbol[signal.symbol])
            let at = try XCTUnwrap(bars.firstIndex { $0.start + 60_000 == signal.ts }, "the signal's bar")
            let forward = bars[at + o.bars].close / signal.price - 1
            XCTAssertEqual(o.ret, signal.direction == .long ? forward : -forward, accuracy: 1e-15)
            XCTAssertEqual(o.strategy, signal.strategy)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 100)
        // Every signal with 10 bars after it is scored at all three horizons, the others at those it reached.
        for s in sink.signals {
            let bars = barsBySymbol[s.symbol]!
            let at = bars.firstIndex { $0.start + 60_000 == s.ts }!
            let got = sink.outcomes.filter { $0.seq == s.seq }.map(\.bars)
            XCTAssertEqual(got, [1, 3, 10].filter { at + $0 < bars.count }, "signal \(s.seq)")
        }
        // A scorecard is the latest `window` outcomes of its strategy at each horizon.
        for (strategy, score) in engine.liveScores {
            for h in score.horizons {
                let latest = sink.outcomes.filter { $0.strategy == strategy && $0.bars == h.bars }.suffix(25).map(\.ret)
                XCTAssertEqual(h.count, latest.count)
                guard !latest.isEmpty else { continue }
                XCTAssertEqual(h.hitRate!, Double(latest.filter { $0 > 0 }.count) / Double(latest.count), accuracy: 1e-12)
                XCTAssertEqual(h.meanBps!, latest.reduce(0, +) / Double(latest.count) * 10_000, accuracy: 1e-9)
            }
            XCTAssertEqual(score.scored, sink.outcomes.filter { $0.strategy == strategy && $0.bars == 10 }.count)
        }
        // The engine keeps the newest signals' outcomes, nil where a horizon was not reached.
        let last = try XCTUnwrap(engine.recentOutcomes.last)
        XCTAssertEqual(last.seq, sink.signals.last?.seq)
        XCTAssertEqual(engine.recentOutcomes.count, sink.signals.count)
    }
}

/// Recovery: replayed inputs score as live did; a warm-up (inputs without a checkpoint, whose
/// signals are taken back) leaves no scores behind, since its seqs will be given again.
final class LiveScoringRecoveryTests: XCTestCase {
    func testWarmUpLeavesNoScoresAndAReplayKeepsThem() {
        let inputs = EngineTests.ticks(count: 20_000).map { EngineInput.tick($0, wallMs: $0.ts) }
        for publishNew in [false, true] {
            let store = EventStore()
            let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1m")!), strategies: .defaults, store: store)
            worker.recover(from: nil, inputs: inputs, journaledThrough: 0, publishNew: publishNew)
            let scored = store.liveScores.values.reduce(0) { $0 + $1.scored }
            if publishNew {
                XCTAssertGreaterThan(scored, 10, "a replay's signals are scored")
            } else {
                XCTAssertEqual(scored, 0, "a warm-up's signals are taken back, and their scores")
                XCTAssertEqual(store.outcome(1), [:])
            }
        }
    }
}
