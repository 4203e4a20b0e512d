import Contracts
import Foundation
import Pipeline
import XCTest

/// Agreement with TA-Lib (fixtures from Tests/Fixtures/indicators/generate.sh) on trending, flat,
/// gapped and 100k-bar series: every value within 1e-9 relative (absolute below magnitude 1),
/// and the same warm-up (null exactly where TA-Lib gives NaN).
final class IndicatorFixtureTests: XCTestCase {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/indicators")

    private func fixture(_ name: String) throws -> [String: Any] {
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

    private func bars(from doc: [String: Any]) throws -> [Bar] {
        let rows = try XCTUnwrap(doc["bars"] as? [[Double]])
        return rows.enumerated().map { i, r in
            Bar(symbol: "T", interval: "1m", start: Int64(i) * 60_000, open: r[0], high: r[1], low: r[2], close: r[3],
                volume: r[4], vwap: r[5], trades: 1)
        }
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
        for (column, values) in expected {
            for (k, row) in rows.enumerated() {
                let ours = computed[row].fields.first { $0.name == column }?.value
                let theirs = values[k] as? Double
                guard let ours, let theirs else {
                    XCTAssertEqual(ours == nil, theirs == nil,
                                   "\(name) \(column) row \(row): ours \(String(describing: ours)), TA-Lib \(String(describing: theirs))")
                    continue
                }
                let error = abs(ours - theirs) / max(1, abs(theirs))
                worst = max(worst, error)
                compared += 1
                XCTAssertLessThanOrEqual(error, 1e-9, "\(name) \(column) row \(row): ours \(ours), TA-Lib \(theirs)")
            }
        }
        XCTAssertGreaterThan(compared, 100)
        print("\(name): \(compared) values compared with TA-Lib, worst relative error \(worst)")
    }

    func testTrending() throws {
        let doc = try fixture("trending")
        try check("trending", bars: try bars(from: doc), doc: doc)
    }

    func testFlatThenBarelyMoving() throws {
        let doc = try fixture("flat")
        try check("flat", bars: try bars(from: doc), doc: doc)
    }

    func testGapped() throws {
        let doc = try fixture("gapped")
        try check("gapped", bars: try bars(from: doc), doc: doc)
    }

    func testHundredThousandBarsWithoutDrift() throws {
        let doc = try fixture("long")
        let count = try XCTUnwrap(doc["count"] as? Int)
        let seed = try XCTUnwrap(doc["seed"] as? Int)
        try check("long", bars: Self.longSeries(count: count, seed: UInt64(seed)), doc: doc)
    }
}
