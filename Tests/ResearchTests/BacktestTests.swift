import Contracts
import Foundation
import Pipeline
import Research
import XCTest

final class BacktestTests: XCTestCase {
    /// A seeded random walk of daily bars with gaps between a close and the next open.
    static func walk(_ count: Int, seed: UInt64 = 7, symbol: String = "WALK") -> [Bar] {
        var state = seed
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var price = 100.0
        return (0..<count).map { i in
            let open = price * (1 + (uniform() - 0.5) * 0.01)
            let close = open * (1 + (uniform() - 0.5) * 0.04)
            price = close
            return Bar(symbol: symbol, interval: "1d", start: 1_600_000_000_000 + Int64(i) * 86_400_000, open: open,
                       high: max(open, close) * 1.004, low: min(open, close) * 0.996, close: close, volume: 1000,
                       vwap: close, trades: 0)
        }
    }

    static func registry(_ rules: String) throws -> StrategyRegistry {
        let off = StrategyRegistry.builtinNames.map { "\"\($0)\":{\"enabled\":false}" }.joined(separator: ",")
        return try StrategyRegistry.parse(Data("{\"strategies\":{\(off)},\"rules\":[\(rules)]}".utf8))
    }

    func testSMACrossTradesAreTheCrossesOfTheBars() throws {
        let bars = Self.walk(400)
        let registry = try Self.registry("""
            {"name":"sma_cross","params":{"fast":5,"slow":20},"when":"crosses_above(sma(close,fast),sma(close,slow))",
             "exit_when":"crosses_below(sma(close,fast),sma(close,slow))","direction":"long"}
            """)
        let result = Backtest.run(bars: bars, registry: registry, interval: BarInterval("1d")!, settings: BacktestSettings())
        // The crosses, computed here from the closes.
        func sma(_ i: Int, _ n: Int) -> Double? { i + 1 >= n ? bars[(i + 1 - n)...i].map(\.close).reduce(0, +) / Double(n) : nil }
        var expected: [(Int, Int)] = []
        var entry: Int?
        for i in 1..<bars.count {
            guard let f = sma(i, 5), let s = sma(i, 20), let pf = sma(i - 1, 5), let ps = sma(i - 1, 20) else { continue }
            let up = pf <= ps && f > s, down = pf >= ps && f < s
            if let e = entry, down, i >= e, i + 1 < bars.count {
                expected.append((e, i + 1))
                entry = nil
            } else if entry == nil, up, i + 1 < bars.count {
                entry = i + 1
            }
        }
        if let e = entry { expected.append((e, bars.count - 1)) }
        XCTAssertGreaterThan(expected.count, 5)
        XCTAssertEqual(result.trades.map(\.entryBar), expected.map(\.0))
        XCTAssertEqual(result.trades.map(\.exitBar), expected.map(\.1))
        for t in result.trades {
            XCTAssertEqual(t.entryPrice, bars[t.entryBar].open)
            XCTAssertEqual(t.ret, (t.exitReason == .end ? bars[t.exitBar].close : bars[t.exitBar].open) / t.entryPrice - 1,
                           accuracy: 1e-12)
        }
        let compounded = result.trades.reduce(1.0) { $0 * (1 + $1.ret) } - 1
        XCTAssertEqual(result.runs[0].metrics.totalReturn, compounded, accuracy: 1e-12)
        XCTAssertEqual(result.buyAndHold[0].totalReturn, bars.last!.close / bars[0].close - 1, accuracy: 1e-12)
    }

    func testJSONIsTheSameBytesEveryRunAndHoldsEverySection() throws {
        let bars = Self.walk(300, seed: 1) + Self.walk(300, seed: 2, symbol: "OTHER")
        let registry = StrategyRegistry.defaults
        var settings = BacktestSettings()
        settings.trade.costBps = 5
        let prepared = try BarSeries.prepare(bars, interval: nil)
        let a = BacktestJSON.encode(Backtest.run(bars: prepared.bars, registry: registry, interval: prepared.interval, settings: settings),
                                    input: [("file", .string("x.csv"))])
        let b = BacktestJSON.encode(Backtest.run(bars: prepared.bars, registry: registry, interval: prepared.interval, settings: settings),
                                    input: [("file", .string("x.csv"))])
        XCTAssertEqual(a, b)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(a)) as? [String: Any])
        let trades = try XCTUnwrap(object["trades"] as? [[String: Any]])
        XCTAssertFalse(trades.isEmpty)
        XCTAssertEqual(Set(trades[0].keys), ["strategy", "symbol", "direction", "entry_ts", "entry_price", "exit_ts", "exit_price",
                                             "return", "bars", "exit_reason"])
        let metrics = try XCTUnwrap(object["metrics"] as? [[String: Any]])
        XCTAssertEqual(metrics.count, 6 * 2, "every built-in on both symbols")
        XCTAssertNotNil(metrics[0]["buy_and_hold"] as? [String: Any])
        let cards = try XCTUnwrap(object["scorecard"] as? [[String: Any]])
        XCTAssertEqual(cards.count, 6 * 3, "each strategy over all symbols, then per symbol")
        XCTAssertEqual((cards[0]["horizons"] as? [[String: Any]])?.map { $0["bars"] as? Int }, [1, 5, 20])
    }

    func testReportIsSelfContainedWithEveryChart() throws {
        let result = Backtest.run(bars: Self.walk(500), registry: StrategyRegistry.defaults, interval: BarInterval("1d")!,
                                  settings: BacktestSettings())
        let html = BacktestHTML.render(result, title: "walk <&>")
        for chart in ["price", "equity", "drawdown", "hitrate"] { XCTAssertTrue(html.contains("data-chart=\"\(chart)\""), chart) }
        XCTAssertTrue(html.contains("walk &lt;&amp;&gt;"))
        for external in ["<script", "src=", "href=", "@import", "url("] { XCTAssertFalse(html.contains(external), external) }
        XCTAssertEqual(html.components(separatedBy: "class=\"entry\"").count - 1, result.trades.count)
    }
}
