@testable import Pipeline
import XCTest

/// The ordered window under CCI: counts and sums below any threshold equal a scan of the last n
/// values; a window rebuilt from its values, arrival count and pivot (a restart) answers bit for
/// bit as the one that lived through them; CCI from it equals TA-Lib's ring-order pass.
final class OrderedWindowTests: XCTestCase {
    func testBelowMatchesAScanAndARebuiltWindowIsIdentical() {
        var rng = SystemRandomNumberGenerator()
        for size in [1, 2, 7, 20, 64] {
            var w = OrderedWindow(size: size)
            var last: [Double] = []
            for step in 0..<600 {
                // Repeated values, a jump in level, tiny and huge prices.
                let level = step < 300 ? 100.0 : 50_000.0
                let x = (level * (1 + Double(Int.random(in: -5...5, using: &rng)) * 1e-3) * 100).rounded() / 100
                w.push(x)
                last.append(x)
                if last.count > size { last.removeFirst() }
                XCTAssertEqual(w.values, last)
                for t in [x, level, level * 0.999, level * 1.001, -1, .infinity] {
                    let scan = last.filter { $0 < t }
                    let (n, s) = w.below(t)
                    XCTAssertEqual(n, scan.count)
                    XCTAssertEqual(s + Double(n) * w.pivot, scan.reduce(0, +), accuracy: 1e-9 * level * Double(size))
                }
                if step % 97 == 13 {
                    var copy = OrderedWindow(size: size, values: w.values, seen: w.seen, pivot: w.pivot)
                    var live = w
                    for k in 0..<(3 * size) {
                        let y = x + Double(k % 5) * 0.01
                        copy.push(y)
                        live.push(y)
                        XCTAssertEqual(copy.total.bitPattern, live.total.bitPattern, "size \(size) step \(step)")
                        XCTAssertEqual(copy.below(y).sum.bitPattern, live.below(y).sum.bitPattern)
                    }
                }
            }
        }
    }

    func testCCIEqualsTheRingOrderPass() {
        var cci = CommodityChannelIndex(period: 14)
        var ring: [Double] = []
        var price = 20.0
        var worst = 0.0
        for i in 0..<3000 {
            price *= 1 + sin(Double(i) * 0.37) * 0.01
            let (h, l, c) = (price * 1.004, price * 0.996, price)
            let tp = (h + l + c) / 3
            if ring.count == 14 { ring[i % 14] = tp } else { ring.append(tp) }
            guard let ours = cci.update(high: h, low: l, close: c) else { continue }
            let theirs = CommodityChannelIndex.taLib(tp, ring, 14)
            worst = max(worst, abs(ours - theirs) / max(1, abs(theirs)))
        }
        XCTAssertLessThan(worst, 1e-11)
    }
}
