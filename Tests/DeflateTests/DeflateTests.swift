import Deflate
import XCTest

final class DeflateTests: XCTestCase {
    private func sample(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Half text-like (compressible), half random.
            return i % 2 == 0 ? UInt8(ascii: "a") + UInt8(i % 7) : UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    func testGzipRoundTripAtSeveralSizes() throws {
        for size in [0, 1, 100, 65_537, 1 << 20] {
            let input = sample(size, seed: UInt64(size))
            let compressed = try Gzip.compress(input, level: 9)
            XCTAssertEqual(Array(compressed.prefix(2)), [0x1f, 0x8b], "gzip magic")
            XCTAssertEqual(try Gzip.decompress(compressed, maxOutput: size), input, "size \(size)")
        }
    }

    func testGunzipRefusesBombsAndTruncation() throws {
        let zeros = [UInt8](repeating: 0, count: 10 << 20)
        let bomb = try Gzip.compress(zeros, level: 9)
        XCTAssertLessThan(bomb.count, 64 * 1024)
        XCTAssertThrowsError(try Gzip.decompress(bomb, maxOutput: 1 << 20)) { error in
            XCTAssertEqual(error as? DeflateError, .outputLimitExceeded)
        }
        let text = try Gzip.compress(Array(String(repeating: "东风破 ", count: 500).utf8))
        XCTAssertThrowsError(try Gzip.decompress(Array(text.prefix(text.count / 2)), maxOutput: 1 << 20))
        XCTAssertThrowsError(try Gzip.decompress([1, 2, 3, 4, 5], maxOutput: 100))
    }

    func testRFC7692HelloVector() throws {
        // RFC 7692 §7.2.3.1: "Hello" in one compressed message.
        let deflater = try RawDeflater(noContextTakeover: true)
        var out: [UInt8] = []
        try Array("Hello".utf8).withUnsafeBytes { try deflater.compressMessage($0, into: &out) }
        XCTAssertEqual(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        let inflater = try RawInflater(noContextTakeover: true)
        var plain: [UInt8] = []
        try [UInt8]([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).withUnsafeBytes {
            try inflater.decompressMessage($0, maxOutput: 100, into: &plain)
        }
        XCTAssertEqual(String(decoding: plain, as: UTF8.self), "Hello")
    }

    func testContextTakeoverShrinksRepeatsAndRoundTrips() throws {
        for takeover in [true, false] {
            let deflater = try RawDeflater(noContextTakeover: !takeover)
            let inflater = try RawInflater(noContextTakeover: !takeover)
            let message = Array(#"{"type":"opportunity","payload":{"symbol":"600519.SH","direction":"long"}}"#.utf8)
            var sizes: [Int] = []
            for _ in 0..<3 {
                var compressed: [UInt8] = []
                try message.withUnsafeBytes { try deflater.compressMessage($0, into: &compressed) }
                sizes.append(compressed.count)
                var plain: [UInt8] = []
                try compressed.withUnsafeBytes { try inflater.decompressMessage($0, maxOutput: 1024, into: &plain) }
                XCTAssertEqual(plain, message)
            }
            if takeover { XCTAssertLessThan(sizes[1], sizes[0], "the shared window should help") }
            else { XCTAssertEqual(sizes[1], sizes[0]) }
        }
    }

    func testRawInflaterCapsOutput() throws {
        let deflater = try RawDeflater(noContextTakeover: true)
        var compressed: [UInt8] = []
        try [UInt8](repeating: 65, count: 1 << 20).withUnsafeBytes { try deflater.compressMessage($0, into: &compressed) }
        let inflater = try RawInflater(noContextTakeover: true)
        var plain: [UInt8] = []
        XCTAssertThrowsError(try compressed.withUnsafeBytes { try inflater.decompressMessage($0, maxOutput: 4096, into: &plain) }) {
            XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded)
        }
        XCTAssertLessThanOrEqual(plain.count, 4096)
    }
}
