import Contracts
import Foundation
import Pipeline
import XCTest

final class TriggerScenarioTests: XCTestCase {
    /// Signals, opportunities and alerts in the order the engine emits them.
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

    private static let start: Int64 = 1_732_500_000_000

    private func shippedRegistry() throws -> StrategyRegistry {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/strategies.json")
        return try StrategyRegistry.parse(Data(contentsOf: url))
    }

    /// Feeds `setup`, checks nothing has fired, feeds `closing`, and checks the target strategy
    /// signalled in the expected direction and opened (or updated) an opportunity that is not blocked.
    private func assertFires(_ scenario: TriggerScenario, registry: StrategyRegistry = .defaults, interval: String = "1s",
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let name = scenario.strategy
        let symbol = scenario.closing.symbol
        let barInterval = try XCTUnwrap(BarInterval(interval), file: file, line: line)
        let events = Events()
        let engine = SignalEngine(settings: EngineSettings(interval: barInterval), strategies: registry, sink: events)
        for tick in scenario.setup {
            XCTAssertEqual(engine.process(tick), .accepted, "\(name): \(tick)", file: file, line: line)
        }
        XCTAssertEqual(events.signals.map { "\($0.strategy) \($0.direction)" }, [],
                       "\(name): nothing may fire before the closing tick", file: file, line: line)
        XCTAssertEqual(events.opportunities.count, 0, "\(name)", file: file, line: line)
        let barsBefore = events.bars.count
        XCTAssertEqual(engine.process(scenario.closing), .accepted, "\(name)", file: file, line: line)

        XCTAssertEqual(events.bars.count, barsBefore + 1, "\(name): the closing tick closes exactly the firing bar",
                       file: file, line: line)
        let fired = events.signals.filter { $0.strategy == name }
        XCTAssertEqual(fired.map(\.direction), [scenario.expectedDirection],
                       "\(name): all signals \(events.signals.map { "\($0.strategy) \($0.direction)" })", file: file, line: line)
        XCTAssertEqual(fired.first?.ts, scenario.closing.ts, "\(name): signalled at the firing bar's close", file: file, line: line)
        XCTAssertEqual(fired.first?.symbol, symbol, file: file, line: line)
        XCTAssertFalse(events.signals.contains { $0.direction != scenario.expectedDirection },
                       "\(name): an opposite signal would expire the opportunity", file: file, line: line)
        let opportunity = events.opportunities.last { $0.symbol == symbol && $0.strategies.contains(name) }
        XCTAssertNotNil(opportunity, "\(name): no opportunity in \(events.opportunities)", file: file, line: line)
        if let o = opportunity {
            XCTAssertTrue(o.status == .new || o.status == .updated, "\(name): status \(o.status)", file: file, line: line)
            XCTAssertNotEqual(o.riskStatus, .blocked, "\(name): risk alerts \(o.riskAlerts)", file: file, line: line)
            XCTAssertEqual(o.direction, scenario.expectedDirection, "\(name)", file: file, line: line)
        }
        XCTAssertFalse(events.opportunities.contains { $0.status == .blocked || $0.status == .expired },
                       "\(name): \(events.opportunities.map(\.status))", file: file, line: line)
        XCTAssertEqual(events.alerts.filter { $0.severity != .info }.map(\.kind), [],
                       "\(name): the scenario raises no risk warnings", file: file, line: line)
    }

    func testEveryBuiltinFiresOnItsClosingTick() throws {
        for name in StrategyRegistry.builtinNames {
            let scenario = try XCTUnwrap(TriggerScenario.make(strategy: name, symbol: "TRIG.SH", startTs: Self.start), name)
            XCTAssertEqual(scenario.strategy, name)
            try assertFires(scenario)
        }
    }

    /// The shipped config adds rule strategies; they must not fire on the scenarios either.
    func testEveryBuiltinFiresWithTheShippedConfig() throws {
        let registry = try shippedRegistry()
        for name in StrategyRegistry.builtinNames {
            let scenario = try XCTUnwrap(TriggerScenario.make(strategy: name, symbol: "TRIG.SH", startTs: Self.start), name)
            try assertFires(scenario, registry: registry)
        }
    }

