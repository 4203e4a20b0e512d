import Contracts
import Markets
import Research
import XCTest

final class BarCSVTests: XCTestCase {
    private func decode(_ text: String, symbol: String = "FILE", offset: Int64 = 0) -> BarDecodeResult {
        var result = BarDecodeResult()
        var copy = text
        copy.withUTF8 { BarCSV.decode($0, symbol: symbol, interval: "1d", utcOffsetMinutes: offset, into: &result) }
        return result
    }

    func testYahooExportWithAdjCloseAndNewestFirst() throws {
        let r = decode("Date,Open,High,Low,Close,Adj Close,Volume\r\n2024-01-03,11,12,10,11.5,11.4,2000\r\n2024-01-02,10,11,9.5,10.5,10.4,1000\r\n")
        XCTAssertNil(r.documentError)
        XCTAssertEqual(r.rejected, [])
        XCTAssertEqual(r.bars.map(\.start), [1_704_240_000_000, 1_704_153_600_000])
        XCTAssertEqual(r.bars[1].symbol, "FILE")
        XCTAssertEqual(r.bars[1].close, 10.5, "Close, not Adj Close")
        XCTAssertEqual(r.bars[1].volume, 1000)
        XCTAssertEqual(r.bars[1].vwap, (11 + 9.5 + 10.5) / 3, "no vwap column: the typical price")
        let prepared = try BarSeries.prepare(r.bars, interval: nil)
        XCTAssertEqual(prepared.bars.map(\.close), [10.5, 11.5], "sorted oldest first")
        XCTAssertEqual(prepared.interval.label, "1d")
    }

    func testTushareColumnsAndCompactDates() {
        let r = decode("ts_code,trade_date,open,high,low,close,pre_close,vol,amount\n600519.SH,20240102,1700,1710,1680,1690,1695,30000,5e6\n")
        XCTAssertEqual(r.rejected, [])
        XCTAssertEqual(r.bars.first?.symbol, "600519.SH")
        XCTAssertEqual(r.bars.first?.start, 1_704_153_600_000)
        XCTAssertEqual(r.bars.first?.volume, 30000)
    }

    func testTimesZonesAndEpochs() {
        XCTAssertEqual(try BarCSV.parseTime("2024-01-02 09:30:00").get(), 1_704_187_800_000, "no zone: UTC")
        XCTAssertEqual(try BarCSV.parseTime("2024-01-02 09:30", utcOffsetMinutes: 480).get(), 1_704_159_000_000, "no zone: the given offset")
        XCTAssertEqual(try BarCSV.parseTime("2024-01-02T09:30:00+08:00", utcOffsetMinutes: -300).get(), 1_704_159_000_000, "a zone wins")
        XCTAssertEqual(try BarCSV.parseTime("2024-01-02T01:30:00.250Z").get(), 1_704_159_000_250)
        XCTAssertEqual(try BarCSV.parseTime("2024/01/02").get(), 1_704_153_600_000)
        XCTAssertEqual(try BarCSV.parseTime("1704153600").get(), 1_704_153_600_000, "epoch seconds")
        XCTAssertEqual(try BarCSV.parseTime("1704153600000").get(), 1_704_153_600_000, "epoch milliseconds")
        for bad in ["", "2024-13-01", "2024-02-30", "20240230", "2024-01-02 25:00", "2024-01-02x", "yesterday", "2024-01/02"] {
            guard case .failure(let e) = BarCSV.parseTime(bad) else { return XCTFail("\(bad) was accepted") }
            XCTAssertEqual(e.field, "date")
        }
    }

    func testBadRowsAreRefusedWithLineAndColumnAndTheRestKept() {
        let r = decode("""
            Symbol,Date,Open,High,Low,Close,Volume
            A,2024-01-02,10,11,9,10.5,100
            A,2024-01-03,NaN,11,9,10.5,100
            A,2024-01-04,10,9.9,9,10.5,100
            A,2024-01-05,10,11,10.2,10.5,100
            A,2024-01-08,10,11,9,,100
            A,2024-01-09,10,11,9,10.5,-1
            A,2024-01-10,10,11,9
            ,2024-01-11,10,11,9,10.5,100
            "A",2024-01-12,"10","11","9","10.5",""

            """)
        XCTAssertEqual(r.bars.map(\.start).count, 2, "\(r.rejected)")
        XCTAssertEqual(r.bars.last?.volume, 0, "an empty volume is 0")
        XCTAssertEqual(r.rejected.map(\.field), ["open", "high", "low", "close", "volume", nil, "symbol"])
        XCTAssertTrue(r.rejected[0].message.hasPrefix("line 3:"), r.rejected[0].message)
        XCTAssertTrue(r.rejected[5].message.contains("5 columns, the header has 7"), r.rejected[5].message)
    }

