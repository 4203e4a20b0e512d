import Contracts
import Foundation
import Pipeline
import XCTest

final class StrategyTests: XCTestCase {
    private func features(close: Double, _ set: (inout Features) -> Void = { _ in }) -> Features {
        var f = Features(symbol: "A", interval: "1m", ts: 0, close: close)
        set(&f)
        return f
    }

    private func bar(_ close: Double, volume: Double = 100) -> Bar {
        Bar(symbol: "A", interval: "1m", start: 0, open: close, high: close, low: close, close: close, volume: volume, vwap: close, trades: 1)
    }

    private func input(_ now: Features, _ before: Features?) -> RuleInput {
        RuleInput(features: now, previous: before, bar: bar(now.close), previousBar: before.map { bar($0.close) })
    }

    func testRuleExpressionsEvaluate() throws {
        let now = features(close: 105) { $0.rsi14 = 28; $0.ema50 = 100; $0.ema12 = 11; $0.ema26 = 10 }
        let before = features(close: 99) { $0.rsi14 = 25; $0.ema50 = 100; $0.ema12 = 9; $0.ema26 = 10 }
        let cases: [(String, Bool)] = [
            ("rsi_14 < 30 && close > ema_50", true),
            ("rsi_14 < 30 && close < ema_50", false),
            ("!(rsi_14 >= 30) || sma_20 > 0", true),
            ("(close - ema_50) / ema_50 * 100 >= 5", true),
            ("-rsi_14 + 2 * 14 == 0", true),
            ("crosses_above(ema_12, ema_26)", true),
            ("crosses_below(ema_12, ema_26)", false),
            ("sma_20 > 0", false),                 // warming up: missing, so false
            ("close / (rsi_14 - 28) > 0", false),  // division by zero is missing, not infinity
            ("1.5e1 > 14 && volume == 100", true),
        ]
        for (source, expected) in cases {
            XCTAssertEqual(try RuleExpression(source).holds(input(now, before)), expected, source)
        }
        XCTAssertFalse(try RuleExpression("crosses_above(ema_12, ema_26)").holds(input(now, nil)), "no previous bar, no cross")
    }

    func testRuleParseErrorsNameThePosition() {
        let cases: [(String, Int, String)] = [
            ("rsi_14 < 30 &&", 15, "unexpected end"),
            ("rsi < 30", 1, "unknown name rsi"),
            ("rsi_14 < 30 $ close", 13, "unexpected character"),
            ("crosses_above(ema_12)", 21, "expected ,"),
            ("foo(ema_12, ema_26)", 1, "unknown function foo"),
            ("(close > 1", 11, "expected )"),
            ("close > 1 2", 11, "unexpected"),
        ]
        for (source, column, fragment) in cases {
            XCTAssertThrowsError(try RuleExpression(source), source) { error in
                let e = error as? RuleParseError
                XCTAssertEqual(e?.position, column, "\(source): \(String(describing: e))")
                XCTAssertTrue(e?.message.contains(fragment) ?? false, "\(source): \(String(describing: e))")
            }
        }
    }

    /// Regression (Fuzz/FuzzRules, corpus regression-deep-nesting): thousands of `(` overflowed
    /// the stack. Nesting and length are bounded, with the column of the first step too far.
    func testDeepOrLongRulesAreRefusedNotACrash() throws {
        let deep = String(repeating: "(", count: 5000) + "close" + String(repeating: ")", count: 5000)
        for (source, column, fragment) in [
            (deep, 33, "nested more than 32 deep"),
            (String(repeating: "!", count: 100_000) + "close", 33, "nested more than 32 deep"),
            (String(repeating: "- ", count: 40) + "close", 65, "nested more than 32 deep"),
            ((0..<300).map { _ in "close" }.joined(separator: " + "), 256 * 8 + 1, "more than 256 terms"),
        ] {
            XCTAssertThrowsError(try RuleExpression(source)) { error in
                let e = error as? RuleParseError
                XCTAssertEqual(e?.position, column, String(describing: e))
                XCTAssertTrue(e?.message.contains(fragment) ?? false, String(describing: e))
            }
        }
        // Up to the bounds a rule still parses and evaluates.
        let nested = try RuleExpression(String(repeating: "(", count: 31) + "close > 1" + String(repeating: ")", count: 31))
        let long = try RuleExpression((0..<255).map { _ in "close" }.joined(separator: " + ") + " > 0")
        let bar = Bar(symbol: "A.SH", interval: "1s", start: 0, open: 2, high: 2, low: 2, close: 2, volume: 1, vwap: 2, trades: 1)
        let input = RuleInput(features: Features(symbol: "A.SH", interval: "1s", ts: 0, close: 2), previous: nil, bar: bar, previousBar: nil)
        XCTAssertTrue(nested.holds(input))
        XCTAssertTrue(long.holds(input))
    }

