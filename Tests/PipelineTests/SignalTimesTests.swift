@testable import Pipeline
import XCTest

/// The signal-rate windows count "signals in the last minute" by bisection over the newest
/// in-order run: the count must be the one a walk from the newest back gives, whatever the
/// order the times came in, and after a checkpoint rebuilt the window.
final class SignalTimesTests: XCTestCase {
    private func walked(_ w: MovingWindow, _ since: Int64) -> Int {
        var n = 0
        var i = w.count - 1
        while i >= 0, Int64(w[oldest: i]) > since { n += 1; i -= 1 }
        return n
    }

    func testCountsAgreeWithAWalkInAnyOrder() {
        var rng = SplitMix64(seed: 42)
        for round in 0..<60 {
            let size = [1, 2, 7, 64, 256][round % 5]
            var times = SignalTimes(size: size)
            var ts: Int64 = 1_700_000_000_000
            // Rounds differ in how often a time goes back (none, some, often).
            let disorder = [0, 10, 50][round % 3]
            for step in 0..<700 {
                ts += Int64(rng.next() % 3_000)
                let t = Int(rng.next() % 100) < disorder ? ts - Int64(rng.next() % 90_000) : ts
                times.push(t)
                for since in [t - 60_000, t - 1, t, t - 5_000, ts - 200_000] {
                    XCTAssertEqual(times.countNewer(than: since), walked(times.window, since), "round \(round) step \(step) since \(t - since)")
                }
                if step % 97 == 0 {
                    let rebuilt = SignalTimes(times.window)
                    XCTAssertEqual(rebuilt.countNewer(than: t - 60_000), times.countNewer(than: t - 60_000))
                    times = rebuilt
                }
            }
        }
    }

    func testAnEmptyWindowCountsNothing() {
        XCTAssertEqual(SignalTimes(size: 8).countNewer(than: .min), 0)
        XCTAssertEqual(SignalTimes(MovingWindow(size: 8)).countNewer(than: 0), 0)
    }
}
