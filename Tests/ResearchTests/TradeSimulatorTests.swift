import Contracts
import Pipeline
import Research
import XCTest

final class TradeSimulatorTests: XCTestCase {
    static let day: Int64 = 86_400_000

    /// Bars from (open, high, low, close) tuples, one a day.
    static func bars(_ ohlc: [(Double, Double, Double, Double)]) -> [Bar] {
        ohlc.enumerated().map { i, p in
            Bar(symbol: "X", interval: "1d", start: Int64(i) * day, open: p.0, high: p.1, low: p.2, close: p.3, volume: 1,
                vwap: p.3, trades: 0)
        }
    }

    static func flat(_ prices: [Double]) -> [Bar] { bars(prices.map { ($0, $0, $0, $0) }) }

    private func run(_ bars: [Bar], _ signals: [(Int, Direction)], exit: RuleExit = RuleExit(), holds: [Bool] = [],
                     settings: TradeSettings = TradeSettings()) -> Simulation {
        let recorded = signals.map { RecordedSignal(strategy: 0, symbol: 0, bar: $0.0, direction: $0.1, strength: 0.5) }
        return TradeSimulator.run(bars: bars[...], signals: recorded[...], exit: exit, exitHolds: holds[...], strategy: 0, symbol: 0,
                                  settings: settings)
    }

    func testSignalsFillAtTheNextOpenAndReverse() {
        // Opens differ from closes so a fill at the wrong price shows.
        let bars = Self.bars([(10, 10, 10, 10), (11, 12, 10, 12), (13, 13, 12, 12), (14, 15, 14, 15), (16, 16, 15, 15), (17, 17, 17, 17)])
        let sim = run(bars, [(0, .long), (1, .long), (2, .short), (5, .long)])
        XCTAssertEqual(sim.trades.count, 2)
        let (a, b) = (sim.trades[0], sim.trades[1])
        XCTAssertEqual([a.entryBar, a.exitBar], [1, 3], "long from bar 1's open, closed by the short of bar 2 at bar 3's open")
        XCTAssertEqual([a.entryPrice, a.exitPrice], [11, 14])
        XCTAssertEqual(a.ret, 14.0 / 11 - 1, accuracy: 1e-15)
        XCTAssertEqual(a.exitReason, .signal)
        XCTAssertEqual(b.direction, .short)
        XCTAssertEqual([b.entryBar, b.exitBar], [3, 5], "reversed at the same open; the signal on the last bar never fills")
        XCTAssertEqual([b.entryPrice, b.exitPrice], [14, 17])
        XCTAssertEqual(b.exitReason, .end)
        XCTAssertEqual(b.ret, 1 - 17.0 / 14, accuracy: 1e-15)
        XCTAssertEqual(sim.equity.last!, (14.0 / 11) * (2 - 17.0 / 14), accuracy: 1e-12, "equity compounds over the trades")
        XCTAssertEqual(sim.equity[0], 1, "flat before the first fill")
        XCTAssertEqual(sim.equity[1], 12.0 / 11, accuracy: 1e-15, "marked at the close")
        XCTAssertEqual(sim.barsInMarket, 5)
    }

    func testLongOnlyShortSignalsOnlyClose() {
        let sim = run(Self.flat([10, 11, 12, 13, 14, 15]), [(0, .short), (1, .long), (2, .short), (3, .long)],
                      settings: { var s = TradeSettings(); s.longOnly = true; return s }())
        XCTAssertEqual(sim.trades.map(\.direction), [.long, .long])
        XCTAssertEqual(sim.trades.map(\.entryBar), [2, 4])
        XCTAssertEqual(sim.trades.map(\.exitBar), [3, 5])
    }

    func testExitRuleAndHoldBars() {
        var rule = RuleExit()
        rule.holdBars = 2
        let held = run(Self.flat([10, 11, 12, 13, 14, 15, 16]), [(0, .long), (4, .long)], exit: rule)
        XCTAssertEqual(held.trades.map(\.entryBar), [1, 5])
        XCTAssertEqual(held.trades.map(\.exitBar), [3, 6], "held 2 bars, then out at the next open; the last one at the end")
        XCTAssertEqual(held.trades.map(\.exitReason), [.holdBars, .end])
        // exit_when holds on bar 3's close: out at bar 4's open; holding on bar 0 (before the entry) does nothing.
        let ruled = run(Self.flat([10, 11, 12, 13, 14, 15]), [(0, .long)], holds: [true, false, false, true, false, false])
        XCTAssertEqual(ruled.trades.first?.exitBar, 4)
        XCTAssertEqual(ruled.trades.first?.exitReason, .exitRule)
        // It is checked on the entry bar's close too.
        let sameBar = run(Self.flat([10, 11, 12, 13]), [(0, .long)], holds: [false, true, false, false])
        XCTAssertEqual(sameBar.trades.first.map { [$0.entryBar, $0.exitBar] }, [1, 2])
    }

