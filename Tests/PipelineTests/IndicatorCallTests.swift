import Contracts
import Foundation
@testable import Pipeline
import XCTest

/// Parameterised indicator calls (`sma(close,10)`, `macd_signal(close,5,35,5)`…) against TA-Lib
/// (Tests/Fixtures/indicators/calls.json from generate.sh): every call of the fixture over a
/// random walk, a gapped series and a long flat stretch with one tiny move at 100,000.00, within
/// 1e-9 relative (absolute slack only for rounding noise around 0: 1e-13 of the column's or the inputs' magnitude) and with
/// TA-Lib's warm-up; and the argument checks a rule author meets.
final class IndicatorCallTests: XCTestCase {
    /// "sma(close,10)" → the call, as a rule would make it.
    private func call(_ text: String) throws -> IndicatorCall {
        let name = String(text.prefix { $0 != "(" })
        let inside = text.dropFirst(name.count + 1).dropLast()
        let arguments: [IndicatorArgument] = inside.split(separator: ",").map { part in
            Double(part).map(IndicatorArgument.number) ?? .field(String(part))
        }
        return try IndicatorCall(name, arguments)
    }

    func testEveryCallAgreesWithTALib() throws {
        let doc = try IndicatorFixtureTests.fixture("calls")
        let calls = try XCTUnwrap(doc["calls"] as? [String])
        let cases = try XCTUnwrap(doc["cases"] as? [[String: Any]])
        var compared = 0, identical = 0
        var worst = 0.0
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let bars: [Bar]
            if let seed = c["seed"] as? Int, let count = c["count"] as? Int {
                bars = IndicatorFixtureTests.longSeries(count: count, seed: UInt64(seed))
            } else {
                bars = try IndicatorFixtureTests.bars(from: c)
            }
            let expected = try XCTUnwrap(c["expected"] as? [String: [Any]])
            for text in calls {
                let parsed = try call(text)
                XCTAssertEqual(parsed.description, text, "canonical text")
                let (instanceCall, output) = parsed.instance
                let state = IndicatorRunner(instanceCall)
                let values = try XCTUnwrap(expected[text])
                XCTAssertEqual(values.count, bars.count)
                let scale = values.reduce(0.0) { max($0, abs(($1 as? Double) ?? 0)) }
                // Values that are rounding noise around 0 get an absolute slack of 1e-13 of the
                // column's or the inputs' largest value: a MACD on a flat stretch at 100,000 is a
                // difference of two EMAs and carries their last bit (1.5e-11); a %K near 0 is a
                // running sum's residue (TA-Lib's own MFI reads 1e-12 where flows cancel).
                let inputScale = bars.reduce(0.0) { max($0, abs($1.high), abs($1.volume)) }
                for (i, bar) in bars.enumerated() {
                    let out = state.update(bar)
                    let ours = [out.0, out.1, out.2][output]
                    let theirs = values[i] as? Double
                    guard let ours, let theirs else {
                        XCTAssertEqual(ours == nil, theirs == nil,
                                       "\(name) \(text) bar \(i): ours \(String(describing: ours)), TA-Lib \(String(describing: theirs))")
                        continue
                    }
                    let error = IndicatorFixtureTests.relativeError(ours, theirs, floor: max(scale, inputScale) * 1e-4)
                    worst = max(worst, error)
                    compared += 1
                    if ours == theirs { identical += 1 }
                    XCTAssertLessThanOrEqual(error, 1e-9, "\(name) \(text) bar \(i): ours \(ours), TA-Lib \(theirs)")
                }
            }
        }
        XCTAssertGreaterThan(compared, 50_000)
        print("calls: \(compared) values compared with TA-Lib (\(identical) bit-identical), worst relative error \(worst)")
    }

    func testArgumentsAreCheckedWithTheirPosition() {
        func failure(_ name: String, _ args: [IndicatorArgument]) -> IndicatorCallError? {
            do { _ = try IndicatorCall(name, args) } catch { return error }
            return nil
        }
        XCTAssertEqual(failure("smma", [.field("close"), .number(3)])?.message, "unknown function smma")
        XCTAssertEqual(failure("sma", [.field("close")])?.message, "sma(x, n) takes 2 arguments, got 1")
        XCTAssertEqual(failure("sma", [.field("price"), .number(3)])?.argument, 0)
        XCTAssertEqual(failure("sma", [.number(3), .number(3)])?.argument, 0)
        XCTAssertEqual(failure("sma", [.field("close"), .number(0)])?.argument, 1)
        XCTAssertEqual(failure("sma", [.field("close"), .number(1)])?.message, "n must be a whole number from 2 to 10000, got 1")
        XCTAssertEqual(failure("sma", [.field("close"), .number(10_001)])?.argument, 1)
        XCTAssertEqual(failure("sma", [.field("close"), .number(2.5)])?.argument, 1)
        XCTAssertEqual(failure("bb_upper", [.field("close"), .number(20), .number(0)])?.message, "k must be a number > 0, got 0")
        XCTAssertEqual(failure("macd", [.field("close"), .number(12), .field("close"), .number(9)])?.argument, 2)
        XCTAssertEqual(failure("obv", [.number(1)])?.argument, 0)
        XCTAssertNil(failure("mom", [.field("close"), .number(1)]), "TA-Lib allows a period of 1 for MOM")
        XCTAssertNil(failure("atr", [.number(1)]))
    }

    func testOutputsOfOneInstanceShareIt() throws {
        XCTAssertEqual(try call("macd_signal(close,5,35,5)").instance.call, try call("macd(close,5,35,5)"))
        XCTAssertEqual(try call("macd_hist(close,5,35,5)").instance.output, 2)
        XCTAssertEqual(try call("bb_lower(close,10,1.5)").instance.call, try call("bb_upper(close,10,1.5)"))
        XCTAssertNotEqual(try call("sma(close,10)"), try call("sma(open,10)"))
        XCTAssertEqual(try call("sma(close,10)").hashValue, try call("sma(close,10.0)").hashValue)
    }

    /// Highest/lowest use a monotonic deque: over a long window its work stays constant, and it
    /// agrees with a scan at every step (including runs of equal values and window turnover).
    func testRollingExtremeMatchesAScan() {
        var state: UInt64 = 5
        var highs = RollingExtreme(period: 37, highest: true), lows = RollingExtreme(period: 37, highest: false)
        var recent: [Double] = []
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let x = Double((state >> 40) % 50)  // many ties
            recent.append(x)
            if recent.count > 37 { recent.removeFirst() }
            let h = highs.update(x), l = lows.update(x)
            if recent.count == 37 {
                XCTAssertEqual(h, recent.max())
                XCTAssertEqual(l, recent.min())
            } else {
                XCTAssertNil(h)
            }
        }
        XCTAssertLessThanOrEqual(highs.values.count, 2 * 37 + 2, "the deque stays about one window long")
    }
}
