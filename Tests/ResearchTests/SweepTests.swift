import Contracts
import Foundation
import Pipeline
import Research
import XCTest

final class SweepTests: XCTestCase {
    static let rule = """
        {"name":"sma_cross","params":{"fast":10,"slow":30},"when":"crosses_above(sma(close,fast),sma(close,slow))",
         "exit_when":"crosses_below(sma(close,fast),sma(close,slow))","direction":"long"}
        """

    func testGridsParseAndBadOnesAreRefusedByName() throws {
        XCTAssertEqual(try SweepParameter("fast=5:30:5").values, [5, 10, 15, 20, 25, 30])
        XCTAssertEqual(try SweepParameter("k=0.1:0.3:0.1").values, [0.1, 0.2, 0.3], "no drift from adding 0.1")
        XCTAssertEqual(try SweepParameter("slow=40,20,40").values, [40, 20])
        XCTAssertEqual(try SweepParameter("n=7").values, [7])
        for (bad, says) in [("fast=30:5:5", "--param fast: the range 30:5:5 is empty"), ("fast=5:30:0", "is empty"),
                            ("fast", "write name=start:stop:step"), ("fast=a,b", "values must be numbers"),
                            ("fast=1:2", "write name="), ("fast=0:1e9:1", "over 10,000 values")] {
            XCTAssertThrowsError(try SweepParameter(bad), bad) { XCTAssertTrue("\($0)".contains(says), "\(bad): \($0)") }
        }
    }

    func testSweepRefusesUnknownParametersAndHugeGrids() throws {
        let registry = try BacktestTests.registry(Self.rule)
        let bars = BacktestTests.walk(100)
        func sweep(_ grid: [String], strategy: String = "sma_cross") throws -> SweepResult {
            try Sweep.run(bars: bars, interval: BarInterval("1d")!, registry: registry, strategy: strategy,
                          grid: grid.map { try SweepParameter($0) }, settings: SweepSettings())
        }
        XCTAssertThrowsError(try sweep(["fats=1:3:1"])) { XCTAssertTrue("\($0)".contains("sma_cross has no parameter fats (it has: fast, slow)"), "\($0)") }
        XCTAssertThrowsError(try sweep(["fast=1:200:1", "slow=1:100:1"])) { XCTAssertTrue("\($0)".contains("20000 combinations"), "\($0)") }
        XCTAssertThrowsError(try sweep(["fast=1:2:1"], strategy: "nope")) { XCTAssertTrue("\($0)".contains("no strategy nope"), "\($0)") }
        // n = 1 is below SMA's minimum: refused by the rule, the rest still run.
        let result = try sweep(["fast=1:3:1"])
        XCTAssertEqual(result.rows.count, 2)
        XCTAssertEqual(result.invalid.map(\.values), [[1]])
    }

    /// Combinations share one engine (and its indicators) per thread: each row must equal a
    /// backtest of that combination alone, on the training part and on the held-out tail.
    func testEveryRowEqualsItsOwnBacktestAndThreadsDoNotMatter() throws {
        let registry = try BacktestTests.registry(Self.rule)
        let bars = BacktestTests.walk(1200, seed: 3)
        var settings = SweepSettings()
        settings.trainFraction = 0.7
        settings.metric = .totalReturn
        let grid = [try SweepParameter("fast=4:12:4"), try SweepParameter("slow=20,30,40")]
        settings.jobs = 1
        let one = try Sweep.run(bars: bars, interval: BarInterval("1d")!, registry: registry, strategy: "sma_cross", grid: grid, settings: settings)
        settings.jobs = 3
        let three = try Sweep.run(bars: bars, interval: BarInterval("1d")!, registry: registry, strategy: "sma_cross", grid: grid, settings: settings)
        XCTAssertEqual(one.rows.map(\.values), three.rows.map(\.values))
        XCTAssertEqual(one.rows.map(\.train), three.rows.map(\.train))
        XCTAssertEqual(one.rows.count, 9)
        let returns = one.rows.map(\.train.totalReturn)
        XCTAssertEqual(returns, returns.sorted(by: >), "ranked best first")
        let split = Int((Double(bars.count) * 0.7).rounded())
        for row in one.rows {
            var alone = registry
            try alone.update("sma_cross", with: ["params": .object(["fast": .double(row.values[0]), "slow": .double(row.values[1])])])
            let trades = Backtest.run(bars: bars, registry: alone, interval: BarInterval("1d")!, settings: BacktestSettings()).trades
            // The training part trades the signals before the split; a trade still open there closes at its last close.
            let trainTrades = trades.filter { $0.entryBar < split }
            XCTAssertEqual(row.train.trades, trainTrades.count, "\(row.values)")
            let closedInside = trainTrades.filter { $0.exitBar < split && $0.exitReason != .end }
            let compounded = closedInside.reduce(1.0) { $0 * (1 + $1.ret) }
            if closedInside.count == trainTrades.count {
                XCTAssertEqual(row.train.totalReturn, compounded - 1, accuracy: 1e-12, "\(row.values)")
            }
            XCTAssertNotNil(row.test)
        }
    }

    func testBuiltInSettingsSweepAndTheHeatmap() throws {
        let bars = BacktestTests.walk(800, seed: 9)
        var settings = SweepSettings()
        settings.walkForward = 2
        let result = try Sweep.run(bars: bars, interval: BarInterval("1d")!, registry: StrategyRegistry.defaults, strategy: "rsi_reversal",
                                   grid: [try SweepParameter("oversold=20:40:10"), try SweepParameter("overbought=30:70:20")],
                                   settings: settings)
        // oversold must be below overbought: (30, 30) and (40, 30) are refused.
        XCTAssertEqual(Set(result.invalid.map(\.values)), [[30, 30], [40, 30]])
        XCTAssertEqual(result.rows.count, 7)
        XCTAssertEqual(result.foldWinners.count, 2)
        let svg = try XCTUnwrap(SweepReport.heatmap(result))
        XCTAssertEqual(svg.components(separatedBy: "<rect").count - 1, 9, "one cell per grid point, refused ones grey")
        XCTAssertTrue(svg.contains("#e5e7eb"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(SweepReport.json(result))) as? [String: Any])
        XCTAssertEqual((json["results"] as? [Any])?.count, 7)
        XCTAssertEqual((json["walk_forward"] as? [Any])?.count, 2)
        XCTAssertEqual((json["invalid"] as? [Any])?.count, 2)
        let csv = SweepReport.csv(result).split(separator: "\n")
        XCTAssertEqual(csv.count, 8)
        XCTAssertEqual(csv[0], "rank,oversold,overbought,train_sharpe,train_total_return,train_max_drawdown,train_trades")
    }
}
