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

    func testPlainStringsAreCopiedAsIs() {
        var out: [UInt8] = []
        JSONWriter.appendEscaped("600519.SH-long-1732500000000", to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "\"600519.SH-long-1732500000000\"")
        out = []
        JSONWriter.appendEscaped("a\"b", to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), #""a\"b""#)
    }
}
