import Contracts
import Foundation
import Pipeline
import XCTest

final class MarketSimulatorTests: XCTestCase {
    /// What a new user sees in the first two minutes: signals from most strategies and
    /// opportunities (the ten-minute picture, alert rates included, is SimulatorRealismTests').
    func testSignalsAndOpportunitiesWithinTwoMinutes() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/strategies.json")
        let registry = try StrategyRegistry.parse(Data(contentsOf: url))
        for seed: UInt64 in [20_241_125, 1, 2] {
            var simulator = MarketSimulator(seed: seed, startMs: 1_732_500_000_000)
            let sink = CollectingSink()
            let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: registry, sink: sink)
            for _ in 0..<(simulator.ticksPerSecond * 120) {
                let tick = simulator.next()
                XCTAssertNil(tick.validate(), "the simulator must produce valid ticks")
                engine.process(tick)
            }
            let fired = Set(sink.signals.map(\.strategy))
            XCTAssertGreaterThanOrEqual(fired.count, 6, "seed \(seed): \(fired.sorted())")
            XCTAssertGreaterThan(Set(sink.opportunities.map(\.id)).count, 10, "seed \(seed)")
        }
    }

    /// Rates above 1000 ticks/s are real: market time advances 1000/rate ms per tick, so several
    /// ticks may share a millisecond (a load generator's fan-out depends on it).
    func testRatesAboveOneThousandTicksPerSecond() {
        var simulator = MarketSimulator(ticksPerSecond: 5000, seed: 3, startMs: 0)
        var last: Int64 = 0
        for _ in 0..<5000 { last = max(last, simulator.next().ts) }
        XCTAssertEqual(Double(last), 1000, accuracy: 5, "5000 ticks at 5000/s span one second of market time")
    }

    func testDeterministicForASeed() {
        var a = MarketSimulator(seed: 7, startMs: 0)
        var b = MarketSimulator(seed: 7, startMs: 0)
        for _ in 0..<10_000 { XCTAssertEqual(a.next(), b.next()) }
        var c = MarketSimulator(seed: 8, startMs: 0)
        XCTAssertNotEqual((0..<100).map { _ in a.next().price }, (0..<100).map { _ in c.next().price })
    }
}
