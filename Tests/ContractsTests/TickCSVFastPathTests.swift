@testable import Contracts
import XCTest

/// The CSV fast path (one pass per common row) must give exactly what the general path gives —
/// the same ticks, bit for bit, and the same rejections with the same messages — on any shape
/// of row: the general path is the reference.
final class TickCSVFastPathTests: XCTestCase {
    /// Knuth's MMIX LCG with an xorshift on the way out: reproducible documents.
    private struct Mix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    private func decode(_ text: String, fast: Bool, chunkAfterHeader: Bool = false) -> TickDecodeResult {
        var result = TickDecodeResult()
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { all in
            if chunkAfterHeader, let length = TickCSV.headerLength(all) {
                TickCSV.decode(UnsafeBufferPointer(rebasing: all[length...]), header: UnsafeBufferPointer(rebasing: all[..<length]),
                               into: &result, fastRows: fast)
            } else {
                TickCSV.decode(all, into: &result, fastRows: fast)
            }
        }
        return result
    }

    private func cell(_ field: String, _ rng: inout Mix) -> String {
        let odd = Int.random(in: 0..<100, using: &rng) < 25
        switch field {
        case "ts":
            if !odd { return String(Int64.random(in: 0...1_800_000_000_000, using: &rng)) }
            return ["2024-11-25T01:30:00Z", "2024-11-25T09:30:00.250+08:00", " 1732500000000", "1732500000000 ", "-5", "",
                    "12345678901234567890", "123456789012345678", "1e3", "2024-13-01T00:00:00Z", "\"1732500000001\"", "17325x"]
                .randomElement(using: &rng)!
        case "symbol":
            if !odd { return ["600519.SH", "000001.SZ", "A", "BTC-USDT", "ES:CME/Z4", "abcdefghijklmnop"].randomElement(using: &rng)! }
            return ["", "abcdefghijklmnopq", String(repeating: "Z", count: 33), "bad sym", "\"Q,UOTED\"", "\"AAPL\"", " IBM", "é", "x\"y", "A\u{0}", "abcdefgh\u{0}"]
                .randomElement(using: &rng)!
        case "price", "volume", "bid", "ask":
            if !odd {
                let scale = [1.0, 0.0001, 1e6, 100].randomElement(using: &rng)!
                return String(format: "%.\(Int.random(in: 0...6, using: &rng))f", Double.random(in: 0...2000, using: &rng) * scale)
            }
            return ["", "0", "-1.5", ".5", "5.", ".", "1e2", "1.5E-3", "0.1234567890123456", "1234567890123456", "00000000000000012.5",
                    "inf", "nan", " 12.5", "12.5 ", "\"10.5\"", "0x10", "1,5"].randomElement(using: &rng)!
        default:
            return ["SSE", "", "\"a, b\"", "x\"y", "\"multi\nline\""].randomElement(using: &rng)!
        }
    }

    func testFastRowsAgreeWithTheGeneralPath() {
        var rng = Mix(state: 20261206)
        let headers = [["ts", "symbol", "price", "volume"], ["price", "volume", "symbol", "ts", "ask", "bid", "exchange"],
                       ["symbol", "ts", "bid", "ask", "price", "volume"], ["ts", "symbol", "price", "volume", "price"],
                       ["exchange", "TS", " Symbol ", "price", "volume"]]
        var ticks = 0, rejected = 0
        for document in 0..<400 {
            let header = headers[document % headers.count]
            let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            var text = header.joined(separator: ",") + (Bool.random(using: &rng) ? "\r\n" : "\n")
            for _ in 0..<Int.random(in: 0..<40, using: &rng) {
                let shape = Int.random(in: 0..<100, using: &rng)
                var cells = names.map { cell($0, &rng) }
                if shape < 3 { cells.removeLast() } else if shape < 6 { cells.append("extra") }
                let line = shape == 6 ? "" : shape == 7 ? "   " : cells.joined(separator: ",")
                text += line + (Int.random(in: 0..<4, using: &rng) == 0 ? "\r\n" : "\n")
            }
            if Bool.random(using: &rng) { text.removeLast() }  // no final line end
            for chunked in [false, true] {
                let fast = decode(text, fast: true, chunkAfterHeader: chunked)
                let general = decode(text, fast: false, chunkAfterHeader: chunked)
                XCTAssertEqual(fast.ticks, general.ticks, "document \(document):\n\(text)")
                XCTAssertEqual(fast.rejected, general.rejected, "document \(document):\n\(text)")
                XCTAssertEqual(fast.documentError, general.documentError)
                for (a, b) in zip(fast.ticks, general.ticks) {
                    XCTAssertEqual(a.price.bitPattern, b.price.bitPattern)
                    XCTAssertEqual(a.volume.bitPattern, b.volume.bitPattern)
                }
                ticks += general.ticks.count
                rejected += general.rejected.count
            }
        }
        // The documents exercise both outcomes in quantity.
        XCTAssertGreaterThan(ticks, 2_000)
        XCTAssertGreaterThan(rejected, 2_000)
    }

    func testRepeatedSymbolsStayDistinct() {
        // Symbols that share a cache slot or a prefix come back as themselves.
        var text = "ts,symbol,price,volume\n"
        let symbols = (0..<300).map { "S\($0)" } + ["abcdefgh", "abcdefghi", "abcdefghijklmnop", "abcdefghijklmnoq", "abcdefghijklmnopq"]
        for (i, s) in (symbols + symbols.reversed()).enumerated() { text += "\(i),\(s),1.5,2\n" }
        let r = decode(text, fast: true)
        XCTAssertEqual(r.ticks.map(\.symbol), symbols + symbols.reversed())
        XCTAssertEqual(r.rejected, [])
        // A NUL byte after a cached symbol's bytes is not that symbol.
        let nul = decode("ts,symbol,price,volume\n1,AB,1,1\n2,AB\u{0},1,1\n3,abcdefgh,1,1\n4,abcdefgh\u{0},1,1\n", fast: true)
        XCTAssertEqual(nul.ticks.map(\.symbol), ["AB", "abcdefgh"])
        XCTAssertEqual(nul.rejected.map(\.field), ["symbol", "symbol"])
    }
}
