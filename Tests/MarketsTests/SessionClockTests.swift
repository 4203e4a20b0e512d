import Contracts
@testable import Markets
import Foundation
import XCTest

/// Bars as each venue's own charts draw them: A-share hours around the lunch break, a US hour
/// at 09:30 New York in winter and summer, Hong Kong's half-hour before lunch, crypto on UTC
/// clock buckets every day, daily bars on the trading day, night sessions on the next one.
final class SessionClockTests: XCTestCase {
    private static let markets = try! MarketDirectory.builtin(zones: .system)

    private func ms(_ text: String) -> Int64 { try! BarCSV.parseTime(text).get() }
    private func clock(_ symbol: String, _ interval: String, markets: MarketDirectory = markets) -> SessionClock {
        SessionClock(profile: markets.profile(for: symbol), interval: BarInterval(interval)!)
    }
    private func bucket(_ c: inout SessionClock, _ time: String) -> String? {
        guard let s = c.slot(ms(time)) else { return nil }
        func iso(_ t: Int64) -> String {
            let (days, ms) = CivilDate.floorDivide(t, 86_400_000)
            let d = CivilDate.civil(days)
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", d.year, d.month, d.day, ms / 3_600_000, ms / 60_000 % 60,
                          ms / 1000 % 60, ms % 1000)
        }
        return "\(iso(s.start))…\(iso(s.end))"
    }

    func testAShareHoursBreakForLunchAndTwoHoursNeverSpanIt() {
        var h1 = clock("600519.SH", "1h")
        // 2024-01-02 (a Tuesday) in Shanghai = UTC+8.
        XCTAssertEqual(bucket(&h1, "2024-01-02T09:31:00+08:00"), "2024-01-02T01:30:00.000Z…2024-01-02T02:30:00.000Z")
        XCTAssertEqual(bucket(&h1, "2024-01-02T11:29:59+08:00"), "2024-01-02T02:30:00.000Z…2024-01-02T03:30:00.000Z")
        XCTAssertNil(bucket(&h1, "2024-01-02T11:30:00+08:00"), "lunch")
        XCTAssertNil(bucket(&h1, "2024-01-02T12:59:59+08:00"), "lunch")
        XCTAssertEqual(bucket(&h1, "2024-01-02T13:00:00+08:00"), "2024-01-02T05:00:00.000Z…2024-01-02T06:00:00.000Z")
        XCTAssertEqual(bucket(&h1, "2024-01-02T14:59:59+08:00"), "2024-01-02T06:00:00.000Z…2024-01-02T07:00:00.000Z")
        XCTAssertNil(bucket(&h1, "2024-01-02T15:00:00+08:00"), "closed")
        XCTAssertEqual(bucket(&h1, "2024-01-02T09:20:00+08:00"), "2024-01-02T01:30:00.000Z…2024-01-02T02:30:00.000Z",
                       "the opening call auction goes into the first bar")
        XCTAssertNil(bucket(&h1, "2024-01-02T09:27:00+08:00"), "between the auction and the open")
        XCTAssertNil(bucket(&h1, "2024-01-06T10:00:00+08:00"), "Saturday")
        var h2 = clock("000001.SZ", "2h")
        XCTAssertEqual(bucket(&h2, "2024-01-02T11:00:00+08:00"), "2024-01-02T01:30:00.000Z…2024-01-02T03:30:00.000Z")
        XCTAssertEqual(bucket(&h2, "2024-01-02T13:10:00+08:00"), "2024-01-02T05:00:00.000Z…2024-01-02T07:00:00.000Z")
        var m30 = clock("830799.BJ", "30m")
        XCTAssertEqual(bucket(&m30, "2024-01-02T11:15:00+08:00"), "2024-01-02T03:00:00.000Z…2024-01-02T03:30:00.000Z")
    }

    func testUSHourStartsAtHalfPastNineNewYorkInWinterAndSummer() {
        var c = clock("AAPL", "1h")
        XCTAssertEqual(bucket(&c, "2024-01-02T09:45:00-05:00"), "2024-01-02T14:30:00.000Z…2024-01-02T15:30:00.000Z")
        XCTAssertEqual(bucket(&c, "2024-07-01T09:45:00-04:00"), "2024-07-01T13:30:00.000Z…2024-07-01T14:30:00.000Z")
        XCTAssertEqual(bucket(&c, "2024-07-01T15:59:00-04:00"), "2024-07-01T19:30:00.000Z…2024-07-01T20:00:00.000Z", "the last bar ends at the close")
        // Across the change: Friday 2024-03-08 EST, Monday 2024-03-11 EDT.
        XCTAssertEqual(bucket(&c, "2024-03-08T09:30:00-05:00"), "2024-03-08T14:30:00.000Z…2024-03-08T15:30:00.000Z")
        XCTAssertEqual(bucket(&c, "2024-03-11T09:30:00-04:00"), "2024-03-11T13:30:00.000Z…2024-03-11T14:30:00.000Z")
        XCTAssertNil(bucket(&c, "2024-03-11T09:29:59-04:00"))
        XCTAssertNil(bucket(&c, "2024-03-11T16:00:00-04:00"))
        var d = clock("MSFT", "1d")
        XCTAssertEqual(bucket(&d, "2024-07-01T10:00:00-04:00"), "2024-07-01T04:00:00.000Z…2024-07-01T20:00:00.000Z",
                       "a daily bar is the trading day, stamped at its local midnight")
    }

    func testHongKongAndCrypto() {
        var hk = clock("0700.HK", "1h")
        XCTAssertEqual(bucket(&hk, "2024-01-02T11:45:00+08:00"), "2024-01-02T03:30:00.000Z…2024-01-02T04:00:00.000Z")
        XCTAssertNil(bucket(&hk, "2024-01-02T12:30:00+08:00"))
        XCTAssertEqual(bucket(&hk, "2024-01-02T13:05:00+08:00"), "2024-01-02T05:00:00.000Z…2024-01-02T06:00:00.000Z")
        var btc = clock("BTC-USDT", "4h")
        XCTAssertEqual(bucket(&btc, "2024-01-06T23:59:00Z"), "2024-01-06T20:00:00.000Z…2024-01-07T00:00:00.000Z", "Saturday night too")
        XCTAssertTrue(btc.isOpen(ms("2024-12-25T03:00:00Z")))
    }

    func testDailyBarsFollowTheTradingDayAndHolidaysClose() throws {
        var d = clock("600036.SH", "1d")
        XCTAssertEqual(bucket(&d, "2024-01-02T14:00:00+08:00"), "2024-01-01T16:00:00.000Z…2024-01-02T07:00:00.000Z")
        var markets = Self.markets
        let directory = try MarketDirectory.load(json: Data(#"{"holidays_file": "h.csv"}"#.utf8), zones: .system,
                                                 baseDirectory: try holidays("venue,date,name\nSSE,2024-01-02,test holiday\n"))
        markets = directory
        var closed = clock("600036.SH", "1d", markets: markets)
        XCTAssertNil(bucket(&closed, "2024-01-02T10:00:00+08:00"), "a holiday of the calendar file")
        var open = clock("000001.SZ", "1d", markets: markets)
        XCTAssertNotNil(bucket(&open, "2024-01-02T10:00:00+08:00"), "another venue's holiday")
    }

    /// A venue with a night session (as Chinese futures): Friday night trades for Monday.
    func testNightSessionsBelongToTheNextTradingDay() throws {
        let json = #"{"venues": {"SHFE": {"time_zone": "Asia/Shanghai", "sessions": ["21:00-02:30", "09:00-10:15", "10:30-11:30", "13:30-15:00"], "currency": "CNY"}}, "symbols": {"AU2406": "SHFE"}}"#
        let markets = try MarketDirectory.load(json: Data(json.utf8), zones: .system)
        var d = clock("AU2406", "1d", markets: markets)
        // Friday 2024-01-05 22:00 and Saturday 01:00 trade for Monday 2024-01-08.
        let monday = "2024-01-07T16:00:00.000Z…2024-01-08T07:00:00.000Z"
        XCTAssertEqual(bucket(&d, "2024-01-05T22:00:00+08:00"), monday)
        XCTAssertEqual(bucket(&d, "2024-01-06T01:00:00+08:00"), monday)
        XCTAssertEqual(bucket(&d, "2024-01-08T09:30:00+08:00"), monday)
        XCTAssertNil(bucket(&d, "2024-01-06T03:00:00+08:00"))
        var h = clock("AU2406", "1h", markets: markets)
        XCTAssertEqual(bucket(&h, "2024-01-06T02:10:00+08:00"), "2024-01-05T18:00:00.000Z…2024-01-05T18:30:00.000Z", "the night's last half hour")
    }

    func testSymbolsMapToVenuesAndBadFilesAreRefusedByKeyOrLine() throws {
        let m = Self.markets
        XCTAssertEqual(["600519.SH", "000001.SZ", "830799.BJ", "0700.HK", "AAPL", "BRK.B", "BTC-USDT", "es_fut", "X1234567", "E2E.B"].map { m.venue(of: $0) ?? "-" },
                       ["SSE", "SZSE", "BSE", "HKEX", "US", "US", "CRYPTO", "-", "-", "-"])
        XCTAssertTrue(MarketDirectory.off.profile(for: "600519.SH").isAlwaysOpen)
        func refused(_ json: String) -> String {
            do {
                _ = try MarketDirectory.load(json: Data(json.utf8), zones: .system, baseDirectory: NSTemporaryDirectory())
                return "accepted"
            } catch { return error.description }
        }
        XCTAssertTrue(refused(#"{"symbols": {"X": "LSE"}}"#).hasPrefix("symbols.X: unknown venue LSE"))
        XCTAssertTrue(refused(#"{"venues": {"LSE": {"time_zone": "Europe/Londres", "sessions": ["08:00-16:30"]}}}"#).hasPrefix("venues.LSE.time_zone: unknown time zone"))
        XCTAssertTrue(refused(#"{"venues": {"LSE": {"sessions": ["08:00-16:30"]}}}"#).hasPrefix("venues.LSE.time_zone: a new venue needs"))
        XCTAssertTrue(refused(#"{"venues": {"SSE": {"sessions": ["09:30-11:30", "11:00-15:00"]}}}"#).contains("overlaps"))
        XCTAssertTrue(refused(#"{"venues": {"SSE": {"sessions": ["9:30-11:30"]}}}"#).hasPrefix("venues.SSE.sessions[0]"))
        XCTAssertTrue(refused(#"{"venues": {"SSE": {"auctions": ["09:15-09:35"]}}}"#).contains("overlaps"))
        XCTAssertTrue(refused(#"{"markets": {}}"#).hasPrefix("markets: unknown key"))
        let dir = try holidays("venue,date\nSSE,2024-01-01\n\nSSE,2024-13-01\n")
        let e = (try? MarketDirectory.load(json: Data(#"{"holidays_file": "h.csv"}"#.utf8), zones: .system, baseDirectory: dir)).map { _ in "accepted" }
        XCTAssertNil(e)
        do {
            _ = try MarketDirectory.load(json: Data(#"{"holidays_file": "h.csv"}"#.utf8), zones: .system, baseDirectory: dir)
        } catch {
            XCTAssertEqual(error.key, "h.csv line 4")
        }
        XCTAssertThrowsError(try HolidayCalendar.parse("XSE,2024-01-01\n", file: "f", venues: ["SSE"])) {
            XCTAssertEqual(($0 as? MarketConfigError)?.key, "f line 1")
        }
    }

    /// A directory holding `h.csv` with `text`, removed after the test.
    private func holidays(_ text: String) throws -> String {
        let dir = NSTemporaryDirectory() + "markets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: dir + "/h.csv", atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }
}
