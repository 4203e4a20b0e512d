import Contracts
import Foundation
import Pipeline
import XCTest

/// The engine checkpoint + input replay: an engine restored from a checkpoint taken at any point,
/// fed the inputs after it, is the engine that never stopped — the same signals, opportunities
/// (ids included) and alerts, with the same seqs, bit for bit.
final class CheckpointTests: XCTestCase {
    private static let settings: EngineSettings = {
        var s = EngineSettings(interval: BarInterval("5s")!)
        s.aggregator = AggregatorSettings(ttlMs: 60_000, cooldownMs: 20_000)
        return s
    }()

    /// Ticks (trends, a jump, wide spreads, volume bursts) with the wall time the worker read for
    /// each, and clock steps in the quiet moments, as the worker journals them.
    static func inputs(count: Int, seed: UInt64) -> [EngineInput] {
        var out: [EngineInput] = []
        var wall: Int64 = 1_732_500_000_000
        // Half way, the strategies change (a PUT): rsi_reversal off, parameterised rules on; later
        // one rule's parameters change (its shared SMA stays, a new one starts); then a restart.
        var changed = try! StrategyRegistry.parse(Data(#"""
            {"rules":[{"name":"sma_cross","params":{"fast":5,"slow":20},"when":"crosses_above(sma(close,fast), sma(close,slow))","direction":"long"},
                      {"name":"band_break","when":"close > bb_upper(close,10,1.5) && willr(14) > -20 && obv() > prev(volume,1)","direction":"short","strength":0.6},
                      {"name":"macd_turn","when":"crosses_below(macd(close,5,35,5), macd_signal(close,5,35,5)) || highest(high,30) - lowest(low,30) > 3 * atr(7)","direction":"short"},
                      {"name":"oscillators","when":"crosses_above(stoch_k(14,3,3), stoch_d(14,3,3)) && adx(10) > 20 || mfi(14) < 30 && cci(20) < -100 && zscore(close,20) < 0 && roc(close,5) < mom(close,5) && vwap(10) > wma(close,8)","direction":"long"}]}
            """#.utf8))
        try? changed.update("rsi_reversal", with: ["enabled": .bool(false), "oversold": .int(25)])
        var retuned = changed
        try? retuned.update("sma_cross", with: ["params": .object(["slow": .int(30)])])
        for (i, tick) in EngineTests.ticks(count: count, seed: seed).enumerated() {
            wall = max(wall + 1, tick.ts + 40)
            if i == count / 2 { out.append(.strategies(changed.fileJSON)) }
            if i == count * 2 / 3 { out.append(.strategies(retuned.fileJSON)) }
            if i == count * 3 / 4 { out.append(.resume(wallMs: wall, holdMs: 10_000)) }
            out.append(.tick(tick, wallMs: wall))
            // Every so often the feed goes quiet and the clock closes the open bars.
            if i % 97 == 96 {
                wall += 6_000
                out.append(.clock(wallMs: wall, graceMs: 250))
            }
        }
        return out
    }

    private func run(_ inputs: ArraySlice<EngineInput>, on engine: SignalEngine) {
        for input in inputs { engine.replay(input) }
    }

    private func roundTrip(_ c: EngineCheckpoint) throws -> EngineCheckpoint {
        var w = BinaryWriter()
        c.write(&w)
        var r = BinaryReader(w.bytes)
        let back = try EngineCheckpoint(reading: &r, settings: Self.settings)
        XCTAssertTrue(r.atEnd)
        var again = BinaryWriter()
        back.write(&again)
        XCTAssertEqual(again.bytes, w.bytes, "decode → encode gives the same bytes")
        return back
    }

    func testRestoredEngineContinuesExactlyAsTheUninterruptedOne() throws {
        let inputs = Self.inputs(count: 12_000, seed: 11)
        let reference = CollectingSink()
        let uninterrupted = SignalEngine(settings: Self.settings, strategies: .defaults, sink: reference)
        run(inputs[...], on: uninterrupted)
        XCTAssertGreaterThan(reference.opportunities.count, 20)
        XCTAssertGreaterThan(reference.alerts.count, 5)
        XCTAssertTrue(reference.alerts.contains { $0.severity == .critical }, "the run blocks a symbol at some point")

        var rng = SystemRandomNumberGenerator()
        for round in 0..<8 {
            // Checkpoint after `taken` inputs, crash after `crashed` (the inputs between are journaled).
            let taken = Int.random(in: 1..<(inputs.count - 200), using: &rng)
            let crashed = Int.random(in: taken...(min(inputs.count, taken + 3_000)), using: &rng)
            let before = CollectingSink()
            let first = SignalEngine(settings: Self.settings, strategies: .defaults, sink: before)
            run(inputs[..<taken], on: first)
            let checkpoint = try roundTrip(first.checkpoint())
            run(inputs[taken..<crashed], on: first)

            let replayed = CollectingSink()
            let second = SignalEngine(settings: Self.settings, strategies: .defaults, sink: replayed)
            second.restore(checkpoint)
            XCTAssertEqual(second.seq, checkpoint.seq)
            run(inputs[taken..<crashed], on: second)
            // Replaying the journaled inputs makes exactly what the crashed run had made after the checkpoint.
            let madeAfterCheckpoint = before.lines.count - replayed.lines.count
            XCTAssertEqual(Array(before.lines[max(0, madeAfterCheckpoint)...]), replayed.lines, "round \(round): replay")
            XCTAssertEqual(second.seq, first.seq, "round \(round)")
            let resumedAt = replayed.lines.count
            run(inputs[crashed...], on: second)
            // After the restart point: the same events as the run that never stopped, seqs and ids included.
            let after = Array(replayed.lines[resumedAt...])
            XCTAssertEqual(after, Array(reference.lines.suffix(after.count)), "round \(round): taken \(taken), crashed \(crashed)")
            XCTAssertEqual(before.lines.count + after.count, reference.lines.count, "round \(round): nothing missing or extra")
            XCTAssertEqual(second.seq, uninterrupted.seq)
            XCTAssertEqual(second.liveScores, uninterrupted.liveScores, "round \(round): live scorecards")
            XCTAssertEqual(second.recentOutcomes.map(\.seq), uninterrupted.recentOutcomes.map(\.seq))
            XCTAssertEqual(second.recentOutcomes.map(\.returns), uninterrupted.recentOutcomes.map(\.returns))
        }
        XCTAssertGreaterThan(reference.outcomes.count, 100, "signals were scored")
    }

    /// Risk holds survive: a symbol blocked when the checkpoint is taken is still blocked after a
    /// restore, and its opportunities say so, exactly as without the restart.
    func testBlockedSymbolsAndOpenEpisodesSurvive() throws {
        let inputs = Self.inputs(count: 12_000, seed: 11)
        let sink = CollectingSink()
        let engine = SignalEngine(settings: Self.settings, strategies: .defaults, sink: sink)
        var blockedAt: Int?
        for (i, input) in inputs.enumerated() {
            engine.replay(input)
            if sink.alerts.last?.severity == .critical, engine.checkpoint().blockedSymbols.count > 0 { blockedAt = i; break }
        }
        let at = try XCTUnwrap(blockedAt, "a critical alert blocks a symbol")
        let saved = try roundTrip(engine.checkpoint())
        XCTAssertFalse(saved.blockedSymbols.isEmpty)
        let quiet = CollectingSink()  // the engine holds its sink unowned
        let restored = SignalEngine(settings: Self.settings, strategies: .defaults, sink: quiet)
        restored.restore(saved)
        XCTAssertEqual(restored.checkpoint().blockedSymbols, engine.checkpoint().blockedSymbols)
        XCTAssertEqual(restored.checkpoint().openOpportunities, engine.checkpoint().openOpportunities)
        XCTAssertEqual(restored.marketTime, engine.marketTime)
        XCTAssertGreaterThan(at, 0)
    }

    /// A checkpoint of another bar interval, or damaged, is refused with the reason.
    func testMismatchedOrDamagedCheckpointsAreRefused() throws {
        let sink = CollectingSink()
        let engine = SignalEngine(settings: Self.settings, strategies: .defaults, sink: sink)
        run(Self.inputs(count: 2_000, seed: 3)[...], on: engine)
        var w = BinaryWriter()
        engine.checkpoint().write(&w)
        var r = BinaryReader(w.bytes)
        XCTAssertThrowsError(try EngineCheckpoint(reading: &r, settings: EngineSettings(interval: BarInterval("1m")!))) {
            XCTAssertTrue("\($0)".contains("5s bars"), "\($0)")
        }
        for cut in [1, 9, w.bytes.count / 2, w.bytes.count - 1] {
            var torn = BinaryReader(Array(w.bytes[..<cut]))
            XCTAssertThrowsError(try EngineCheckpoint(reading: &torn, settings: Self.settings), "cut at \(cut)")
        }
    }

    /// The strategies in force go into the checkpoint and the input journal in the file's form:
    /// parsing it gives the same strategies, parameters and order.
    func testRegistryFileFormRoundTrips() throws {
        var registry = try StrategyRegistry.parse(Data(#"{"strategies":{"bollinger":{"mode":"breakout"},"volume_spike":{"enabled":false}},"rules":[{"name":"dip","when":"rsi_14 < 35 && close > ema_50","direction":"long","strength":0.7}]}"#.utf8))
        try registry.update("momentum_breakout", with: ["lookback": .int(30)])
        let back = try StrategyRegistry.parse(Data(registry.fileJSON))
        XCTAssertEqual(back.entries.map(\.strategy.name), registry.entries.map(\.strategy.name))
        XCTAssertEqual(back.entries.map(\.enabled), registry.entries.map(\.enabled))
        // The same settings (70 and 70.0 are one number), and a fixed point from the first round on.
        for (a, b) in zip(back.entries, registry.entries) {
            XCTAssertEqual(a.settings.mapValues { $0.number ?? .nan }.filter { !$0.value.isNaN },
                           b.settings.mapValues { $0.number ?? .nan }.filter { !$0.value.isNaN }, a.strategy.name)
            XCTAssertEqual(Set(a.settings.keys), Set(b.settings.keys), a.strategy.name)
        }
        XCTAssertEqual(try StrategyRegistry.parse(Data(back.fileJSON)).fileJSON, back.fileJSON)
        XCTAssertEqual(back.entries.first { $0.strategy.name == "momentum_breakout" }?.settings["lookback"]?.number, 30)
    }

    /// Inputs round-trip through their binary form.
    func testInputsRoundTrip() throws {
        for input in Self.inputs(count: 300, seed: 5) + [.tick(Tick(symbol: "BTC-USDT", ts: 1, price: 0.0001, volume: 0.5), wallMs: -1)] {
            var w = BinaryWriter()
            input.write(&w)
            XCTAssertEqual(try EngineInput(bytes: w.bytes), input)
        }
        XCTAssertThrowsError(try EngineInput(bytes: [9, 0, 0]))
        XCTAssertThrowsError(try EngineInput(bytes: [1, 0, 0, 0]))
    }
}
