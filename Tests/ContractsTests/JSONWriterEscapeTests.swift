import Contracts
import Foundation
import XCTest

/// String escaping, on the fast path (nothing to escape) and the slow one, round-trips through
/// Foundation's parser.
final class JSONWriterEscapeTests: XCTestCase {
    func testStringsRoundTripWhateverTheyHold() throws {
        let samples = ["plain", "", "东风破 600519.SH", "quote \" inside", "back\\slash", "line\nbreak\ttab\r",
                       "\u{0}\u{1}\u{1f}", "emoji 🚀 and é", String(repeating: "long-", count: 500)]
        for sample in samples {
            var w = JSONWriter()
            w.beginObject()
            w.string("value", sample)
            w.string("key \"odd\"", "x")
            w.endObject()
            let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: String], sample)
            XCTAssertEqual(parsed["value"], sample)
            XCTAssertEqual(parsed["key \"odd\""], "x")
        }
    }

    /// Commas are placed per nesting level, past the 64 levels the writer tracks in a word too,
    /// and a reset or a new NDJSON line starts clean.
    func testNestingPlacesCommasAtEveryDepth() throws {
        for depth in [1, 2, 63, 64, 65, 130] {
            var w = JSONWriter()
            for level in 0..<depth {
                w.beginObject(level == 0 ? nil : "k")
                w.int("a", level)
                w.int("b", level)
            }
            for _ in 0..<depth { w.endObject() }
            var node = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any], "depth \(depth)")
            for level in 0..<depth {
                XCTAssertEqual(node["a"] as? Int, level)
                XCTAssertEqual(node["b"] as? Int, level)
                if level < depth - 1 { node = try XCTUnwrap(node["k"] as? [String: Any]) }
            }
        }
        var w = JSONWriter()
        w.beginArray()
        w.int(nil, 1)
        w.appendNewline()
        w.beginObject()
        w.int("x", 2)
        w.endObject()
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "[1\n{\"x\":2}")
        w.reset()
        w.beginArray()
        w.int(nil, 1)
        w.int(nil, 2)
        w.endArray()
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "[1,2]")
    }

    func testPlainStringsAreCopiedAsIs() {
        var out: [UInt8] = []
        JSONWriter.appendEscaped("600519.SH-long-1732500000000", to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "\"600519.SH-long-1732500000000\"")
        out = []
        JSONWriter.appendEscaped("a\"b", to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), #""a\"b""#)
    }

    /// Integers are written digit by digit (no String on the way): every edge of every width
    /// reads back as the number written.
    func testIntegersAreWrittenExactly() throws {
        let signed: [Int64] = [0, 7, 9, 10, -1, -9, -10, 99, 100, 1_732_500_000_000, -1_732_500_000_000, .max, .min, .max - 1, .min + 1]
        for value in signed {
            var w = JSONWriter()
            w.int64(nil, value)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), String(value))
            var v = JSONWriter()
            v.int(nil, Int(value))
            XCTAssertEqual(String(decoding: v.bytes, as: UTF8.self), String(value))
        }
        for value: UInt64 in [0, 1, 10, 18_446_744_073_709_551_615, 10_000_000_000_000_000_000, 9_999_999_999_999_999_999] {
            var w = JSONWriter()
            w.uint64(nil, value)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), String(value))
        }
        var w = JSONWriter()
        w.beginObject()
        w.int64("a", -5)
        w.uint64("b", 12)
        w.int("c", 0)
        w.endObject()
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), #"{"a":-5,"b":12,"c":0}"#)
    }

    /// The envelope says where its payload starts: that slice is the payload encoding itself,
    /// with or without an instance field (the journal record and the store's answer share it).
    /// Numbers are the shortest digits that read back to the same Double (String(value)'s), on
    /// tiny, huge, negative, subnormal and ordinary prices alike; non-finite ones are null.
    func testDoublesAreShortestRoundTripDigits() throws {
        var samples: [Double] = [0, -0.0, 1, 42, 0.1, 100.50010000000001, 1e-5, 5e-324, 2.2250738585072014e-308,
                                 1.7976931348623157e308, 123456789012345680000.0, -3.14159, 1e16, 1e15, 0.000123]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { samples.append(Double(bitPattern: rng.next()) ) }
        for _ in 0..<2000 { samples.append(Double.random(in: -1e6...1e6, using: &rng)) }
        for value in samples where value.isFinite {
            var w = JSONWriter()
            w.double(nil, value)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), String(value))
            let back = try XCTUnwrap(Double(String(decoding: w.bytes, as: UTF8.self)))
            XCTAssertEqual(back.bitPattern, value.bitPattern, "\(value)")
        }
        for value in [Double.nan, .infinity, -.infinity] {
            var w = JSONWriter()
            w.beginObject()
            w.double("x", value)
            w.endObject()
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), #"{"x":null}"#)
        }
    }

    func testEnvelopePayloadSliceIsThePayload() {
        let events: [PipelineEvent] = [
            .alert(RiskAlert(seq: 9, ts: 5, symbol: nil, kind: "signal_rate", severity: .warning, message: "m \"q\"", value: 1, threshold: 2)),
            .opportunity(Opportunity(seq: 12, id: "op-1", symbol: "600519.SH", direction: .short, status: .new, confidence: 0.5,
                                     price: 1688.5, strategies: ["a", "b"], signalCount: 2, createdTs: 1, updatedTs: 2, expiresTs: 3,
                                     riskStatus: .warn, riskAlerts: ["price_jump"], untradable: nil)),
            .bar(Bar(symbol: "X", interval: "1m", start: 60_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, vwap: 1.2, trades: 3)),
        ]
        for event in events {
            for instance in [nil, "gw-2"] as [String?] {
                var w = JSONWriter()
                var at = -1
                event.envelope(&w, instance: instance, payloadAt: &at)
                var whole = JSONWriter()
                event.envelope(&whole, instance: instance)
                XCTAssertEqual(w.bytes, whole.bytes)
                var payload = JSONWriter()
                switch event {
                case .alert(let a): EventEncoder.payload(a, &payload)
                case .opportunity(let o): EventEncoder.payload(o, &payload)
                case .bar(let b): EventEncoder.payload(b, &payload)
                default: XCTFail("not in the list")
                }
                XCTAssertEqual(Array(w.bytes[at..<(w.bytes.count - 1)]), payload.bytes, "\(event.channel) instance \(instance ?? "-")")
            }
        }
    }
}
