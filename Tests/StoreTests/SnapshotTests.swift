import Contracts
import Foundation
import Pipeline
import Store
import XCTest

final class SnapshotTests: XCTestCase {
    func testRoundTripAndColdStartsOnAnotherVersionOrInterval() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-snapshot-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bars: [Bar] = []
        for i in 0..<60 {
            let symbol = i % 2 == 0 ? "600519.SH" : "000001.SZ"
            let start: Int64 = 1_732_500_000_000 + Int64(i / 2) * 1000
            let high: Double = 101 + Double(i % 7)
            let close: Double = 100 + Double(i % 5) * 0.25
            bars.append(Bar(symbol: symbol, interval: "1s", start: start, open: 100, high: high, low: 99, close: close,
                            volume: 1000, vwap: 100.1, trades: 3))
        }
        guard case .cold(let none) = Snapshot.read(from: dir, interval: "1s") else { return XCTFail("no snapshot yet") }
        XCTAssertTrue(none.contains("no snapshot"))
        let open = Opportunity(seq: 41, id: "600519.SH-long-1732500000000", symbol: "600519.SH", direction: .long, status: .updated,
                               confidence: 0.82, price: 1688.5, strategies: ["macd_cross", "rsi_reversal"], signalCount: 2,
                               createdTs: 1_732_500_000_000, updatedTs: 1_732_500_010_000, expiresTs: 1_732_500_310_000)
        let aggregator = OpportunityAggregator.Saved(open: [(open, ["macd_cross": 0.4, "rsi_reversal": 0.7])],
                                                     cooldowns: ["000001.SZ|short": 1_732_500_060_000])
        try Snapshot.write(bars: bars, interval: "1s", aggregator: aggregator, to: dir)
        guard case .bars(let back, let savedBack) = Snapshot.read(from: dir, interval: "1s") else { return XCTFail("snapshot not read") }
        XCTAssertEqual(back, bars)
        XCTAssertEqual(savedBack, aggregator, "open episodes with their strengths, and cool-downs, come back")
        guard case .cold(let other) = Snapshot.read(from: dir, interval: "1m") else { return XCTFail("another interval must start cold") }
        XCTAssertTrue(other.contains("1s bars"), other)
        let path = (dir as NSString).appendingPathComponent(Snapshot.fileName)
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"version\":2", with: "\"version\":99")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        guard case .cold(let version) = Snapshot.read(from: dir, interval: "1s") else { return XCTFail("another version must start cold") }
        XCTAssertTrue(version.contains("version 99"), version)
    }

    /// Warming the engine with bars gives the same features as having processed them live.
    func testWarmEngineMatchesOneThatSawTheBars() throws {
        final class Sink: EngineSink {
            var features: [Features] = []
            func engine(tick: Tick) {}
            func engine(bar: Bar) {}
            func engine(features f: Features) { features.append(f) }
            func engine(signal: StrategySignal) {}
            func engine(opportunity: Opportunity) {}
            func engine(alert: RiskAlert) {}
        }
        var simulator = MarketSimulator(ticksPerSecond: 200, seed: 9, startMs: 1_732_500_000_000)
        let ticks = (0..<20_000).map { _ in simulator.next() }.filter { $0.symbol == "600519.SH" }
        let live = Sink()
        let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: live)
        var bars: [Bar] = []
        final class BarSink: EngineSink {
            var bars: [Bar] = []
            func engine(tick: Tick) {}
            func engine(bar: Bar) { bars.append(bar) }
            func engine(features: Features) {}
            func engine(signal: StrategySignal) {}
            func engine(opportunity: Opportunity) {}
            func engine(alert: RiskAlert) {}
        }
        let barSink = BarSink()
        let recorder = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: barSink)
        for t in ticks { engine.process(t); recorder.process(t) }
        bars = barSink.bars
        let warmSink = Sink()
        let warm = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: warmSink)
        let warmed = warm.warm(with: bars)
        XCTAssertEqual(warmed.count, bars.count)
        XCTAssertEqual(warmed.last, live.features.last, "the same indicator state as the engine that saw every bar")
        XCTAssertNotNil(warmed.last?.ema50)
    }

    /// A restart through a snapshot (bars + aggregator) continues like no restart: the same
    /// opportunity events with the same ids, confidence and strategies (episodes open at shutdown
    /// go on). The risk guard restarts from bars (its active alerts are not kept), so risk
    /// statuses (updated vs blocked) and alert seqs may differ.
    func testRestartThroughASnapshotContinuesLikeNoRestart() throws {
        final class Recorder: EngineSink {
            var bars: [Bar] = []
            var opportunities: [Opportunity] = []
            func engine(tick: Tick) {}
            func engine(bar: Bar) { bars.append(bar) }
            func engine(features: Features) {}
            func engine(signal: StrategySignal) {}
            func engine(opportunity: Opportunity) { opportunities.append(opportunity) }
            func engine(alert: RiskAlert) {}
        }
        let settings = EngineSettings(interval: BarInterval("1s")!)
        var simulator = MarketSimulator(ticksPerSecond: 200, seed: 5, startMs: 1_732_500_000_000)
        let ticks = (0..<60_000).map { _ in simulator.next() }
        // Split where a new 1 s bucket starts, as a shutdown closes the open bars.
        var split = 30_000
        while split < ticks.count && ticks[split].ts / 1000 == ticks[split - 1].ts / 1000 { split += 1 }
        let whole = Recorder()
        let a = SignalEngine(settings: settings, strategies: .defaults, sink: whole)
        for t in ticks { a.process(t) }

        let before = Recorder()
        let b = SignalEngine(settings: settings, strategies: .defaults, sink: before)
        for t in ticks[..<split] { b.process(t) }
        b.finish()  // graceful shutdown closes the open bars
        let after = Recorder()
        let c = SignalEngine(settings: settings, strategies: .defaults, sink: after, lastSeq: b.seq)
        c.warm(with: before.bars)
        c.aggregatorState = b.aggregatorState
        for t in ticks[split...] { c.process(t) }

        let restarted = before.opportunities + after.opportunities
        XCTAssertGreaterThan(after.opportunities.count, 5)
        let key = { (o: Opportunity) in
            "\(o.id) \(o.status == .expired ? "expired" : "open") \(o.confidence) \(o.signalCount) \(o.strategies)"
        }
        XCTAssertEqual(restarted.map(key), whole.opportunities.map(key))
        XCTAssertEqual(restarted.map(\.seq), restarted.map(\.seq).sorted(), "seq keeps increasing across the restart")
        XCTAssertEqual(Set(restarted.map(\.seq)).count, restarted.count)
        let idsBefore = Set(before.opportunities.map(\.id))
        XCTAssertTrue(after.opportunities.contains { idsBefore.contains($0.id) }, "an episode open at shutdown goes on under its id")
    }
}
