import Contracts
import Foundation
@testable import Pipeline
import XCTest

/// Rules with parameterised indicators and strategy parameters: an SMA(fast)/SMA(slow)
/// crossover fires exactly where the two TA-Lib averages cross; identical calls share one
/// instance; bad parameters are refused at the column they are written; a change of
/// parameters keeps what still applies and warms new indicators on the held bars.
final class ParameterisedRuleTests: XCTestCase {
    private static let settings = EngineSettings(interval: BarInterval("1m")!)

    private func registry(_ json: String) throws -> StrategyRegistry {
        try StrategyRegistry.parse(Data(json.utf8))
    }

    /// One tick per minute: each bar's OHLC is that tick's price.
    private func ticks(_ closes: [Double]) -> [Tick] {
        closes.enumerated().map { Tick(symbol: "X", ts: Int64($0.offset) * 60_000, price: $0.element, volume: 100) }
    }

    /// A research run computes only what the strategies under test read (no fixed features for
    /// rules of indicator calls, no recent bars): the signals are the live engine's, one for one.
    func testResearchRunsComputeOnlyWhatIsReadAndSignalTheSame() throws {
        let bars = IndicatorFixtureTests.longSeries(count: 2_000, seed: 9)
        let files = [
            #"{"rules":[{"name":"calls","params":{"f":5,"s":20},"when":"crosses_above(sma(close,f), sma(close,s)) && close > prev(close,1)","direction":"long"}]}"#,
            #"{"rules":[{"name":"mixed","when":"rsi_14 < 50 || ema(close,9) > sma_20","direction":"long","exit_when":"ret_1 > 0.01"}]}"#,
        ]
        for (k, json) in files.enumerated() {
            var rules = try registry(json)
            for name in StrategyRegistry.builtinNames { try rules.update(name, with: ["enabled": .bool(false)]) }
            XCTAssertEqual(rules.readsFeatures, k == 1, json)
            XCTAssertFalse(rules.readsRecentBars)
            var research = Self.settings
            research.signalsOnly = true
            var signals: [[StrategySignal]] = []
            for settings in [Self.settings, research] {
                let sink = CollectingSink()
                let engine = SignalEngine(settings: settings, strategies: rules, sink: sink)
                for bar in bars { engine.process(bar: Bar(symbol: "X", interval: "1m", start: bar.start, open: bar.open, high: bar.high,
                                                          low: bar.low, close: bar.close, volume: bar.volume, vwap: bar.vwap, trades: 1)) }
                signals.append(sink.signals)
                XCTAssertEqual(sink.lines.contains { $0.contains("\"rsi_14\"") }, settings.signalsOnly == false || k == 1,
                               "features are computed in research runs only when read")
            }
            XCTAssertGreaterThan(signals[0].count, 5, json)
            XCTAssertEqual(signals[0].map(\.ts), signals[1].map(\.ts), json)
        }
    }

