import Contracts
@testable import Markets
import XCTest

/// Offsets come from the system's tz database: New York's DST changes on their days, Shanghai
/// and Hong Kong at +8, and a TZif footer rule (used after the file's last transition) agrees
/// with the file's own transitions wherever both exist.
final class TimeZoneRulesTests: XCTestCase {
    private let zones = TimeZoneDatabase.system

    private func utc(_ text: String) -> Int64 { try! BarCSV.parseTime(text).get() / 1000 }

    func testNewYorkChangesOnTheSecondSundayOfMarchAndTheFirstOfNovember() throws {
        let ny = try zones.rules("America/New_York")
        XCTAssertEqual(ny.offset(atUTC: utc("2024-03-10T06:59:59Z")), -5 * 3600)
        XCTAssertEqual(ny.offset(atUTC: utc("2024-03-10T07:00:00Z")), -4 * 3600, "02:00 EST becomes 03:00 EDT")
        XCTAssertEqual(ny.offset(atUTC: utc("2024-11-03T05:59:59Z")), -4 * 3600)
        XCTAssertEqual(ny.offset(atUTC: utc("2024-11-03T06:00:00Z")), -5 * 3600)
        XCTAssertEqual(ny.offset(atUTC: utc("2051-07-01T12:00:00Z")), -4 * 3600, "past the file's transitions: its footer rule")
        XCTAssertEqual(ny.offset(atUTC: utc("2051-12-01T12:00:00Z")), -5 * 3600)
        // 09:30 local on a winter and a summer day.
        XCTAssertEqual(ny.utc(fromLocal: utc("2024-01-02T09:30:00Z")), utc("2024-01-02T14:30:00Z"))
        XCTAssertEqual(ny.utc(fromLocal: utc("2024-07-01T09:30:00Z")), utc("2024-07-01T13:30:00Z"))
        XCTAssertEqual(ny.utc(fromLocal: utc("2024-03-10T02:30:00Z")), utc("2024-03-10T07:30:00Z"), "a skipped time: the offset before")
        XCTAssertEqual(ny.utc(fromLocal: utc("2024-11-03T01:30:00Z")), utc("2024-11-03T05:30:00Z"), "a repeated time: the first")
        XCTAssertEqual(try zones.rules("Asia/Shanghai").offset(atUTC: utc("2024-06-01T00:00:00Z")), 8 * 3600)
        XCTAssertEqual(try zones.rules("Asia/Hong_Kong").offset(atUTC: utc("2024-06-01T00:00:00Z")), 8 * 3600)
    }

    /// For every hour of 2030 (inside the files' transitions), the footer rule alone gives the
    /// same offset as the transitions: north (New York, London) and south (Sydney, Santiago).
    func testFooterRulesAgreeWithTheTransitions() throws {
        for name in ["America/New_York", "Europe/London", "Australia/Sydney", "America/Santiago", "Asia/Shanghai"] {
            let rules = try zones.rules(name)
            let footer = try XCTUnwrap(rules.footer, name)
            guard let last = rules.transitions.last, last > utc("2031-01-01T00:00:00Z") || rules.transitions.count < 10 else { continue }
            var t = utc("2030-01-01T00:00:00Z")
            while t < utc("2031-01-01T00:00:00Z") {
                if last > t { XCTAssertEqual(footer.offset(atUTC: t), rules.offset(atUTC: t), "\(name) at \(t)") }
                t += 3600
            }
        }
    }

    func testPosixRulesParseAndBadInputIsRefused() throws {
        let ny = try PosixTimeZone("EST5EDT,M3.2.0,M11.1.0")
        XCTAssertEqual(ny.standardOffset, -18_000)
        XCTAssertEqual(ny.daylightOffset, -14_400)
        XCTAssertEqual(try PosixTimeZone("<+0545>-5:45").standardOffset, 20_700)
        XCTAssertEqual(try PosixTimeZone("CST-8").standardOffset, 28_800)
        XCTAssertThrowsError(try PosixTimeZone("EST5EDT"))
        XCTAssertThrowsError(try PosixTimeZone("EST5EDT,M13.2.0,M11.1.0"))
        XCTAssertThrowsError(try TimeZoneRules(name: "x", tzif: Array("not a zone".utf8)))
        XCTAssertThrowsError(try TimeZoneRules(name: "x", tzif: Array("TZif2".utf8) + [UInt8](repeating: 0, count: 20)))
        XCTAssertThrowsError(try zones.rules("Mars/Olympus_Mons")) { XCTAssertTrue("\($0)".contains("unknown time zone")) }
        XCTAssertThrowsError(try zones.rules("../etc/passwd")) { XCTAssertTrue("\($0)".contains("not a time zone name")) }
    }
}
