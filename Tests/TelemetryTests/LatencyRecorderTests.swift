import XCTest
@testable import Telemetry

final class LatencyRecorderTests: XCTestCase {
    func testQuantilesBucketsAndSumFollowTheRecordedValues() {
        let recorder = LatencyRecorder(stages: ["a", "b"], nowNs: 0)
        recorder.record(nowNs: 1) { add in
            for v in 1...1000 { add(0, Int64(v) * 1000) }  // 1 µs … 1 ms
            add(1, 5_000_000)
        }
        let a = recorder.snapshot(0, nowNs: 2)
        XCTAssertEqual(a.count, 1000)
        XCTAssertEqual(a.sumNs, 1000 * 1001 / 2 * 1000)
        let p50 = try! XCTUnwrap(a.recentQuantile(0.5))
        XCTAssertEqual(Double(p50), 500_000, accuracy: 500_000 * 0.01, "2 significant digits")
        let p99 = try! XCTUnwrap(a.recentQuantile(0.99))
        XCTAssertEqual(Double(p99), 990_000, accuracy: 990_000 * 0.01)
        XCTAssertEqual(a.count(atOrBelow: 100_000), 100, "le=100 µs holds exactly the values up to and including 100 µs")
        XCTAssertEqual(a.count(atOrBelow: 1_000), 1, "a value equal to a bound is in that bound's bucket")
        XCTAssertEqual(a.cumulativeBuckets.last?.count, 1000)
        XCTAssertEqual(a.count(atOrBelow: 10_000_000), 1000)
        // One pass for several quantiles gives what one call per quantile gives.
        let qs = [0.5, 0.9, 0.99, 0.999, 1.0]
        XCTAssertEqual(a.recentQuantiles(qs), qs.map { a.recent.valueAtPercentile($0 * 100) })
        let b = recorder.snapshot(named: "b", nowNs: 2)
        XCTAssertEqual(b?.count, 1)
        XCTAssertNil(recorder.snapshot(named: "c", nowNs: 2))
    }

    func testARecordWhileAReaderHoldsTheLockIsKeptNotLostAndDoesNotBlock() {
        let recorder = LatencyRecorder(stages: ["a"], nowNs: 0)
        recorder.shared.withLock { _ in
            // The owner finds the lock taken: the value goes to its pending histogram.
            recorder.record(0, 7_000, nowNs: 1)
        }
        XCTAssertEqual(recorder.snapshot(0, nowNs: 2).count, 0, "pending until the owner records again")
        recorder.record(0, 9_000, nowNs: 3)
        let s = recorder.snapshot(0, nowNs: 4)
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.sumNs, 16_000)
    }

    func testTheRecentWindowForgetsOldValuesButTheTotalKeepsThem() {
        let window: Int64 = 1_000
        let recorder = LatencyRecorder(stages: ["a"], windowNs: window, nowNs: 0)
        recorder.record(0, 1_000_000, nowNs: 10)
        // Next window: the old value is still "recent" (previous window).
        recorder.record(0, 2_000, nowNs: 1_100)
        var s = recorder.snapshot(0, nowNs: 1_200)
        XCTAssertEqual(s.recent.totalCount, 2)
        XCTAssertEqual(s.count, 2)
        // Two windows later only the newest is recent; the total has all three.
        recorder.record(0, 3_000, nowNs: 2_150)
        s = recorder.snapshot(0, nowNs: 2_200)
        XCTAssertEqual(s.recent.totalCount, 2)
        XCTAssertEqual(s.recent.max, s.recent.highestEquivalentForValue(3_000))
        XCTAssertEqual(s.count, 3)
        // Idle for longer than two windows: nothing is recent, everything is in the total.
        s = recorder.snapshot(0, nowNs: 10_000)
        XCTAssertNil(s.recentQuantile(0.5))
        XCTAssertEqual(s.count, 3)
    }

    func testSnapshotsOfSeveralRecordersMerge() {
        let one = LatencyRecorder(stages: ["http"], nowNs: 0)
        let two = LatencyRecorder(stages: ["http"], nowNs: 0)
        one.record(0, 1_000, nowNs: 1)
        two.record(0, 3_000, nowNs: 1)
        var merged = LatencySnapshot()
        merged.add(one.snapshot(0, nowNs: 2))
        merged.add(two.snapshot(0, nowNs: 2))
        XCTAssertEqual(merged.count, 2)
        XCTAssertEqual(merged.sumNs, 4_000)
    }

    func testValuesBeyondTheRangeAreClampedNotDropped() {
        let recorder = LatencyRecorder(stages: ["a"], nowNs: 0)
        recorder.record(0, 3_600_000_000_000, nowNs: 1)  // an hour
        recorder.record(0, -5, nowNs: 1)                 // a clock step backwards
        XCTAssertEqual(recorder.snapshot(0, nowNs: 2).count, 2)
    }

    func testConcurrentScrapesNeverLoseRecords() {
        let recorder = LatencyRecorder(stages: ["a"], nowNs: 0)
        let done = ManagedAtomicFlag()
        let reader = Thread {
            while !done.isSet { _ = recorder.snapshot(0, nowNs: 1) }
        }
        reader.start()
        for i in 0..<200_000 { recorder.record(0, Int64(i % 1000 + 1), nowNs: 1) }
        done.set()
        while !reader.isFinished { usleep(1000) }
        recorder.flushPending(nowNs: 1)  // values recorded during the last scrape
        XCTAssertEqual(recorder.snapshot(0, nowNs: 1).count, 200_000)
    }
}

/// A flag set by one thread and polled by another.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
