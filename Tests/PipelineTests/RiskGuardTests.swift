import Contracts
import Pipeline
import XCTest

final class RiskGuardTests: XCTestCase {
    private func tick(_ ts: Int64, _ price: Double, bid: Double? = nil, ask: Double? = nil) -> Tick {
        Tick(symbol: "A", ts: ts, price: price, volume: 100, bid: bid, ask: ask)
    }

    func testPriceJumpBlocksAndWideSpreadWarns() {
        var guardian = RiskGuard()
        XCTAssertTrue(guardian.tick(tick(0, 100), wallMs: nil).isEmpty)
        let jump = guardian.tick(tick(1000, 107), wallMs: nil)
        XCTAssertEqual(jump.map(\.kind), ["price_jump"])
        XCTAssertEqual(jump.first?.severity, .critical)
        XCTAssertEqual(jump.first?.threshold, 0.05)
        XCTAssertEqual(guardian.status("A", at: 2000).status, .blocked)
        XCTAssertEqual(guardian.status("A", at: 2000).alerts, ["price_jump"])
        XCTAssertEqual(guardian.status("A", at: 62_000).status, .ok, "the block holds for a minute")
        XCTAssertTrue(guardian.tick(tick(2000, 115), wallMs: nil).isEmpty, "the same kind repeats at most once a minute")
        let spread = guardian.tick(tick(3000, 115, bid: 114, ask: 116), wallMs: nil)
        XCTAssertEqual(spread.map(\.kind), ["wide_spread"])
        XCTAssertEqual(spread.first?.severity, .warning)
        XCTAssertEqual(guardian.status("B", at: 0).status, .ok)
    }

    func testSigmaJumpNeedsHistory() {
        var guardian = RiskGuard()
        var price = 100.0
        for i in 0..<40 {
            price *= i % 2 == 0 ? 1.0001 : 0.9999
            _ = guardian.tick(tick(Int64(i) * 1000, price), wallMs: nil)
        }
        let alerts = guardian.tick(tick(41_000, price * 1.01), wallMs: nil)  // 1%: under the band, ~100σ
        XCTAssertEqual(alerts.map(\.kind), ["price_jump"])
        XCTAssertEqual(alerts.first?.severity, .warning)
    }

    func testVolatilitySpikeSignalRateAndStaleFeed() {
        var guardian = RiskGuard()
        var close = 100.0
        var fired: [String] = []
        for i in 0..<60 {
            close *= i < 55 ? (i % 2 == 0 ? 1.001 : 0.999) : (i % 2 == 0 ? 1.02 : 0.98)
            let bar = Bar(symbol: "A", interval: "1s", start: Int64(i) * 1000, open: close, high: close, low: close,
                          close: close, volume: 1, vwap: close, trades: 1)
            fired += guardian.bar(bar).map(\.kind)
        }
        XCTAssertEqual(fired, ["volatility_spike"])
        var rate: [RiskAlert] = []
        for i in 0..<13 {
            rate += guardian.signal(StrategySignal(ts: 100_000 + Int64(i), symbol: "A", strategy: "s", direction: .long,
                                                   strength: 1, price: 1, reason: ""))
        }
        XCTAssertEqual(rate.map(\.kind), ["signal_rate"])
        XCTAssertEqual(rate.first?.value, 13)
        _ = guardian.tick(tick(200_000, close), wallMs: 1_000_000)
        var found = false
        XCTAssertTrue(guardian.staleFeeds(wallMs: 1_005_000, marketMs: 200_000, found: &found).isEmpty)
        XCTAssertFalse(found)
        let stale = guardian.staleFeeds(wallMs: 1_011_000, marketMs: 200_000, found: &found)
        XCTAssertTrue(found)
        XCTAssertEqual(stale.map(\.kind), ["stale_feed"])
        XCTAssertEqual(stale.first?.severity, .critical)
    }
}
