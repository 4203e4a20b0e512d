import Contracts
import Pipeline
import XCTest

final class BarBuilderTests: XCTestCase {
    private func tick(_ ts: Int64, _ price: Double, _ volume: Double) -> Tick {
        Tick(symbol: "600519.SH", ts: ts, price: price, volume: volume)
    }

    func testIntervalParsingAndBuckets() throws {
        XCTAssertEqual(BarInterval("1s")?.milliseconds, 1000)
        XCTAssertEqual(BarInterval("15m")?.milliseconds, 900_000)
        XCTAssertEqual(BarInterval("1d")?.milliseconds, 86_400_000)
        XCTAssertEqual(BarInterval("250ms")?.milliseconds, 250)
        for bad in ["", "m", "0s", "-1s", "1x", "1.5m", "99999999999999999d"] { XCTAssertNil(BarInterval(bad), bad) }
        let minute = try XCTUnwrap(BarInterval("1m"))
        XCTAssertEqual(minute.bucket(1_732_500_059_999), 1_732_500_000_000)  // 1732500000000 is a whole minute
        XCTAssertEqual(minute.bucket(1_732_500_060_000), 1_732_500_060_000)
        XCTAssertEqual(minute.bucket(119_999), 60_000)
        XCTAssertEqual(minute.bucket(-1), -60_000)
    }

    func testOHLCVAndVWAPCloseOnLaterBucket() throws {
        var builder = BarBuilder(symbol: "600519.SH", interval: try XCTUnwrap(BarInterval("1s")))
        XCTAssertNil(builder.add(tick(1000, 10, 100)))
        XCTAssertNil(builder.add(tick(1500, 12, 300)))
        XCTAssertNil(builder.add(tick(1999, 9, 100)))
        XCTAssertEqual(builder.current?.close, 9)
        let bar = try XCTUnwrap(builder.add(tick(3200, 11, 50)))  // bucket 2000 is empty: no bar for it
        XCTAssertEqual(bar, Bar(symbol: "600519.SH", interval: "1s", start: 1000, open: 10, high: 12, low: 9, close: 9,
                                volume: 500, vwap: (10 * 100 + 12 * 300 + 9 * 100) / 500.0, trades: 3))
        let last = try XCTUnwrap(builder.flush())
        XCTAssertEqual(last.start, 3000)
        XCTAssertEqual(last.trades, 1)
        XCTAssertNil(builder.flush())
    }

    func testLiveCloseAfterGraceAndZeroVolume() throws {
        var builder = BarBuilder(symbol: "A", interval: try XCTUnwrap(BarInterval("1s")))
        _ = builder.add(tick(5000, 7, 0))
        XCTAssertNil(builder.closeIfDue(nowMs: 6100, graceMs: 200))
        let bar = try XCTUnwrap(builder.closeIfDue(nowMs: 6200, graceMs: 200))
        XCTAssertEqual(bar.vwap, 7, "a bar without volume has vwap = close")
        XCTAssertNil(builder.current)
    }
}