    func testBuiltinsFireOnTheirEdges() {
        let recent = RecentBars()
        func run(_ s: any Strategy, _ now: Features, _ before: Features?) -> StrategyVerdict? {
            s.evaluate(StrategyContext(input: input(now, before), recent: recent))
        }
        let rsiUp = run(RSIReversal(), features(close: 1) { $0.rsi14 = 31 }, features(close: 1) { $0.rsi14 = 22; $0.movedBars14 = 14 })
        XCTAssertEqual(rsiUp?.direction, .long)
        XCTAssertEqual(rsiUp?.strength ?? 0, 0.9, accuracy: 1e-12)
        XCTAssertNil(run(RSIReversal(), features(close: 1) { $0.rsi14 = 31 }, features(close: 1) { $0.rsi14 = 32; $0.movedBars14 = 14 }))
        XCTAssertEqual(run(RSIReversal(), features(close: 1) { $0.rsi14 = 69 }, features(close: 1) { $0.rsi14 = 75; $0.movedBars14 = 7 })?.direction, .short)
        // A reading that rests on a price that barely moved (a flat stretch just ended) is no edge.
        XCTAssertNil(run(RSIReversal(), features(close: 1) { $0.rsi14 = 31 }, features(close: 1) { $0.rsi14 = 0; $0.movedBars14 = 6 }))
        XCTAssertEqual(run(MACDCross(), features(close: 10) { $0.macd = 1; $0.macdSignal = 0.5 },
                           features(close: 10) { $0.macd = 0.4; $0.macdSignal = 0.5 })?.direction, .long)
        let below = features(close: 90) { $0.bbUpper = 110; $0.bbLower = 95 }
        let inside = features(close: 100) { $0.bbUpper = 110; $0.bbLower = 95 }
        XCTAssertEqual(run(BollingerStrategy(), below, inside)?.direction, .long)
        var breakout = BollingerStrategy()
        breakout.mode = .breakout
        XCTAssertEqual(run(breakout, below, inside)?.direction, .short)
        XCTAssertNil(run(BollingerStrategy(), below, below), "only on the crossing bar")
        XCTAssertEqual(run(VolumeSpike(), features(close: 1) { $0.volumeZ20 = 4; $0.ret1 = -0.01 },
                           features(close: 1) { $0.volumeZ20 = 1 })?.direction, .short)
        XCTAssertNil(run(VolumeSpike(), features(close: 1) { $0.volumeZ20 = 4; $0.ret1 = 0.01 },
                         features(close: 1) { $0.volumeZ20 = 3.5 }), "one signal per spike")
        XCTAssertEqual(run(VWAPDeviation(), features(close: 99) { $0.vwap20 = 100 },
                           features(close: 100) { $0.vwap20 = 100 })?.direction, .long)
    }

