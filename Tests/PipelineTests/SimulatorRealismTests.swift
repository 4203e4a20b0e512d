import Contracts
import Foundation
import Markets
import Pipeline
import XCTest

/// What a trader sees from the built-in market over ten minutes at the default rate (200
/// ticks/s, 1 s bars, the shipped strategies): a few risk alerts a minute, not hundreds; fewer
/// than a quarter of opportunities blocked; every strategy heard from; prices that move like
/// stocks (no 40 % minute) — with venue clocks on an A-share morning and with them off.
final class SimulatorRealismTests: XCTestCase {
    func testTenMinutesOfTheDefaultMarket() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/strategies.json")
        let registry = try StrategyRegistry.parse(Data(contentsOf: url))
        let morning: Int64 = 1_741_053_600_000  // Tuesday 2025-03-04 10:00 in Shanghai
        let on = try MarketDirectory.builtin(zones: .system)
        for (name, markets, instruments) in [("markets off", MarketDirectory.off, MarketSimulator.defaultInstruments),
                                             ("markets on", on, MarketSimulator.defaultInstruments + MarketSimulator.otherMarkets)] {
            for seed: UInt64 in [20_241_125, 1, 2] {
                var settings = EngineSettings(interval: BarInterval("1s")!)
                settings.markets = markets
                var simulator = MarketSimulator(instruments: instruments, seed: seed, startMs: morning, markets: markets)
                let sink = CollectingSink()
                let engine = SignalEngine(settings: settings, strategies: registry, sink: sink)
                var firstPrice: [String: Double] = [:], worstMinute = 0.0
                var minuteStart: [String: (Int64, Double)] = [:]
                for _ in 0..<(simulator.ticksPerSecond * 600) {
                    let tick = simulator.next()
                    XCTAssertNil(tick.validate())
                    XCTAssertNil(markets.violation(tick), "\(tick)")
                    if firstPrice[tick.symbol] == nil { firstPrice[tick.symbol] = tick.price }
                    if let (t, p) = minuteStart[tick.symbol], tick.ts - t >= 60_000 {
                        worstMinute = max(worstMinute, abs(tick.price / p - 1))
                        minuteStart[tick.symbol] = (tick.ts, tick.price)
                    } else if minuteStart[tick.symbol] == nil {
                        minuteStart[tick.symbol] = (tick.ts, tick.price)
                    }
                    engine.process(tick)
                }
                let alerts = sink.alerts.count
                var seen = Set<String>()
                let episodes = sink.opportunities.filter { seen.insert($0.id).inserted }
                let blocked = Double(episodes.filter { $0.status == .blocked }.count) / Double(max(1, episodes.count))
                let fired = Set(sink.signals.map(\.strategy))
                let kinds = Dictionary(grouping: sink.alerts, by: \.kind).mapValues(\.count)
                print("\(name) seed \(seed): \(alerts) alerts in 10 min \(kinds), \(episodes.count) opportunities, \(Int(blocked * 100)) % blocked, worst minute move \(String(format: "%.2f", worstMinute * 100)) %, strategies \(fired.count)")
                XCTAssertLessThanOrEqual(alerts, 100, "\(name) seed \(seed): a few alerts a minute (\(kinds))")
                XCTAssertLessThan(blocked, 0.25, "\(name) seed \(seed)")
                XCTAssertLessThan(worstMinute, 0.05, "\(name) seed \(seed): no 5 % minute")
                XCTAssertEqual(fired, Set(registry.enabled.map(\.name)), "\(name) seed \(seed)")
            }
        }
    }
}