    func testTicksAreValidOrderedShortAndBarAligned() throws {
        let interval = try XCTUnwrap(BarInterval("1s"))
        for name in StrategyRegistry.builtinNames {
            let scenario = try XCTUnwrap(TriggerScenario.make(strategy: name, symbol: "TRIG.SH", startTs: Self.start), name)
            let ticks = scenario.setup + [scenario.closing]
            XCTAssertEqual(scenario.setup.first?.ts, Self.start, name)
            for tick in ticks {
                XCTAssertNil(tick.validate(), "\(name): \(tick)")
                XCTAssertGreaterThan(tick.volume, 0, name)
                XCTAssertEqual(tick.price, 100, accuracy: 3, "\(name): realistic prices around 100")
            }
            XCTAssertEqual(ticks.map(\.ts), ticks.map(\.ts).sorted(), "\(name): ticks in time order")
            for (a, b) in zip(ticks, ticks.dropFirst()) {
                XCTAssertLessThan(abs(b.price / a.price - 1), 0.025, "\(name): no tick may jump (the risk guard blocks at 5 %)")
            }
            let lastSetupBucket = interval.bucket(scenario.setup.last?.ts ?? 0)
            XCTAssertEqual(interval.bucket(scenario.closing.ts), lastSetupBucket + interval.milliseconds,
                           "\(name): the closing tick opens the bar right after the firing one")
            XCTAssertEqual(scenario.closing.ts, lastSetupBucket + interval.milliseconds, "\(name): at the bar boundary")
            let bars = Set(ticks.map { interval.bucket($0.ts) }).count
            XCTAssertLessThanOrEqual(bars, 120, name)
        }
    }

    func testUnknownOrRuleStrategiesAndBadTimesHaveNoScenario() {
        XCTAssertNil(TriggerScenario.make(strategy: "no_such_strategy", symbol: "TRIG.SH", startTs: Self.start))
        XCTAssertNil(TriggerScenario.make(strategy: "", symbol: "TRIG.SH", startTs: Self.start))
        XCTAssertNil(TriggerScenario.make(strategy: "RSI_REVERSAL", symbol: "TRIG.SH", startTs: Self.start), "names are exact")
        XCTAssertNil(TriggerScenario.make(strategy: "pullback_in_uptrend", symbol: "TRIG.SH", startTs: Self.start), "a rule strategy")
        XCTAssertNil(TriggerScenario.make(strategy: "macd_cross", symbol: "TRIG.SH", startTs: Self.start, intervalMs: 0))
        XCTAssertNil(TriggerScenario.make(strategy: "macd_cross", symbol: "TRIG.SH", startTs: Self.start, intervalMs: -1000))
        XCTAssertNil(TriggerScenario.make(strategy: "macd_cross", symbol: "TRIG.SH", startTs: -1))
        XCTAssertNil(TriggerScenario.make(strategy: "macd_cross", symbol: "TRIG.SH", startTs: .max - 10_000), "overflow")
        XCTAssertNil(TriggerScenario.make(strategy: "macd_cross", symbol: "TRIG.SH", startTs: Self.start, intervalMs: .max / 10))
    }

    /// Placing moves every tick by the same whole number of bars and keeps what fires.
    func testPlacedAtAnotherBoundary() throws {
        let scenario = try XCTUnwrap(TriggerScenario.make(strategy: "macd_cross", symbol: "TRIG.SH", startTs: 0))
        let boundary: Int64 = 1_764_000_123_000
        let placed = try XCTUnwrap(scenario.placed(closingAt: boundary))
        XCTAssertEqual(placed.closing.ts, boundary)
        XCTAssertEqual(zip(placed.setup, scenario.setup).map { $0.ts - $1.ts }, Array(repeating: boundary - scenario.closing.ts, count: scenario.setup.count))
        XCTAssertEqual(placed.setup.map(\.price), scenario.setup.map(\.price))
        try assertFires(placed)
        XCTAssertNil(scenario.placed(closingAt: scenario.closing.ts - scenario.setup[0].ts - 1000), "a tick before 1970")
        XCTAssertNil(scenario.placed(closingAt: -1))
        XCTAssertNotNil(scenario.placed(closingAt: .max / 2))
    }

