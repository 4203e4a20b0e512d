import CZlib
@testable import Deflate
import XCTest

/// Deterministic bytes: alternating runs of text-like and random bytes, so both zlib paths run.
func sampleBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    let words = Array("the quick brown fox jumps over the lazy dog; 东风 ".utf8)
    while bytes.count < count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let run = Int(state >> 58) + 1
        if state & 1 == 0 {
            for i in 0..<run where bytes.count < count { bytes.append(words[(Int(state >> 40) + i) % words.count]) }
        } else {
            for i in 0..<run where bytes.count < count { bytes.append(UInt8(truncatingIfNeeded: state >> (8 + i % 40))) }
        }
    }
    return bytes
}

final class GzipTests: XCTestCase {
    func testRoundTripAtSeveralSizes() throws {
        for size in [0, 1, 255, 16_383, 16_384, 16_385, 65_537, 1 << 20] {
            let input = sampleBytes(size, seed: UInt64(size))
            for level: Int32 in [1, 6, 9] {
                let compressed = try Gzip.compress(input, level: level)
                XCTAssertEqual(Array(compressed.prefix(3)), [0x1f, 0x8b, 0x08], "gzip magic and deflate method")
                XCTAssertEqual(try Gzip.decompress(compressed, maxOutput: size), input, "size \(size) level \(level)")
            }
        }
    }

    func testCompressesTextAndDefaultLevel() throws {
        let text = Array(String(repeating: "<li>东风 quote</li>\n", count: 2000).utf8)
        let compressed = try Gzip.compress(text)
        XCTAssertLessThan(compressed.count, text.count / 20)
        XCTAssertEqual(try Gzip.decompress(compressed, maxOutput: text.count), text)
    }

    func testRandomOneMiBRoundTrips() throws {
        var state: UInt64 = 42
        let random = (0..<(1 << 20)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let compressed = try Gzip.compress(random, level: 9)
        XCTAssertEqual(try Gzip.decompress(compressed, maxOutput: random.count), random)
    }

    func testDecodesTheGzipTool() throws {
        // printf 'hello\n' | gzip -n
        let vector: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
                               0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00]
        XCTAssertEqual(try Gzip.decompress(vector, maxOutput: 6), Array("hello\n".utf8))
    }

    func testCapIsExact() throws {
        let input = sampleBytes(100_000, seed: 7)
        let compressed = try Gzip.compress(input)
        XCTAssertEqual(try Gzip.decompress(compressed, maxOutput: input.count), input)
        XCTAssertThrowsError(try Gzip.decompress(compressed, maxOutput: input.count - 1)) {
            XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded)
        }
        XCTAssertThrowsError(try Gzip.decompress(compressed, maxOutput: 0)) {
            XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded)
        }
        XCTAssertEqual(try Gzip.decompress(Gzip.compress([]), maxOutput: 0), [])
        XCTAssertThrowsError(try Gzip.decompress(compressed, maxOutput: -1)) {
            XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded)
        }
    }

    func testBombStopsAtTheCapWithoutGrowingPastIt() throws {
        let bomb = try Gzip.compress([UInt8](repeating: 0, count: 10 << 20), level: 9)
        XCTAssertLessThan(bomb.count, 20 * 1024)
        let cap = 1 << 20
        XCTAssertThrowsError(try Gzip.decompress(bomb, maxOutput: cap)) {
            XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded)
        }
        var out: [UInt8] = []
        XCTAssertThrowsError(try bomb.withUnsafeBytes { raw in
            try Gzip.decompress(raw, maxOutput: cap, into: &out)
        }) { XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded) }
        XCTAssertLessThanOrEqual(out.count, cap, "never more output than the cap")
        XCTAssertLessThanOrEqual(out.capacity, cap + 4096, "never allocated far past the cap")
        XCTAssertGreaterThan(out.count, cap - 64 * 1024, "decoded up to the cap before stopping")
    }

    func testTruncatedInputThrowsTruncated() throws {
        let compressed = try Gzip.compress(sampleBytes(50_000, seed: 3))
        for cut in [0, 1, 9, 10, compressed.count / 2, compressed.count - 8, compressed.count - 1] {
            XCTAssertThrowsError(try Gzip.decompress(Array(compressed.prefix(cut)), maxOutput: 1 << 20), "cut \(cut)") {
                XCTAssertEqual($0 as? DeflateError, .truncated, "cut \(cut)")
            }
        }
    }

    func testCorruptInputThrows() throws {
        let input = sampleBytes(10_000, seed: 5)
        let compressed = try Gzip.compress(input)
        var badCRC = compressed
        badCRC[badCRC.count - 6] ^= 0x55
        XCTAssertThrowsError(try Gzip.decompress(badCRC, maxOutput: 1 << 20)) {
            guard case .zlib(Z_DATA_ERROR, _)? = $0 as? DeflateError else { return XCTFail("\($0)") }
        }
        var badLength = compressed
        badLength[badLength.count - 1] ^= 0x01
        XCTAssertThrowsError(try Gzip.decompress(badLength, maxOutput: 1 << 20))
        var flipped = compressed
        flipped[compressed.count / 2] ^= 0xff
        XCTAssertThrowsError(try Gzip.decompress(flipped, maxOutput: 1 << 20))
        XCTAssertThrowsError(try Gzip.decompress(compressed + [0x42], maxOutput: 1 << 20)) {
            guard case .zlib(Z_DATA_ERROR, _)? = $0 as? DeflateError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Gzip.decompress(Array("not gzip at all".utf8), maxOutput: 100)) {
            guard case .zlib(Z_DATA_ERROR, _)? = $0 as? DeflateError else { return XCTFail("\($0)") }
        }
    }

    func testInvalidLevelIsAZlibError() {
        XCTAssertThrowsError(try Gzip.compress([1, 2, 3], level: 42)) {
            guard case .zlib(Z_STREAM_ERROR, _)? = $0 as? DeflateError else { return XCTFail("\($0)") }
        }
    }
}
