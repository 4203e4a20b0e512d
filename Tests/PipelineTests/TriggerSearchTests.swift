import Contracts
import Foundation
import Pipeline
import XCTest

/// `TriggerSearch`: ticks that make any strategy fire, found against the whole registry a server
/// runs (the shipped strategies plus the rule under test), checked in a fresh engine.
final class TriggerSearchTests: XCTestCase {
    private final class Events: EngineSink {
        var signals: [StrategySignal] = []
        var opportunities: [Opportunity] = []
        var alerts: [RiskAlert] = []
        var bars: [Bar] = []
        func engine(tick: Tick) {}
        func engine(bar: Bar) { bars.append(bar) }
        func engine(features: Features) {}
        func engine(signal: StrategySignal) { signals.append(signal) }
        func engine(opportunity: Opportunity) { opportunities.append(opportunity) }
        func engine(alert: RiskAlert) { alerts.append(alert) }
    }

    private static let shipped: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Config/strategies.json")

    /// The shipped strategies file with `rules` added (as a server started with it would run).
    private func registry(adding rules: [(name: String, when: String, direction: String)] = []) throws -> StrategyRegistry {
        var root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.shipped)) as? [String: Any])
        var list = root["rules"] as? [[String: Any]] ?? []
        for r in rules { list.append(["name": r.name, "when": r.when, "direction": r.direction, "strength": 0.5]) }
        root["rules"] = list
        return try StrategyRegistry.parse(JSONSerialization.data(withJSONObject: root))
    }

    /// Searches, then replays the ticks found (placed at a current time) through a fresh engine:
    /// the strategy must signal once, on the closing tick, and open a new opportunity.
    @discardableResult
    private func assertFound(_ strategy: String, in registry: StrategyRegistry, interval: String = "1s", seed: UInt64 = 1,
                             file: StaticString = #filePath, line: UInt = #line) throws -> TriggerSearch.Found? {
        let barInterval = try XCTUnwrap(BarInterval(interval), file: file, line: line)
        let result = TriggerSearch.find(strategy: strategy, symbol: "TRIG.SH", registry: registry, interval: barInterval,
                                        limits: TriggerSearch.Limits(seed: seed))
        let found: TriggerSearch.Found
        switch result {
        case .success(let f): found = f
        case .failure(let failure):
            XCTFail("\(strategy): \(failure)", file: file, line: line)
            return nil
        }
        print("trigger search \(strategy) (\(interval)): \(found.candidates) candidates, \(String(format: "%.3f", found.cpuSeconds)) s CPU, \(found.scenario.setup.count + 1) ticks\(found.handMade ? ", hand-made" : "")")
        let boundary: Int64 = 1_764_000_000_000 / barInterval.milliseconds * barInterval.milliseconds
        let scenario = try XCTUnwrap(found.scenario.placed(closingAt: boundary), file: file, line: line)
        XCTAssertEqual(scenario.closing.ts, boundary, file: file, line: line)
        let events = Events()
        let engine = SignalEngine(settings: EngineSettings(interval: barInterval), strategies: registry, sink: events)
        let ticks = scenario.setup + [scenario.closing]
        for (a, b) in zip(ticks, ticks.dropFirst()) {
            XCTAssertLessThan(abs(b.price / a.price - 1), 0.05, "\(strategy): no tick may jump 5 %", file: file, line: line)
        }
        for tick in ticks {
            XCTAssertNil(tick.validate(), "\(strategy): \(tick)", file: file, line: line)
            XCTAssertEqual(engine.process(tick), .accepted, file: file, line: line)
        }
        XCTAssertLessThanOrEqual(Set(ticks.map { barInterval.bucket($0.ts) }).count, 121, file: file, line: line)
        let fired = events.signals.filter { $0.strategy == strategy }
        XCTAssertEqual(fired.map(\.ts), [boundary], "\(strategy): one signal, at the closing tick", file: file, line: line)
        XCTAssertEqual(fired.first?.direction, scenario.expectedDirection, file: file, line: line)
        let opened = events.opportunities.first { $0.strategies.contains(strategy) }
        XCTAssertEqual(opened?.status, .new, "\(strategy): \(events.opportunities.map { "\($0.strategies) \($0.status)" })",
                       file: file, line: line)
        XCTAssertEqual(opened?.id, "TRIG.SH-\(scenario.expectedDirection.rawValue)-\(boundary)", file: file, line: line)
        XCTAssertEqual(opened?.direction, scenario.expectedDirection, file: file, line: line)
        XCTAssertFalse(events.opportunities.contains { $0.id == opened?.id && $0.status == .expired }, file: file, line: line)
        return found
    }

    func testFindsPathsForTheShippedRules() throws {
        let registry = try registry()
        for name in ["pullback_in_uptrend", "ema_trend_cross_down"] {
            try assertFound(name, in: registry)
        }
    }

    func testFindsPathsForOtherRules() throws {
        let rules: [(name: String, when: String, direction: String)] = [
            ("cross_up", "crosses_above(ema_12, ema_26)", "long"),
            ("close_under_sma", "crosses_below(close, sma_20) && ret_1 < 0", "short"),
            ("rebound_below_mid", "crosses_above(close, ema_12) && close < bb_middle", "long"),
            ("strong_bar", "close > open * 1.01", "long"),
            ("volume_burst", "volume_z_20 > 2", "long"),
            ("stretched", "rsi_14 > 70 || close < bb_lower", "short"),
            ("below_average", "!(close > sma_20)", "short"),
            ("above_ema50", "close > ema_50 && ret_1 > 0.005", "long"),
            ("wide_bar", "high - low > 2 * atr_14", "long"),
            ("price_level", "close > 150", "long"),
            ("cheap", "close < 50", "short"),
            ("heavy", "volume > 100000", "long"),
        ]
        for rule in rules { try assertFound(rule.name, in: registry(adding: [rule])) }
    }

    func testImpossibleRulesFailQuicklyNamingThePart() throws {
        let rules: [(name: String, when: String, direction: String, part: String)] = [
            ("negative_close", "close < 0", "long", "`close < 0` was never true"),
            ("rsi_above_100", "rsi_14 > 100", "short", "`rsi_14 > 100` was never true; closest: rsi_14 ="),
            ("contradiction", "rsi_14 < 40 && rsi_14 > 60 && ema_12 > ema_26", "long", "was never true while"),
            // macd_cross signals long on the same bar, earlier in the registry: never a new opportunity.
            ("macd_twin", "crosses_above(macd, macd_signal)", "long", "other strategies signalled long before it (macd_cross"),
        ]
        let registry = try registry(adding: rules.map { ($0.name, $0.when, $0.direction) })
        let interval = try XCTUnwrap(BarInterval("1s"))
        for rule in rules {
            let start = Date()
            let result = TriggerSearch.find(strategy: rule.name, symbol: "TRIG.SH", registry: registry, interval: interval,
                                            limits: TriggerSearch.Limits(cpuSeconds: 0.5))
            guard case .failure(let failure) = result else { XCTFail("\(rule.name) fired"); continue }
            print("trigger search \(rule.name): \(failure)")
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, rule.name)
            XCTAssertTrue(failure.message.contains(rule.part), failure.message)
            XCTAssertTrue(failure.message.contains(rule.name), failure.message)
        }
    }

    /// The hand-made paths come first, checked against the registry as given: a built-in whose
    /// parameters they no longer suit is searched for, and one that cannot fire is explained.
    func testBuiltinsWithTheServersParameters() throws {
        let changed = try StrategyRegistry.parse(Data(#"{"strategies":{"bollinger":{"mode":"breakout"},"momentum_breakout":{"lookback":50},"vwap_deviation":{"threshold":0.01}}}"#.utf8))
        for name in StrategyRegistry.builtinNames {
            let found = try XCTUnwrap(assertFound(name, in: changed), name)
            XCTAssertEqual(found.handMade, !["momentum_breakout", "vwap_deviation"].contains(name), name)
            if name == "bollinger" { XCTAssertEqual(found.scenario.expectedDirection, .long, "a breakout is a long") }
        }
        // A 20-bar z-score never exceeds √19 ≈ 4.36, so a threshold of 10 cannot be met.
        let strict = try StrategyRegistry.parse(Data(#"{"strategies":{"volume_spike":{"threshold":10}}}"#.utf8))
        let result = TriggerSearch.find(strategy: "volume_spike", symbol: "TRIG.SH", registry: strict, interval: try XCTUnwrap(BarInterval("1s")),
                                        limits: TriggerSearch.Limits(cpuSeconds: 2))
        guard case .failure(let failure) = result else { return XCTFail("volume_spike fired with threshold 10") }
        XCTAssertTrue(failure.message.contains("`volume_z_20 >= 10.0` was never true; closest: volume_z_20 = 4.3"), failure.message)
    }

    /// The same seed and strategies give the same ticks; another seed may give others.
    func testDeterministicPerSeed() throws {
        let registry = try registry()
        let interval = try XCTUnwrap(BarInterval("1s"))
        func ticks(_ seed: UInt64) throws -> [Tick] {
            guard case .success(let found) = TriggerSearch.find(strategy: "pullback_in_uptrend", symbol: "TRIG.SH", registry: registry,
                                                                 interval: interval, limits: TriggerSearch.Limits(seed: seed)) else {
                XCTFail("seed \(seed)")
                return []
            }
            return found.scenario.setup + [found.scenario.closing]
        }
        XCTAssertEqual(try ticks(7), try ticks(7))
        XCTAssertEqual(try ticks(1), try ticks(1))
        try assertFound("pullback_in_uptrend", in: registry, seed: 7)
    }

    /// Minute bars: the same search, ticks a minute apart.
    func testOtherIntervals() throws {
        let registry = try registry()
        for interval in ["1m", "250ms"] {
            for name in ["pullback_in_uptrend", "ema_trend_cross_down"] { try assertFound(name, in: registry, interval: interval) }
        }
    }

    func testUnknownOrDisabledStrategies() throws {
        let registry = try StrategyRegistry.parse(Data(#"{"strategies":{"macd_cross":{"enabled":false}}}"#.utf8))
        let interval = try XCTUnwrap(BarInterval("1s"))
        for (name, message) in [("astrology", "no strategy astrology"), ("macd_cross", "macd_cross is disabled")] {
            guard case .failure(let failure) = TriggerSearch.find(strategy: name, symbol: "TRIG.SH", registry: registry, interval: interval) else {
                XCTFail(name)
                continue
            }
            XCTAssertEqual(failure.message, message)
            XCTAssertEqual(failure.candidates, 0)
        }
    }
}