    /// Two symbols get the same prices and times under their own names, and fed interleaved
    /// into one engine each fires on its own.
    func testSymbolsAreIndependent() throws {
        for name in StrategyRegistry.builtinNames {
            let a = try XCTUnwrap(TriggerScenario.make(strategy: name, symbol: "AAA.SH", startTs: Self.start))
            let b = try XCTUnwrap(TriggerScenario.make(strategy: name, symbol: "BBB.SZ", startTs: Self.start))
            XCTAssertTrue((a.setup + [a.closing]).allSatisfy { $0.symbol == "AAA.SH" }, name)
            XCTAssertTrue((b.setup + [b.closing]).allSatisfy { $0.symbol == "BBB.SZ" }, name)
            XCTAssertEqual(a.setup.map(\.ts), b.setup.map(\.ts), name)
            XCTAssertEqual(a.setup.map(\.price), b.setup.map(\.price), name)
            XCTAssertEqual(a.setup.map(\.volume), b.setup.map(\.volume), name)
            XCTAssertEqual(a.closing.ts, b.closing.ts, name)
            XCTAssertEqual(a.expectedDirection, b.expectedDirection, name)
            let again = try XCTUnwrap(TriggerScenario.make(strategy: name, symbol: "AAA.SH", startTs: Self.start))
            XCTAssertEqual(again.setup, a.setup, "\(name): deterministic")
            XCTAssertEqual(again.closing, a.closing, "\(name): deterministic")

            let events = Events()
            let interval = try XCTUnwrap(BarInterval("1s"))
            let engine = SignalEngine(settings: EngineSettings(interval: interval), strategies: .defaults, sink: events)
            for (x, y) in zip(a.setup, b.setup) {
                engine.process(x)
                engine.process(y)
            }
            XCTAssertTrue(events.signals.isEmpty, name)
            engine.process(a.closing)
            engine.process(b.closing)
            for symbol in ["AAA.SH", "BBB.SZ"] {
                let signals = events.signals.filter { $0.symbol == symbol && $0.strategy == name }
                XCTAssertEqual(signals.map(\.direction), [a.expectedDirection], "\(name) on \(symbol)")
                let opportunity = events.opportunities.last { $0.symbol == symbol && $0.strategies.contains(name) }
                XCTAssertEqual(opportunity?.status, .new, "\(name) on \(symbol)")
                XCTAssertEqual(opportunity?.riskStatus, .ok, "\(name) on \(symbol)")
            }
        }
    }

    /// Any start time works: a current epoch, one between bar boundaries (the ticks start at the
    /// next boundary) and one-minute bars.
    func testOtherStartTimesAndIntervals() throws {
        let cases: [(start: Int64, interval: String, ms: Int64, first: Int64)] = [
            (1_764_000_000_000, "1s", 1000, 1_764_000_000_000),
            (1_764_000_000_123, "1s", 1000, 1_764_000_001_000),
            (1_764_000_000_000, "1m", 60_000, 1_764_000_000_000),
            (1_764_000_012_345, "1m", 60_000, 1_764_000_060_000),
            (0, "250ms", 250, 0),
        ]
        for c in cases {
            for name in StrategyRegistry.builtinNames {
                let scenario = try XCTUnwrap(TriggerScenario.make(strategy: name, symbol: "NOW.SZ", startTs: c.start, intervalMs: c.ms))
                XCTAssertEqual(scenario.setup.first?.ts, c.first, "\(name) from \(c.start)")
                try assertFires(scenario, interval: c.interval)
            }
        }
    }
}
