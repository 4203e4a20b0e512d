import Contracts
@testable import Pipeline
import XCTest

/// The O(1) standard deviation against the exact two-pass figure (TA-Lib's, to ~1e-12) on the
/// shapes that break naive running sums: prices of 0.01 and 10,000,000 with tiny moves, jumps of
/// half the price, long flat stretches with one tiny move, and a long series (no drift).
final class StdDevTests: XCTestCase {
    private func twoPass(_ window: ArraySlice<Double>) -> Double {
        let mean = window.reduce(0, +) / Double(window.count)
        if window.allSatisfy({ $0 == window.first }) { return 0 }
        return (window.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(window.count)).squareRoot()
    }

    private func series(_ count: Int, seed: UInt64, level: Double) -> [Double] {
        var state = seed
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var x = level
        var out: [Double] = []
        for i in 0..<count {
            switch (i / 500) % 4 {
            case 0: x *= 1 + (uniform() - 0.5) * 1e-6  // tiny moves at the level
            case 1: break  // flat: repeats exactly
            case 2: if i % 500 == 0 { x *= uniform() < 0.5 ? 1.5 : 0.6 } else { x *= 1 + (uniform() - 0.5) * 1e-7 }
            default: if i % 500 == 250 { x += level * 1e-7 }  // one tiny move inside a flat stretch
            }
            out.append(x)
        }
        return out
    }

    func testAgreesWithTheTwoPassFigureOnHardShapes() {
        for (level, seed) in [(0.01, UInt64(1)), (10.52, 2), (100_000.0, 3), (10_000_000.0, 4)] {
            let xs = series(8_000, seed: seed, level: level)
            for n in [2, 5, 20, 300] {
                var s = StdDev(period: n)
                var worst = 0.0
                for (i, x) in xs.enumerated() {
                    let got = s.update(x)
                    guard i + 1 >= n else { XCTAssertNil(got); continue }
                    let want = twoPass(xs[(i + 1 - n)...i])
                    guard let got else { return XCTFail("no value at \(i)") }
                    if want == 0 {
                        XCTAssertEqual(got, 0, "a flat window is exactly 0 (level \(level), n \(n), at \(i))")
                    } else {
                        // Relative, with deviations under 1e-8 of the price held to 1e-18 of it
                        // (the two-pass figure itself is rounded at the price's own scale).
                        worst = max(worst, abs(got - want) / max(want, level * 1e-8))
                    }
                }
                XCTAssertLessThan(worst, 1e-10, "level \(level), n \(n)")
            }
        }
    }

    /// It must not rescan the window on every value: the exact pass runs about once per n values.
    func testRescansOnlyOncePerWindowOnAWalk() {
        var s = StdDev(period: 1_000)
        var rescans = 0
        var x = 100.0
        for i in 0..<100_000 {
            x += Double((i * 7919) % 13) - 6
            let before = s.sinceExact
            _ = s.update(x)
            if s.sinceExact == 0 && before != 0 { rescans += 1 }
        }
        XCTAssertLessThanOrEqual(rescans, 100_000 / 1_000 + 5)
    }

    /// A checkpoint keeps the running state: the restored one goes on bit for bit.
    func testCheckpointContinuesBitForBit() throws {
        let xs = series(3_000, seed: 9, level: 1688.5)
        var a = StdDev(period: 20)
        for x in xs[..<1_234] { _ = a.update(x) }
        var w = BinaryWriter()
        a.write(&w)
        var r = BinaryReader(w.bytes)
        var b = StdDev(period: 20)
        try b.read(&r)
        for x in xs[1_234...] { XCTAssertEqual(a.update(x)?.bitPattern, b.update(x)?.bitPattern) }
    }
}
