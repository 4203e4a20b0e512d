import Contracts
import Research
import XCTest

/// The `--cache` codec: what goes in comes out, bar for bar, and only under its own key.
final class BarCacheTests: XCTestCase {
    private func entry() -> BarCache.Entry {
        var bars: [Bar] = []
        for i in 0..<70_000 {
            let symbol = ["600519.SH", "A-VERY-LONG-SYMBOL-NAME.XNYS", "BTC-USDT"][i % 3]
            let p = 100 + Double(i % 97) * 0.01
            bars.append(Bar(symbol: symbol, interval: "1m", start: 1_700_000_000_000 + Int64(i / 3) * 60_000, open: p, high: p * 1.01,
                            low: p * 0.99, close: p * 1.001, volume: Double(i), vwap: p, trades: i % 5))
        }
        let prepared = try! BarSeries.prepare(bars, interval: nil)
        return BarCache.Entry(prepared: prepared, rejectedCount: 3, rejectedLines: ["line 2: date: bad date", "line 9: low: 2 is above the open or close"],
                              duplicateCount: 0)
    }

    func testRoundTripKeepsEveryBarAndWhatTheParseSaid() throws {
        let original = entry()
        let bytes = BarCache.encode(original, key: "k1")
        for threads in [1, 2, 3] {
            let back = try XCTUnwrap(bytes.withUnsafeBytes { BarCache.decode($0, key: "k1", threads: threads) })
            XCTAssertEqual(back.prepared.bars, original.prepared.bars, "threads \(threads)")
            XCTAssertEqual(back.prepared.interval, original.prepared.interval)
            XCTAssertEqual(back.rejectedCount, 3)
            XCTAssertEqual(back.rejectedLines, original.rejectedLines)
        }
    }

    func testAnotherKeyOrDamagedBytesAreNotRead() {
        let bytes = BarCache.encode(entry(), key: "size=1|mtime=2")
        XCTAssertNil(bytes.withUnsafeBytes { BarCache.decode($0, key: "size=1|mtime=3") })
        XCTAssertNil(Array(bytes.dropLast(8)).withUnsafeBytes { BarCache.decode($0, key: "size=1|mtime=2") })
        XCTAssertNil(Array(bytes.prefix(40)).withUnsafeBytes { BarCache.decode($0, key: "size=1|mtime=2") })
        var badMagic = bytes
        badMagic[0] = 0
        XCTAssertNil(badMagic.withUnsafeBytes { BarCache.decode($0, key: "size=1|mtime=2") })
        // A symbol index outside the table (a damaged column) is refused, not trusted.
        let columns = bytes.count - entry().prepared.bars.count * 72
        var badSymbol = bytes
        badSymbol[columns] = 9
        XCTAssertNil(badSymbol.withUnsafeBytes { BarCache.decode($0, key: "size=1|mtime=2") })
    }
}
