// libFuzzer target: the strategy rule-expression parser (PUT /api/v1/strategies/{name} and the
// strategies file). Properties: any text either parses or throws a RuleParseError whose column
// lies inside the text, and a parsed rule evaluates on bars with and without history (features
// null while warming up, zero and huge values) without trapping — its parameterised indicators
// (`sma(close,fast)`, with `fast` a parameter) run in a bank over bars of zero, tiny and huge
// prices first.
import FuzzDriver
import Glibc
import Contracts
import Pipeline

func features(_ close: Double, filled: Bool) -> Features {
    var f = Features(symbol: "F.UZZ", interval: "1s", ts: 1_732_500_000_000, close: close)
    guard filled else { return f }
    f.sma20 = close; f.ema12 = close * 1.01; f.ema26 = 0; f.ema50 = -close; f.rsi14 = 100
    f.macd = 1e308; f.macdSignal = -1e308; f.macdHist = .ulpOfOne; f.bbUpper = close; f.bbMiddle = close
    f.bbLower = 0; f.atr14 = 0; f.stddev20 = 0; f.ret1 = -1; f.vwap20 = close; f.volumeZ20 = 0
    return f
}

let fuzz: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt = { start, count in
    let source = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    let rule: RuleExpression
    var plan = IndicatorPlan()
    do {
        rule = try RuleExpression(source, parameters: ["fast": 3, "slow": 8, "k": 2.5], plan: &plan)
    } catch let error as RuleParseError {
        precondition(error.position >= 0 && error.position <= source.count + 1, "error column \(error.position) outside the text")
        return 0
    } catch {
        preconditionFailure("an error that is not a RuleParseError: \(error)")
    }
    let bar = Bar(symbol: "F.UZZ", interval: "1s", start: 1_732_500_000_000, open: 10, high: 12, low: 0.5, close: 11,
                  volume: 0, vwap: 11, trades: 1)
    _ = rule.holds(RuleInput(features: features(11, filled: true), previous: nil, bar: bar, previousBar: nil))
    _ = rule.holds(RuleInput(features: features(11, filled: false), previous: features(10, filled: false), bar: bar, previousBar: bar))
    _ = rule.holds(RuleInput(features: features(11, filled: true), previous: features(1e-300, filled: true), bar: bar, previousBar: bar))
    var bank = IndicatorBank(plan: plan)
    for (i, price) in [11.0, 11, 1e-300, 0.5, 1e300, 11, 11, 12, 3, 11].enumerated() {
        bank.update(Bar(symbol: "F.UZZ", interval: "1s", start: Int64(i) * 1_000, open: price, high: price * 2, low: price / 2,
                        close: price, volume: Double(i % 3) * 1e9, vwap: price, trades: 1))
    }
    _ = rule.holds(RuleInput(features: features(11, filled: true), previous: features(10, filled: true), bar: bar, previousBar: bar,
                             values: bank.values, previousValues: bank.previous))
    return 0
}
exit(FuzzDriver.run(fuzz))
