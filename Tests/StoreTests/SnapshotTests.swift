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
        try Snapshot.write(bars: bars, interval: "1s", to: dir)
        guard case .bars(let back) = Snapshot.read(from: dir, interval: "1s") else { return XCTFail("snapshot not read") }
        XCTAssertEqual(back, bars)
        guard case .cold(let other) = Snapshot.read(from: dir, interval: "1m") else { return XCTFail("another interval must start cold") }
        XCTAssertTrue(other.contains("1s bars"), other)
        let path = (dir as NSString).appendingPathComponent(Snapshot.fileName)
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"version\":1", with: "\"version\":99")
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
}
