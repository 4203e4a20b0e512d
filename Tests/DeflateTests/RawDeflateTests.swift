import CZlib
@testable import Deflate
import XCTest

final class RawDeflateTests: XCTestCase {
    private let hello: [UInt8] = Array("Hello".utf8)

    private func compress(_ deflater: RawDeflater, _ message: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try message.withUnsafeBytes { try deflater.compressMessage($0, into: &out) }
        return out
    }

    private func inflate(_ inflater: RawInflater, _ payload: [UInt8], max: Int = 1 << 20) throws -> [UInt8] {
        var out: [UInt8] = []
        try payload.withUnsafeBytes { try inflater.decompressMessage($0, maxOutput: max, into: &out) }
        return out
    }

    // RFC 7692 §7.2.3.1
    func testRFCHelloVector() throws {
        XCTAssertEqual(try compress(RawDeflater(noContextTakeover: true), hello), [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        XCTAssertEqual(try inflate(RawInflater(noContextTakeover: true), [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), hello)
    }

    // RFC 7692 §7.2.3.2: the second "Hello" refers back into the first message.
    func testRFCSharedWindowVector() throws {
        let deflater = try RawDeflater(noContextTakeover: false)
        XCTAssertEqual(try compress(deflater, hello), [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        XCTAssertEqual(try compress(deflater, hello), [0xf2, 0x00, 0x11, 0x00, 0x00])
        let inflater = try RawInflater(noContextTakeover: false)
        XCTAssertEqual(try inflate(inflater, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), hello)
        XCTAssertEqual(try inflate(inflater, [0xf2, 0x00, 0x11, 0x00, 0x00]), hello)
    }

    // RFC 7692 §7.2.3.3 (stored block), §7.2.3.4 (BFINAL set), §7.2.3.5 (two blocks).
    func testRFCOtherBlockVectors() throws {
        let stored: [UInt8] = [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]
        let final: [UInt8] = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]
        let twoBlocks: [UInt8] = [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00]
        for takeover in [false, true] {
            let inflater = try RawInflater(noContextTakeover: !takeover)
            for payload in [stored, final, twoBlocks, final, stored] {
                XCTAssertEqual(try inflate(inflater, payload), hello, "\(payload) takeover \(takeover)")
            }
        }
    }

    func testWindowIsKeptAcrossAFinalBlock() throws {
        let inflater = try RawInflater(noContextTakeover: false)
        XCTAssertEqual(try inflate(inflater, [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), hello, "final block, no padding")
        XCTAssertEqual(try inflate(inflater, [0xf2, 0x00, 0x11, 0x00, 0x00]), hello, "back-reference into the old stream")
    }

    func testTrailingEmptyBlockIsStripped() throws {
        let message = sampleBytes(5000, seed: 9)
        let ours = try compress(RawDeflater(noContextTakeover: true), message)
        let z = try ZStream(mode: .deflate, windowBits: -15)
        var reference: [UInt8] = []
        _ = try message.withUnsafeBytes { try z.process($0, flush: Z_SYNC_FLUSH, into: &reference, limit: .max) }
        XCTAssertEqual(Array(reference.suffix(4)), [0x00, 0x00, 0xff, 0xff])
        XCTAssertEqual(ours + [0x00, 0x00, 0xff, 0xff], reference)
    }

    func testEmptyMessages() throws {
        XCTAssertEqual(try compress(RawDeflater(noContextTakeover: true), []), [0x00], "RFC 7692 §7.2.3.6")
        for takeover in [false, true] {
            let deflater = try RawDeflater(noContextTakeover: !takeover)
            let inflater = try RawInflater(noContextTakeover: !takeover)
            for message in [[], [], hello, [], hello] {
                XCTAssertEqual(try inflate(inflater, compress(deflater, message)), message, "takeover \(takeover)")
            }
            XCTAssertEqual(try inflate(inflater, []), [], "an empty payload is an empty message")
        }
    }

    func testRoundTripsManyMessagesWithAndWithoutTakeover() throws {
        let json = Array(#"{"type":"opportunity","payload":{"symbol":"600519.SH","direction":"long","score":0.87}}"#.utf8)
        let messages = [json, json, sampleBytes(200_000, seed: 1), json, [0x42], sampleBytes(70_000, seed: 2), json]
        for takeover in [false, true] {
            let deflater = try RawDeflater(noContextTakeover: !takeover)
            let inflater = try RawInflater(noContextTakeover: !takeover)
            var sizes: [Int] = []
            for (i, message) in messages.enumerated() {
                let compressed = try compress(deflater, message)
                sizes.append(compressed.count)
                XCTAssertEqual(try inflate(inflater, compressed), message, "message \(i) takeover \(takeover)")
            }
            if takeover {
                XCTAssertLessThan(sizes[1], sizes[0] / 3, "the shared window makes a repeat cheap")
            } else {
                XCTAssertEqual(sizes[1], sizes[0], "no context: the same message compresses the same")
                XCTAssertEqual(sizes[6], sizes[0])
            }
        }
    }

    func testAppendsAfterExistingBytes() throws {
        let deflater = try RawDeflater(noContextTakeover: true)
        var frame: [UInt8] = [0xc1, 0x07]
        try hello.withUnsafeBytes { try deflater.compressMessage($0, into: &frame) }
        XCTAssertEqual(frame, [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        let inflater = try RawInflater(noContextTakeover: true)
        var text: [UInt8] = Array("> ".utf8)
        try frame[2...].withUnsafeBytes { try inflater.decompressMessage($0, maxOutput: 5, into: &text) }
        XCTAssertEqual(String(decoding: text, as: UTF8.self), "> Hello")
    }

    func testWindowBits() throws {
        let message = sampleBytes(100_000, seed: 4)
        for bits in 8...15 {
            let deflater = try RawDeflater(windowBits: bits, noContextTakeover: false)
            let inflater = try RawInflater(windowBits: bits, noContextTakeover: false)
            XCTAssertEqual(deflater.windowBits, max(9, bits), "zlib cannot raw-deflate with 8 bits")
            XCTAssertEqual(inflater.windowBits, max(9, bits))
            for _ in 0..<2 { XCTAssertEqual(try inflate(inflater, compress(deflater, message)), message, "bits \(bits)") }
        }
        for bits in [7, 16, 0, -15] {
            XCTAssertThrowsError(try RawDeflater(windowBits: bits, noContextTakeover: true))
            XCTAssertThrowsError(try RawInflater(windowBits: bits, noContextTakeover: true))
        }
        XCTAssertThrowsError(try RawDeflater(level: 10, noContextTakeover: true))
    }

    func testInflaterCapsOutputAndLeavesOutUntouched() throws {
        let deflater = try RawDeflater(noContextTakeover: true)
        let bomb = try compress(deflater, [UInt8](repeating: 65, count: 10 << 20))
        XCTAssertLessThan(bomb.count, 20 * 1024)
        let inflater = try RawInflater(noContextTakeover: true)
        var out: [UInt8] = [1, 2, 3]
        XCTAssertThrowsError(try bomb.withUnsafeBytes { try inflater.decompressMessage($0, maxOutput: 4096, into: &out) }) {
            XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded)
        }
        XCTAssertEqual(out, [1, 2, 3], "partial output is removed")
        XCTAssertLessThan(out.capacity, 64 * 1024, "never grew towards the bomb's size")
        // Exactly at the cap is fine; one byte over is not.
        let message = sampleBytes(40_000, seed: 8)
        let compressed = try compress(deflater, message)
        XCTAssertEqual(try inflate(inflater, compressed, max: message.count), message)
        XCTAssertThrowsError(try inflate(inflater, compressed, max: message.count - 1)) {
            XCTAssertEqual($0 as? DeflateError, .outputLimitExceeded)
        }
        XCTAssertEqual(try inflate(inflater, compressed, max: message.count), message, "usable after an error without takeover")
    }

    func testCorruptPayloadThrows() throws {
        let inflater = try RawInflater(noContextTakeover: true)
        var out: [UInt8] = []
        XCTAssertThrowsError(try [UInt8]([0xff, 0xff, 0xff]).withUnsafeBytes {
            try inflater.decompressMessage($0, maxOutput: 100, into: &out)
        }) {
            guard case .zlib(Z_DATA_ERROR, _)? = $0 as? DeflateError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(out, [])
        XCTAssertEqual(try inflate(inflater, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), hello, "reset after the error")
    }
}