    func testRegistryFromTheCommittedConfig() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/strategies.json")
        var registry = try StrategyRegistry.parse(try Data(contentsOf: url))
        XCTAssertEqual(registry.entries.map(\.strategy.name),
                       StrategyRegistry.builtinNames + ["pullback_in_uptrend", "ema_trend_cross_down", "sma_cross"])
        XCTAssertEqual(registry.enabled.count, 8, "sma_cross ships disabled")
        XCTAssertTrue(registry.plan.instances.isEmpty, "a disabled rule's indicators are not run")
        try registry.update("rsi_reversal", with: ["enabled": .bool(false), "oversold": .int(25)])
        XCTAssertEqual(registry.enabled.count, 7)
        XCTAssertEqual(registry.entries[0].settings["oversold"], .int(25))
        XCTAssertEqual(registry.entries[0].settings["overbought"], .int(70), "other settings are kept")
        XCTAssertThrowsError(try registry.update("nope", with: [:]))
        try registry.update("pullback_in_uptrend", with: ["when": .string("rsi_14 < 20")])
        XCTAssertThrowsError(try registry.update("pullback_in_uptrend", with: ["when": .string("rsi_14 <")])) {
            XCTAssertEqual(($0 as? StrategyConfigError)?.key, "strategies.pullback_in_uptrend.when")
        }
    }

    /// A built-in lists every parameter in force, given or not (GET /api/v1/strategies), and a
    /// registry parsed back from those settings is the same.
    func testBuiltinSettingsIncludeTheirDefaults() throws {
        let registry = try StrategyRegistry.parse(Data(#"{"strategies":{"rsi_reversal":{"oversold":25}}}"#.utf8))
        let settings = Dictionary(uniqueKeysWithValues: registry.entries.map { ($0.strategy.name, $0.settings) })
        XCTAssertEqual(settings["rsi_reversal"], ["oversold": .int(25), "overbought": .double(70)], "as given, then the defaults")
        XCTAssertEqual(settings["macd_cross"], [:])
        XCTAssertEqual(settings["bollinger"], ["mode": .string("mean_reversion")])
        XCTAssertEqual(settings["momentum_breakout"], ["lookback": .int(20)])
        XCTAssertEqual(settings["volume_spike"], ["threshold": .double(3)])
        XCTAssertEqual(settings["vwap_deviation"], ["threshold": .double(0.005)])
        var w = JSONWriter()
        w.beginObject()
        w.beginObject("strategies")
        for (name, s) in settings.sorted(by: { $0.key < $1.key }) {
            w.beginObject(name)
            for (k, v) in s.sorted(by: { $0.key < $1.key }) {
                switch v {
                case .int(let i): w.int(k, i)
                case .double(let d): w.double(k, d)
                case .string(let t): w.string(k, t)
                default: XCTFail("\(k): \(v)")
                }
            }
            w.endObject()
        }
        w.endObject()
        w.endObject()
        let again = try StrategyRegistry.parse(Data(w.bytes))
        func values(_ r: StrategyRegistry) -> [[String: String]] {
            r.entries.map { $0.settings.mapValues { $0.number.map { String($0) } ?? String(describing: $0) } }
        }
        XCTAssertEqual(values(again), values(registry))
        XCTAssertEqual((again.entries[0].strategy as? RSIReversal)?.oversold, 25)
    }

    /// A parsed rule keeps its parts with their source text, each evaluating as in the whole.
    func testRuleTermsKeepTheirTextAndValues() throws {
        let rule = try RuleExpression("rsi_14 < 40 && ( ema_12 > ema_26 || !crosses_below(macd, macd_signal) ) && close > open * 1.01")
        let term = rule.term
        XCTAssertEqual(term.kind, .and)
        XCTAssertEqual(term.text, rule.source)
        XCTAssertEqual(term.operands.map(\.text), ["rsi_14 < 40 && ( ema_12 > ema_26 || !crosses_below(macd, macd_signal) )",
                                                   "close > open * 1.01"])
        let or = term.operands[0].operands[1]
        XCTAssertEqual(or.kind, .or)
        XCTAssertEqual(or.text, "ema_12 > ema_26 || !crosses_below(macd, macd_signal)", "without its parentheses")
        XCTAssertEqual(or.operands[1].kind, .not)
        XCTAssertEqual(or.operands[1].operands[0].kind, .cross(above: false))
        XCTAssertEqual(or.operands[1].operands[0].operands.map(\.text), ["macd", "macd_signal"])
        XCTAssertEqual(term.operands[1].operands.map(\.kind), [.name("close"), .arithmetic("*")])
        XCTAssertEqual(term.names, ["rsi_14", "ema_12", "ema_26", "macd", "macd_signal", "close", "open"])
        let now = features(close: 102) { $0.rsi14 = 35; $0.ema12 = 101; $0.ema26 = 100 }
        let bar = Bar(symbol: "A", interval: "1m", start: 0, open: 100, high: 102, low: 100, close: 102, volume: 100, vwap: 101, trades: 4)
        let i = RuleInput(features: now, previous: nil, bar: bar, previousBar: nil)
        XCTAssertEqual(term.operands[1].value(i), 1, "102 > 100 · 1.01 (open is the bar's)")
        XCTAssertEqual(term.operands[0].operands[0].value(i), 1)
        XCTAssertEqual(or.operands[1].value(i), nil, "no previous bar: the cross is missing, and so its negation")
        XCTAssertEqual(term.value(i), 1)
        XCTAssertTrue(rule.holds(i))
    }

    func testRegistryErrorsNameTheKey() {
        let cases: [(String, String)] = [
            (#"{"strategies":{"rsi_reversal":{"oversold":"low"}}}"#, "strategies.rsi_reversal.oversold"),
            (#"{"strategies":{"rsi_reversal":{"oversold":true}}}"#, "strategies.rsi_reversal.oversold"),
            (#"{"strategies":{"rsi_reversal":{"oversold":80}}}"#, "strategies.rsi_reversal.oversold"),
            (#"{"strategies":{"rsi_reversal":{"enabled":1}}}"#, "strategies.rsi_reversal.enabled"),
            (#"{"strategies":{"rsi_reversal":{"oversld":20}}}"#, "strategies.rsi_reversal.oversld"),
            (#"{"strategies":{"turtle":{}}}"#, "strategies.turtle"),
            (#"{"rules":[{"name":"x","when":"rsi_14 <","direction":"long"}]}"#, "rules[0].when"),
            (#"{"rules":[{"name":"x","when":"rsi_14 < 3","direction":"up"}]}"#, "rules[0].direction"),
            (#"{"rules":[{"name":"macd_cross","when":"rsi_14 < 3","direction":"long"}]}"#, "rules[0].name"),
            (#"{"rulez":[]}"#, "rulez"),
            (#"{"#, "(file)"),
        ]
        for (json, key) in cases {
            XCTAssertThrowsError(try StrategyRegistry.parse(Data(json.utf8)), json) {
                XCTAssertEqual(($0 as? StrategyConfigError)?.key, key, json)
            }
        }
    }
}
