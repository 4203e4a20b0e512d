import Contracts
import Markets
@testable import Pipeline
import XCTest

/// The engine on venues' clocks: ticks across Shanghai's lunch break make the bars an A-share
/// chart shows, ticks outside the sessions are flagged once and kept out of bars, a bar cut
/// short by the close ends there, and a closed venue's feed is never stale.
final class MarketSessionEngineTests: XCTestCase {
    private func ms(_ text: String) -> Int64 { try! BarCSV.parseTime(text).get() }

    private func engine(_ sink: CollectingSink, interval: String = "1h") throws -> SignalEngine {
        var settings = EngineSettings(interval: BarInterval(interval)!)
        settings.markets = try MarketDirectory.builtin(zones: .system)
        return SignalEngine(settings: settings, strategies: StrategyRegistry(), sink: sink)
    }

    func testLunchBreakAndOffSessionTicks() throws {
        let sink = CollectingSink()
        let e = try engine(sink)
        let times = ["2024-01-02T09:10:00+08:00", "2024-01-02T09:20:00+08:00", "2024-01-02T09:30:00+08:00",
                     "2024-01-02T10:45:00+08:00", "2024-01-02T11:29:00+08:00", "2024-01-02T11:45:00+08:00",
                     "2024-01-02T12:10:00+08:00", "2024-01-02T13:00:00+08:00", "2024-01-02T14:59:00+08:00",
                     "2024-01-02T15:30:00+08:00"]
        for (i, t) in times.enumerated() {
            e.process(Tick(symbol: "600519.SH", ts: ms(t), price: 1700 + Double(i), volume: 100))
        }
        e.finish()
        let starts: [Int64] = sink.bars.map { ($0.start + 8 * 3_600_000) % 86_400_000 / 60_000 }
        let expected: [Int64] = [570, 630, 780, 840]
        XCTAssertEqual(starts, expected, "09:30 (with the 09:20 auction), 10:30, 13:00, 14:00: none across lunch")
        XCTAssertEqual(sink.bars.map(\.volume), [200, 200, 100, 100])
        XCTAssertEqual(sink.bars.first?.open, 1701, "the auction print opens the first bar")
        let off = sink.alerts.filter { $0.kind == "off_session" }
        XCTAssertEqual(off.map(\.ts), [times[0], times[5], times[6], times[9]].map(ms), "each off-session tick, at most one a minute")
        XCTAssertTrue(off.allSatisfy { $0.severity == .info && $0.message.contains("SSE") })
    }

    func testABarCutShortByTheCloseClosesThereAndClosedFeedsAreNotStale() throws {
        let sink = CollectingSink()
        let e = try engine(sink)
        e.process(Tick(symbol: "0700.HK", ts: ms("2024-01-02T11:59:50+08:00"), price: 300, volume: 100), wallMs: ms("2024-01-02T11:59:50+08:00"))
        XCTAssertFalse(e.tickClock(wallMs: ms("2024-01-02T11:59:00+08:00"), graceMs: 250))
        XCTAssertTrue(e.tickClock(wallMs: ms("2024-01-02T12:00:01+08:00"), graceMs: 250), "the 11:30 bar ends at the 12:00 close")
        XCTAssertEqual(sink.bars.count, 1)
        // Lunch, then the night: no stale_feed while Hong Kong is closed; one once it trades again.
        _ = e.tickClock(wallMs: ms("2024-01-02T12:30:00+08:00"), graceMs: 250)
        XCTAssertTrue(sink.alerts.filter { $0.kind == "stale_feed" }.isEmpty, "lunch")
        _ = e.tickClock(wallMs: ms("2024-01-02T13:00:05+08:00"), graceMs: 250)
        XCTAssertTrue(sink.alerts.filter { $0.kind == "stale_feed" }.isEmpty, "five seconds after the open")
        _ = e.tickClock(wallMs: ms("2024-01-02T13:00:30+08:00"), graceMs: 250)
        XCTAssertEqual(sink.alerts.filter { $0.kind == "stale_feed" }.count, 1)
        for night in ["2024-01-02T20:00:00+08:00", "2024-01-03T03:00:00+08:00", "2024-01-03T09:25:00+08:00"] {
            _ = e.tickClock(wallMs: ms(night), graceMs: 250)
        }
        XCTAssertEqual(sink.alerts.filter { $0.kind == "stale_feed" }.count, 1, "none at night")
    }
}
