import Foundation
@testable import Pipeline
import XCTest

/// The pipeline's "now" while a recorded file plays: it runs at the file's speed, waits at the
/// next tick's time, never goes back for a late tick, and stops when the file ends.
final class MarketClockTests: XCTestCase {
    func testFollowsHoldsNeverGoesBackAndStops() {
        let clock = MarketClock()
        XCTAssertFalse(clock.isMapped)
        XCTAssertEqual(Double(clock.now()), Double(Int64(Date().timeIntervalSince1970 * 1000)), accuracy: 1000, "the wall clock until a file plays")
        clock.follow(market: 10_000, speed: 1_000_000)
        clock.hold(at: 20_000)
        usleep(5_000)
        XCTAssertEqual(clock.now(), 20_000, "a second of wall time is a million of market time, held at the next tick")
        clock.hold(at: 15_000)
        XCTAssertEqual(clock.now(), 20_000, "a late tick does not take market time back")
        clock.hold(at: 30_000)
        usleep(5_000)
        XCTAssertEqual(clock.now(), 30_000)
        clock.stop(at: 31_000)
        usleep(5_000)
        XCTAssertEqual(clock.now(), 31_000)
        XCTAssertTrue(clock.isMapped)
    }
}