    /// A file cut into parts decoded on several threads reads exactly as one pass: the same bars,
    /// and each bad row refused with its own file line and row index; and a file with quotes (read
    /// by the general reader) numbers its lines the same way.
    func testPartsOnThreadsReadAsOnePass() throws {
        var lines = ["Date,Open,High,Low,Close,Volume", ""]
        var badLines: [Int] = []
        for i in 0..<6000 {
            let day = String(format: "2001-01-01 %02d:%02d:00", i / 60 % 24, i % 60)
            if i % 997 == 5 {
                lines.append("\(day),10,9,9,10,1")  // high below the open
                badLines.append(lines.count)
            } else {
                lines.append("\(day),10,11,9,10.\(i % 10),\(i)")
            }
            if i % 1500 == 7 { lines.append("") }
        }
        lines.append("2001-01-05,10,11,9,10,oops")  // the last line, without a line feed
        badLines.append(lines.count)
        let text = lines.joined(separator: "\r\n")
        func decode(_ text: String, threads: Int) -> BarDecodeResult {
            var copy = text
            return copy.withUTF8 { BarSeries.decode($0, symbol: "S", interval: "1m", utcOffsetMinutes: 0, threads: threads) }
        }
        let one = decode(text, threads: 1)
        let three = decode(text, threads: 3)
        XCTAssertGreaterThan(text.utf8.count, 3 << 16, "big enough to be cut")
        XCTAssertEqual(one.bars.count, 6000 - 7)
        XCTAssertEqual(one.bars, three.bars)
        XCTAssertEqual(one.rejected, three.rejected)
        XCTAssertEqual(one.rejected.map { Int($0.message.split(separator: ":")[0].dropFirst(5))! }, badLines)
        XCTAssertEqual(one.rejected.last?.field, "volume")
        XCTAssertEqual(one.rejected.map(\.index).prefix(2), [5, 1002])
        let quoted = decode(text.replacingOccurrences(of: "2001-01-01 00:00:00", with: "\"2001-01-01 00:00:00\""), threads: 2)
        XCTAssertEqual(quoted.bars, one.bars)
        XCTAssertEqual(quoted.rejected, one.rejected)
    }

    /// With venues, a time written without a zone is the symbol's venue's local time (New York
    /// across its DST change, Shanghai's dates at its midnight); zoned and epoch times stand.
    func testZonelessTimesAreTheVenuesLocalTime() throws {
        let markets = try MarketDirectory.builtin(zones: .system)
        let local: BarCSV.LocalTime = { symbol, ms in
            let (seconds, rest) = CivilDate.floorDivide(ms, 1000)
            return markets.profile(for: symbol).timeZone.utc(fromLocal: seconds) * 1000 + rest
        }
        let text = """
            Symbol,Date,Open,High,Low,Close
            600519.SH,2024-01-02,10,11,9,10.5
            AAPL,2024-03-08 09:30:00,10,11,9,10.5
            AAPL,2024-03-11 09:30:00,10,11,9,10.5
            AAPL,2024-03-11T09:30:00Z,10,11,9,10.5
            AAPL,1710163800000,10,11,9,10.5
            BTC-USDT,2024-03-11 09:30:00,10,11,9,10.5

            """
        var result = BarDecodeResult()
        var copy = text
        copy.withUTF8 { BarCSV.decode($0, symbol: "F", interval: "1d", localToUTC: local, into: &result) }
        XCTAssertEqual(result.rejected, [])
        func ms(_ t: String) -> Int64 { try! BarCSV.parseTime(t).get() }
        XCTAssertEqual(result.bars.map(\.start), [ms("2024-01-01T16:00:00Z"), ms("2024-03-08T14:30:00Z"), ms("2024-03-11T13:30:00Z"),
                                                  ms("2024-03-11T09:30:00Z"), 1_710_163_800_000, ms("2024-03-11T09:30:00Z")])
    }

    func testHeaderProblemsAreDocumentErrors() {
        XCTAssertNotNil(decode("").documentError)
        XCTAssertTrue(decode("Date,Open,High,Close\n2024-01-02,1,1,1\n").documentError?.contains("low") ?? false)
        XCTAssertTrue(BarCSV.isBarHeader("\u{FEFF}Date,Open,High,Low,Close,Volume"))
        XCTAssertFalse(BarCSV.isBarHeader("ts,symbol,price,volume"))
    }

    func testDuplicatesAggregationAndIntervals() throws {
        func bar(_ minute: Int64, _ o: Double, _ h: Double, _ l: Double, _ c: Double, _ v: Double) -> Bar {
            Bar(symbol: "X", interval: "", start: 1_704_153_600_000 + minute * 60_000, open: o, high: h, low: l, close: c,
                volume: v, vwap: c, trades: 0)
        }
        let bars = [bar(0, 10, 11, 9, 10.5, 100), bar(1, 10.5, 12, 10, 11, 300), bar(1, 1, 1, 1, 1, 1), bar(5, 11, 11.5, 10.8, 11.2, 50)]
        let own = try BarSeries.prepare(bars, interval: nil)
        XCTAssertEqual(own.interval.label, "1m")
        XCTAssertEqual(own.bars.count, 3)
        XCTAssertEqual(own.duplicates.count, 1)
        XCTAssertEqual(own.bars[1].close, 11, "the first bar at a time is kept")
        let coarse = try BarSeries.prepare(bars, interval: BarInterval("5m")!)
        XCTAssertEqual(coarse.bars.count, 2)
        let first = coarse.bars[0]
        XCTAssertEqual([first.open, first.high, first.low, first.close, first.volume], [10, 12, 9, 11, 400])
        XCTAssertEqual(first.vwap, (10.5 * 100 + 11 * 300) / 400, accuracy: 1e-12)
        XCTAssertEqual(first.interval, "5m")
        XCTAssertThrowsError(try BarSeries.prepare(bars, interval: BarInterval("30s")!))
        XCTAssertThrowsError(try BarSeries.prepare([], interval: nil))
    }
}
