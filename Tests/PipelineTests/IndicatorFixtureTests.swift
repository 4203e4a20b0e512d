import Contracts
import Foundation
import Pipeline
import XCTest

/// Agreement with TA-Lib (fixtures from Tests/Fixtures/indicators/generate.sh) on trending, flat,
/// gapped and 100k-bar series, and on long flat stretches (from the first bar, after a move, with
/// one tiny move inside) at prices of 0.01, 100 and 100,000: every value within 1e-9 relative, and
/// the same warm-up (null exactly where TA-Lib gives NaN). The only absolute slack is 1e-15 of the
/// column's largest value, for values that are rounding noise around zero (MACD on a flat price).
final class IndicatorFixtureTests: XCTestCase {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/indicators")

    static func fixture(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("\(name).json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The generator of generate.py, reproduced exactly (integer steps, so identical doubles).
    static func longSeries(count: Int, seed: UInt64) -> [Bar] {
        var state = seed
        func next(_ n: UInt64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % n)
        }
        var cents: Int64 = 168_850
        var bars: [Bar] = []
        bars.reserveCapacity(count)
        for i in 0..<count {
            let step = next(201) - 100
            let openC = cents
            cents = max(100, cents + step)
            let highC = max(openC, cents) + next(50)
            let lowC = max(50, min(openC, cents) - next(50))
            let volume = Double(100 * (1 + next(500)))
            let (o, h, l, c) = (Double(openC) / 100, Double(highC) / 100, Double(lowC) / 100, Double(cents) / 100)
            bars.append(Bar(symbol: "T", interval: "1m", start: Int64(i) * 60_000, open: o, high: h, low: l, close: c,
                            volume: volume, vwap: (h + l + c) / 3, trades: 1))
        }
        return bars
    }

    static func bars(from doc: [String: Any]) throws -> [Bar] {
        if let units = doc["units"] as? [[Int]], let divisor = doc["divisor"] as? Int {
            // Integer units over a divisor, divided here as the generator divided them: the same
            // doubles bit for bit (a decimal read back by Foundation can be an ulp off).
            let d = Double(divisor)
            return units.enumerated().map { i, r in
                let (o, h, l, c) = (Double(r[0]) / d, Double(r[1]) / d, Double(r[2]) / d, Double(r[3]) / d)
                return Bar(symbol: "T", interval: "1m", start: Int64(i) * 60_000, open: o, high: h, low: l, close: c,
                           volume: Double(r[4]), vwap: (h + l + c) / 3, trades: 1)
            }
        }
        let rows = try XCTUnwrap(doc["bars"] as? [[Double]])
        return rows.enumerated().map { i, r in
            Bar(symbol: "T", interval: "1m", start: Int64(i) * 60_000, open: r[0], high: r[1], low: r[2], close: r[3],
                volume: r[4], vwap: r[5], trades: 1)
        }
    }

    /// |ours − theirs| relative to TA-Lib's value, or to `floor` when that is larger (values that
    /// are rounding noise around 0).
    static func relativeError(_ ours: Double, _ theirs: Double, floor: Double) -> Double {
        ours == theirs ? 0 : abs(ours - theirs) / max(abs(theirs), floor)
    }

    private func check(_ name: String, bars: [Bar], doc: [String: Any]) throws {
        let rows = try XCTUnwrap(doc["rows"] as? [Int])
        let expected = try XCTUnwrap(doc["expected"] as? [String: [Any]])
        var calculator = FeatureCalculator()
        var computed: [Features] = []
        computed.reserveCapacity(bars.count)
        for bar in bars { computed.append(calculator.update(bar)) }
        var worst = 0.0
        var compared = 0
        var identical = 0
        for (column, values) in expected {
            let scale = values.reduce(0.0) { max($0, abs(($1 as? Double) ?? 0)) }
            for (k, row) in rows.enumerated() {
                let ours = computed[row].fields.first { $0.name == column }?.value
                let theirs = values[k] as? Double
                guard let ours, let theirs else {
                    XCTAssertEqual(ours == nil, theirs == nil,
                                   "\(name) \(column) row \(row): ours \(String(describing: ours)), TA-Lib \(String(describing: theirs))")
                    continue
                }
                let error = Self.relativeError(ours, theirs, floor: scale * 1e-15)
                worst = max(worst, error)
                compared += 1
                if ours == theirs { identical += 1 }
                XCTAssertLessThanOrEqual(error, 1e-9, "\(name) \(column) row \(row): ours \(ours), TA-Lib \(theirs)")
            }
        }
        XCTAssertGreaterThan(compared, 100)
        print("\(name): \(compared) values compared with TA-Lib (\(identical) bit-identical), worst relative error \(worst)")
    }

    func testTrending() throws {
        let doc = try Self.fixture("trending")
        try check("trending", bars: try Self.bars(from: doc), doc: doc)
    }

    func testFlatThenBarelyMoving() throws {
        let doc = try Self.fixture("flat")
        try check("flat", bars: try Self.bars(from: doc), doc: doc)
    }

    func testGapped() throws {
        let doc = try Self.fixture("gapped")
        try check("gapped", bars: try Self.bars(from: doc), doc: doc)
    }

    /// Flat for 500+ bars after a move, flat from the first bar, one tiny move inside a long flat
    /// stretch — at 0.01, 100 and 100,000. RSI keeps its last value through a flat stretch (it
    /// used to fall to 0 and fire a false long on the next move); STDDEV/Bollinger see a 0.01 %
    /// move at any price (a 1e-8 variance floor hid it below a price of ~100).
    func testLongFlatStretchesAtEveryMagnitude() throws {
        for shape in ["flat_after_move", "flat_from_start", "tiny_move_in_flat"] {
            for magnitude in ["penny", "dollar", "huge"] {
                let doc = try Self.fixture("\(shape)_\(magnitude)")
                try check("\(shape)_\(magnitude)", bars: try Self.bars(from: doc), doc: doc)
            }
        }
    }

    /// The false long of the issue, as a trader sees it: after a move and 600 flat bars RSI is
    /// still TA-Lib's mid-range value, never 0, so the next move cannot "cross back above 30".
    func testRSIHoldsThroughAFlatStretch() throws {
        let doc = try Self.fixture("flat_after_move_dollar")
        var calculator = FeatureCalculator()
        let rsi = try Self.bars(from: doc).map { calculator.update($0).rsi14 }
        let flat = rsi[130..<720].compactMap { $0 }
        XCTAssertEqual(flat.count, 590)
        XCTAssertTrue(flat.allSatisfy { $0 > 30 && $0 < 70 }, "RSI left the mid range on a flat price: \(flat.min()!)…\(flat.max()!)")
        XCTAssertEqual(flat.first!, flat.last!, accuracy: 1e-9)
    }

    func testHundredThousandBarsWithoutDrift() throws {
        let doc = try Self.fixture("long")
        let count = try XCTUnwrap(doc["count"] as? Int)
        let seed = try XCTUnwrap(doc["seed"] as? Int)
        try check("long", bars: Self.longSeries(count: count, seed: UInt64(seed)), doc: doc)
    }
}