    func testSMACrossFiresWhereTheAveragesCross() throws {
        let closes = IndicatorFixtureTests.longSeries(count: 3_000, seed: 41).map(\.close)
        let rules = try registry(#"""
            {"strategies":{"rsi_reversal":{"enabled":false},"macd_cross":{"enabled":false},"bollinger":{"enabled":false},
                           "momentum_breakout":{"enabled":false},"volume_spike":{"enabled":false},"vwap_deviation":{"enabled":false}},
             "rules":[{"name":"sma_cross","params":{"fast":7,"slow":25},"when":"crosses_above(sma(close,fast), sma(close,slow))","direction":"long"},
                      {"name":"sma_uncross","params":{"fast":7,"slow":25},"when":"crosses_below(sma(close, fast), sma(close, slow))","direction":"short"}]}
            """#)
        XCTAssertEqual(rules.plan.instances.map(\.description), ["sma(close,7)", "sma(close,25)"], "four calls, two instances")
        let sink = CollectingSink()
        let engine = SignalEngine(settings: Self.settings, strategies: rules, sink: sink)
        for tick in ticks(closes) { engine.process(tick) }
        engine.finish()

        var fast = SMA(period: 7), slow = SMA(period: 25)
        var expected: [(ts: Int64, direction: Direction)] = []
        var previous: (Double, Double)?
        for (k, c) in closes.enumerated() {
            let f = fast.update(c), s = slow.update(c)
            if let f, let s, let (f0, s0) = previous {
                if f0 <= s0 && f > s { expected.append((Int64(k + 1) * 60_000, .long)) }
                if f0 >= s0 && f < s { expected.append((Int64(k + 1) * 60_000, .short)) }
            }
            if let f, let s { previous = (f, s) }
        }
        XCTAssertGreaterThan(expected.count, 40)
        XCTAssertEqual(sink.signals.map(\.ts), expected.map(\.ts))
        XCTAssertEqual(sink.signals.map(\.direction), expected.map(\.direction))
        XCTAssertEqual(Set(sink.signals.map(\.strategy)), ["sma_cross", "sma_uncross"])
    }

    func testIdenticalCallsShareOneInstance() throws {
        let rules = try registry(#"""
            {"rules":[{"name":"a","when":"close > sma(close,10) && macd(close,12,26,9) > 0","direction":"long"},
                      {"name":"b","when":"close < sma(close,10) && macd_hist(close,12,26,9) < 0 && bb_lower(close,20,2) < close","direction":"short"},
                      {"name":"c","enabled":false,"when":"close > wma(close,99)","direction":"long"}]}
            """#)
        XCTAssertEqual(rules.plan.instances.map(\.description), ["sma(close,10)", "macd(close,12,26,9)", "bb_upper(close,20,2)"],
                       "a disabled rule costs nothing")
        XCTAssertEqual(rules.plan.slots.count, 4)
    }

    func testBadParametersAreRefusedWithTheirColumn() {
        func message(_ when: String, params: String = "{}") -> String? {
            do {
                _ = try registry(#"{"rules":[{"name":"r","params":\#(params),"when":"\#(when)","direction":"long"}]}"#)
                return nil
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message("close > sma(close, 0)"), "rules[0].when: at column 20: n must be a whole number from 2 to 10000, got 0 in \"close > sma(close, 0)\"")
        XCTAssertEqual(message("sma(price, 5) > 1"), "rules[0].when: at column 5: x must be a bar field (open, high, low, close, volume, vwap), got price in \"sma(price, 5) > 1\"")
        XCTAssertEqual(message("sma(close, n) > 1", params: #"{"n": 20000}"#)?.contains("at column 12: n must be a whole number from 2 to 10000, got 20000"), true)
        XCTAssertEqual(message("bb_upper(close, 20, 0) > close")?.contains("at column 21: k must be a number > 0"), true)
        XCTAssertEqual(message("smma(close, 5) > 1")?.contains("at column 1: unknown function smma"), true)
        XCTAssertEqual(message("sma(close) > 1")?.contains("sma(x, n) takes 2 arguments, got 1"), true)
        XCTAssertEqual(message("close > fast"), "rules[0].when: at column 9: unknown name fast (known: " + RuleExpression.names.joined(separator: ", ") + ") in \"close > fast\"")
        XCTAssertEqual(message("close > 1", params: #"{"close": 5}"#)?.hasPrefix("rules[0].params.close: must be a name"), true)
        XCTAssertEqual(message("close > 1", params: #"{"fast": "5"}"#), "rules[0].params.fast: must be a number")
        XCTAssertNil(message("crosses_above(ema(close,fast) - ema(close,slow), 0)", params: #"{"fast": 12, "slow": 26}"#))
    }

    func testChangingParametersKeepsWhatAppliesAndWarmsUpTheRest() throws {
        let closes = IndicatorFixtureTests.longSeries(count: 400, seed: 5).map(\.close)
        let first = try registry(#"{"rules":[{"name":"x","params":{"fast":5,"slow":20},"when":"crosses_above(sma(close,fast), sma(close,slow))","direction":"long"}]}"#)
        let sink = CollectingSink()
        let engine = SignalEngine(settings: Self.settings, strategies: first, sink: sink)
        engine.history = { _ in sink.bars }  // the bars the server holds (here: every one)
        for tick in ticks(closes) { engine.process(tick) }
        let held = sink.bars.count
        var retuned = first
        try retuned.update("x", with: ["params": .object(["slow": .int(50)])])
        XCTAssertEqual(retuned.entries.last?.settings["params"], .object(["fast": .int(5), "slow": .int(50)]), "fast is kept")
        let kept = try XCTUnwrap(engine.symbols["X"]).bank.states[0]
        engine.strategies = retuned
        XCTAssertEqual(engine.lastWarmUpBars, held)
        let bank = try XCTUnwrap(engine.symbols["X"]).bank
        XCTAssertEqual(bank.plan.instances.map(\.description), ["sma(close,5)", "sma(close,50)"])
        XCTAssertEqual(bank.seen, [held, held], "the kept SMA(5) saw the same bars, the new SMA(50) was fed the held ones")
        if case .sma(let a, _) = kept, case .sma(let b, _) = bank.states[0] { XCTAssertEqual(a.total, b.total) } else { XCTFail() }
        var sma50 = SMA(period: 50)
        var last: Double?, beforeLast: Double?
        for c in closes.prefix(held) {
            beforeLast = last
            last = sma50.update(c)
        }
        XCTAssertEqual(bank.values[1], last)
        XCTAssertEqual(bank.previous[1], beforeLast)
    }
}
