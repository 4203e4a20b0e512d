import Contracts
import Foundation
import Markets
@testable import Pipeline
import XCTest

/// A-share daily limits from the previous close: the band as the exchanges round it, a long at
/// the up-limit marked untradable with a price_limit alert, the previous day's close carried
/// into the next day, and the venue's price grid and lots refused at ingest by field.
final class PriceLimitTests: XCTestCase {
    private func ms(_ text: String) -> Int64 { try! BarCSV.parseTime(text).get() }

    private func markets(_ reference: String = "") throws -> MarketDirectory {
        let dir = NSTemporaryDirectory() + "limits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ("symbol,prev_close,st\n" + reference).write(toFile: dir + "/r.csv", atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return try MarketDirectory.load(json: Data(#"{"reference_file": "r.csv"}"#.utf8), zones: .system, baseDirectory: dir)
    }

    func testBandsByBoardAndRounding() throws {
        let m = try markets("600145.SH,2.31,st\n")
        XCTAssertEqual(m.band("600519.SH", previousClose: 1688.50).map { [$0.up, $0.down] }, [1857.35, 1519.65])
        XCTAssertEqual(m.band("000001.SZ", previousClose: 10.52).map { [$0.up, $0.down] }, [11.57, 9.47])
        XCTAssertEqual(m.limitFraction("688981.SH"), 0.2)
        XCTAssertEqual(m.limitFraction("300750.SZ"), 0.2)
        XCTAssertEqual(m.limitFraction("830799.BJ"), 0.3)
        XCTAssertEqual(m.limitFraction("600145.SH"), 0.05, "ST from the reference data")
        XCTAssertNil(m.limitFraction("0700.HK"))
        XCTAssertNil(m.limitFraction("AAPL"))
        XCTAssertNil(MarketDirectory.off.limitFraction("600519.SH"))
        XCTAssertThrowsError(try markets("600519.SH,abc\n")) { XCTAssertTrue("\($0)".contains("r.csv line 2")) }
    }

    func testALongAtTheUpLimitIsUntradableAndTheBandFollowsTheDays() throws {
        var settings = EngineSettings(interval: BarInterval("1m")!)
        settings.markets = try markets("600519.SH,100.00\n")
        let rules = try StrategyRegistry.parse(Data(#"""
            {"strategies":{"rsi_reversal":{"enabled":false},"macd_cross":{"enabled":false},"bollinger":{"enabled":false},
                           "momentum_breakout":{"enabled":false},"volume_spike":{"enabled":false},"vwap_deviation":{"enabled":false}},
             "rules":[{"name":"up","when":"close > 105","direction":"long"},{"name":"down","when":"close < 95","direction":"short"}]}
            """#.utf8))
        let sink = CollectingSink()
        let engine = SignalEngine(settings: settings, strategies: rules, sink: sink)
        func tick(_ t: String, _ price: Double) { engine.process(Tick(symbol: "600519.SH", ts: ms(t), price: price, volume: 100)) }
        tick("2025-03-04T10:00:00+08:00", 101)
        tick("2025-03-04T10:01:00+08:00", 109.8)   // within 0.5 of the 110.00 up-limit
        tick("2025-03-04T14:59:00+08:00", 104)     // the day closes at 104
        tick("2025-03-05T10:00:00+08:00", 106)     // next day: band 93.60-114.40
        tick("2025-03-05T10:01:00+08:00", 93.7)
        tick("2025-03-05T10:02:00+08:00", 100)
        engine.finish()
        // Each episode's first event (blocked here too: every move of this test is a price_jump).
        var seen = Set<String>()
        let opportunities = sink.opportunities.filter { seen.insert($0.id).inserted }
        XCTAssertEqual(opportunities.map(\.untradable), ["limit_up", nil, "limit_down"], "\(opportunities.map { ($0.direction, $0.price) })")
        let limits = sink.alerts.filter { $0.kind == "price_limit" }
        XCTAssertEqual(limits.map(\.threshold), [110, 93.6], "the band is rounded to the grid as written")
        XCTAssertTrue(limits[0].message.contains("limit-up 110.0 (previous close 100.0, +10 %)"), limits[0].message)
        let json = sink.lines.first { $0.contains("\"untradable\":\"limit_up\"") }
        XCTAssertNotNil(json, "the opportunity's JSON carries it")
    }

    func testOffGridPricesAndOddLotsAreRefusedByField() throws {
        let m = try MarketDirectory.builtin(zones: .system)
        var ticks = [Tick(symbol: "600519.SH", ts: 1, price: 1688.50, volume: 200),
                     Tick(symbol: "600519.SH", ts: 2, price: 1688.505, volume: 200),
                     Tick(symbol: "600519.SH", ts: 3, price: 1688.51, volume: 150),
                     Tick(symbol: "0700.HK", ts: 4, price: 300.2, volume: 7),
                     Tick(symbol: "0700.HK", ts: 5, price: 300.1, volume: 7),
                     Tick(symbol: "AAPL", ts: 6, price: 0.1234, volume: 1),
                     Tick(symbol: "AAPL", ts: 7, price: 190.01, volume: 3, bid: 190.005, ask: 190.02)]
        var rejected = [TickRejection(index: 1, field: "ts", message: "decoder's own")]
        m.screen(&ticks, &rejected)
        XCTAssertEqual(ticks.map(\.ts), [1, 4, 6])
        XCTAssertEqual(rejected.map(\.index), [1, 2, 3, 5, 7])
        XCTAssertEqual(rejected.map(\.field), ["ts", "price", "volume", "price", "bid"], "HK 300.1 is off the 0.2 steps of 200-500")
        XCTAssertTrue(rejected[1].message.contains("not on SSE's price grid (steps of 0.01)"), rejected[1].message)
        XCTAssertTrue(rejected[2].message.contains("not a whole number of SSE lots of 100"), rejected[2].message)
    }
}