    func testStopsAndTakesFillAtTheLevelOrTheGappedOpen() {
        var exit = RuleExit()
        exit.stopPct = 10
        exit.takePct = 20
        // Entry at 100 (bar 1): bar 2 touches 89 intrabar → stop at 90.
        let touched = run(Self.bars([(100, 100, 100, 100), (100, 105, 95, 100), (99, 101, 89, 95)]), [(0, .long)], exit: exit)
        XCTAssertEqual(touched.trades.first?.exitPrice, 90)
        XCTAssertEqual(touched.trades.first?.exitReason, .stop)
        // Bar 2 opens at 80, below the stop: filled at the open.
        let gapped = run(Self.bars([(100, 100, 100, 100), (100, 105, 95, 100), (80, 85, 79, 84)]), [(0, .long)], exit: exit)
        XCTAssertEqual(gapped.trades.first?.exitPrice, 80)
        // Both touched in one bar: the stop.
        let both = run(Self.bars([(100, 100, 100, 100), (100, 125, 85, 100)]), [(0, .long)], exit: exit)
        XCTAssertEqual(both.trades.first?.exitReason, .stop)
        XCTAssertEqual(both.trades.first?.exitBar, 1, "checked on the entry bar")
        // Opening beyond the take fills at the open even if the bar later falls through the stop.
        let takeGap = run(Self.bars([(100, 100, 100, 100), (100, 101, 99, 100), (130, 131, 80, 90)]), [(0, .long)], exit: exit)
        XCTAssertEqual(takeGap.trades.first?.exitPrice, 130)
        XCTAssertEqual(takeGap.trades.first?.exitReason, .take)
        // A short's take is below the entry.
        let short = run(Self.bars([(100, 100, 100, 100), (100, 101, 99, 100), (95, 96, 79, 85)]), [(0, .short)], exit: exit)
        XCTAssertEqual(short.trades.first?.exitPrice, 80)
        XCTAssertEqual(short.trades.first?.ret ?? 0, 0.2, accuracy: 1e-12)
    }

    func testCostsAndSlippageAreChargedOnEachSide() {
        var settings = TradeSettings()
        settings.costBps = 10
        settings.slippageBps = 5
        let sim = run(Self.flat([100, 100, 110, 110]), [(0, .long), (1, .short)], settings: settings)
        let longTrade = sim.trades[0]
        XCTAssertEqual(longTrade.entryPrice, 100 * 1.0005, accuracy: 1e-12)
        XCTAssertEqual(longTrade.exitPrice, 110 * 0.9995, accuracy: 1e-12)
        XCTAssertEqual(longTrade.ret, 0.999 * 0.999 * (110 * 0.9995) / (100 * 1.0005) - 1, accuracy: 1e-12)
        XCTAssertEqual(sim.trades[1].entryPrice, 110 * 0.9995, accuracy: 1e-12, "a short sells below the open")
    }

    func testMetricsOfAKnownCurve() {
        let m = Metrics(equity: [1.1, 0.99, 1.21, 1.089], trades: [0.1, -0.1, 0.2, -0.05], barsInMarket: 3, years: 1,
                        periodsPerYear: 4)
        XCTAssertEqual(m.totalReturn, 0.089, accuracy: 1e-12)
        XCTAssertEqual(m.cagr!, 0.089, accuracy: 1e-12)
        XCTAssertEqual(m.maxDrawdown, 0.1, accuracy: 1e-12, "1.1 → 0.99")
        XCTAssertEqual(m.maxDrawdownBars, 1)
        let r = [0.1, -0.1, 2.0 / 9 * 1.0, -0.1]
        let mean = r.reduce(0, +) / 4
        let sd = (r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        XCTAssertEqual(m.sharpe!, mean / sd * 2, accuracy: 1e-9)
        XCTAssertEqual(m.sortino!, mean / ((0.01 + 0.01) / 4).squareRoot() * 2, accuracy: 1e-9)
        XCTAssertEqual(m.winRate, 0.5)
        XCTAssertEqual(m.profitFactor!, 0.3 / 0.15, accuracy: 1e-12)
        XCTAssertEqual(m.exposure, 0.75)
        let none = Metrics(equity: [1, 1], trades: [], barsInMarket: 0, years: 1, periodsPerYear: 252)
        XCTAssertNil(none.winRate)
        XCTAssertNil(none.sharpe, "no variation, no Sharpe")
        XCTAssertNil(none.profitFactor)
    }

    func testHorizonScores() {
        let score = HorizonScore(bars: 5, samples: [(0.2, -0.01), (0.5, 0.02), (0.5, 0.03), (0.9, 0.05)])
        XCTAssertEqual(score.count, 4)
        XCTAssertEqual(score.hitRate, 0.75)
        XCTAssertEqual(score.meanBps!, 225, accuracy: 1e-9)
        XCTAssertEqual(score.medianBps!, 250, accuracy: 1e-9)
        let r = [-0.01, 0.02, 0.03, 0.05], mean = 0.0225
        let sd = (r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        XCTAssertEqual(score.tStat!, mean / (sd / 2), accuracy: 1e-9)
        // Ranks of strength: 1, 2.5, 2.5, 4; of returns 1, 2, 3, 4 → Pearson of the ranks.
        XCTAssertEqual(score.rankCorrelation!, 4.5 / (4.5 * 5).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(HorizonScore(bars: 1, samples: []).hitRate)
        XCTAssertNil(HorizonScore(bars: 1, samples: [(0.5, 0.01), (0.5, 0.02), (0.5, 0.03)]).rankCorrelation, "constant strength")
    }
}
