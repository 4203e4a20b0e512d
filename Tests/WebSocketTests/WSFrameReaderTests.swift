import Deflate
import WebSocket
import XCTest

/// A client frame, masked as clients must.
func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, masked: Bool = true,
                 mask: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode]
    let n = payload.count
    let m: UInt8 = masked ? 0x80 : 0
    if n < 126 { out.append(m | UInt8(n)) }
    else if n <= 0xFFFF { out += [m | 126, UInt8(n >> 8), UInt8(n & 0xFF)] }
    else { out.append(m | 127); for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(n) >> UInt64(s)) & 0xFF)) } }
    if masked {
        out += mask
        out += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
    } else {
        out += payload
    }
    return out
}

final class WSFrameReaderTests: XCTestCase {
    private func events(_ bytes: [UInt8], max: Int = 1 << 20, inflater: RawInflater? = nil, oneByteAtATime: Bool = false) -> [WSEvent] {
        var reader = WSFrameReader(maxMessageBytes: max, inflater: inflater)
        var out: [WSEvent] = []
        let pieces = oneByteAtATime ? bytes.map { [$0] } : [bytes]
        for piece in pieces {
            reader.append(contentsOf: piece)
            while true {
                let e = reader.next()
                if e == .needMore { break }
                out.append(e)
                if case .failure = e { return out }
            }
        }
        return out
    }

    func testRFC6455Examples() {
        // §5.7: a masked "Hello", and "Hel" + "lo" fragmented.
        let hello: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        XCTAssertEqual(events(hello), [.text(Array("Hello".utf8))])
        let fragmented = clientFrame(1, Array("Hel".utf8), fin: false) + clientFrame(0, Array("lo".utf8))
        XCTAssertEqual(events(fragmented), [.text(Array("Hello".utf8))])
        XCTAssertEqual(events(fragmented, oneByteAtATime: true), [.text(Array("Hello".utf8))])
    }

    func testControlFramesBetweenFragmentsAndLengths() {
        let big = [UInt8](repeating: 0x61, count: 70_000)
        let bytes = clientFrame(2, [1, 2], fin: false) + clientFrame(9, Array("ping".utf8)) + clientFrame(0, [3], fin: false)
            + clientFrame(10, []) + clientFrame(0, [4]) + clientFrame(1, Array(repeating: 0x62, count: 300)) + clientFrame(2, big)
        XCTAssertEqual(events(bytes), [.ping(Array("ping".utf8)), .pong([]), .binary([1, 2, 3, 4]),
                                       .text(Array(repeating: 0x62, count: 300)), .binary(big)])
    }

    func testCloseFrames() {
        XCTAssertEqual(events(clientFrame(8, [])), [.close(code: nil, reason: "")])
        XCTAssertEqual(events(clientFrame(8, [0x03, 0xE8] + Array("bye".utf8))), [.close(code: 1000, reason: "bye")])
        XCTAssertEqual(events(clientFrame(8, [0x03])), [.failure(WSError(code: .protocolError, reason: "close frame with a 1-byte body"))])
        for bad: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            guard case .failure(let e)? = events(clientFrame(8, [UInt8(bad >> 8), UInt8(bad & 0xFF)])).first else {
                return XCTFail("code \(bad) accepted")
            }
            XCTAssertEqual(e.code, .protocolError)
        }
        XCTAssertEqual(events(clientFrame(8, [0x0B, 0xB8])), [.close(code: 3000, reason: "")])
        guard case .failure(let e)? = events(clientFrame(8, [0x03, 0xE8, 0xff])).first else { return XCTFail() }
        XCTAssertEqual(e.code, .invalidPayload)
    }

    func testProtocolViolations() {
        let cases: [([UInt8], WSCloseCode)] = [
            (clientFrame(1, Array("x".utf8), masked: false), .protocolError),
            (clientFrame(3, []), .protocolError),                                  // reserved opcode
            (clientFrame(11, []), .protocolError),
            ([0xA1, 0x80, 0, 0, 0, 0], .protocolError),                            // RSV2
            (clientFrame(1, Array("x".utf8), rsv1: true), .protocolError),         // RSV1 without deflate
            (clientFrame(9, [], fin: false), .protocolError),                      // fragmented ping
            (clientFrame(9, [UInt8](repeating: 0, count: 126)), .protocolError),   // long ping
            (clientFrame(0, [1]), .protocolError),                                 // stray continuation
            (clientFrame(1, [0x61], fin: false) + clientFrame(1, [0x62]), .protocolError),
            (clientFrame(1, [0xce, 0xba, 0xe1, 0xbd]), .invalidPayload),           // truncated UTF-8
            (clientFrame(1, [0xed, 0xa0, 0x80]), .invalidPayload),                 // surrogate
            (clientFrame(2, [UInt8](repeating: 0, count: 2000)), .messageTooBig),
            (clientFrame(2, [UInt8](repeating: 0, count: 600), fin: false) + clientFrame(0, [UInt8](repeating: 0, count: 600)), .messageTooBig),
            ([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1], .protocolError),             // 64-bit length with top bit
        ]
        for (bytes, code) in cases {
            guard case .failure(let e)? = events(bytes, max: 1024).last else { return XCTFail("\(bytes.prefix(4)) accepted") }
            XCTAssertEqual(e.code, code, e.reason)
        }
        // UTF-8 split across fragments is fine.
        XCTAssertEqual(events(clientFrame(1, [0xce, 0xba, 0xe1], fin: false) + clientFrame(0, [0xbd, 0xb9])),
                       [.text([0xce, 0xba, 0xe1, 0xbd, 0xb9])])
    }

    func testPermessageDeflateAndZipBomb() throws {
        let deflater = try RawDeflater(noContextTakeover: false)
        let inflater = try RawInflater(noContextTakeover: false)
        var bytes: [UInt8] = []
        let messages = [#"{"op":"subscribe","channels":["opportunities"]}"#, #"{"op":"ping"}"#, #"{"op":"subscribe","channels":["opportunities"]}"#]
        for m in messages {
            var compressed: [UInt8] = []
            try Array(m.utf8).withUnsafeBytes { try deflater.compressMessage($0, into: &compressed) }
            bytes += clientFrame(1, compressed, rsv1: true)
        }
        XCTAssertEqual(events(bytes, inflater: inflater), messages.map { .text(Array($0.utf8)) })
        // 10 MB of zeros compress to ~10 KB: refused once inflated past the limit, never buffered whole.
        let bomber = try RawDeflater(noContextTakeover: true)
        var bomb: [UInt8] = []
        try [UInt8](repeating: 0, count: 10 << 20).withUnsafeBytes { try bomber.compressMessage($0, into: &bomb) }
        guard case .failure(let e)? = events(clientFrame(2, bomb, rsv1: true), inflater: try RawInflater(noContextTakeover: true)).last else {
            return XCTFail("zip bomb accepted")
        }
        XCTAssertEqual(e.code, .messageTooBig)
    }

    /// The lazily made inflater (sessions hold no zlib state until a compressed message comes)
    /// decodes streams with and without context takeover, and refuses RSV1 when not negotiated.
    func testLazyInflaterWithAndWithoutContextTakeover() throws {
        let messages = [#"{"op":"subscribe","channels":["opportunities"]}"#, #"{"op":"ping"}"#, #"{"op":"subscribe","channels":["opportunities"]}"#]
        for takeover in [true, false] {
            let deflater = try RawDeflater(noContextTakeover: !takeover)
            var reader = WSFrameReader(maxMessageBytes: 1 << 20, inflateWindowBits: 15, noContextTakeover: !takeover)
            for m in messages {
                var compressed: [UInt8] = []
                try Array(m.utf8).withUnsafeBytes { try deflater.compressMessage($0, into: &compressed) }
                reader.append(contentsOf: clientFrame(1, compressed, rsv1: true))
                XCTAssertEqual(reader.next(), .text(Array(m.utf8)), "context takeover \(takeover)")
            }
            reader.append(contentsOf: clientFrame(1, Array("plain".utf8)))
            XCTAssertEqual(reader.next(), .text(Array("plain".utf8)))
        }
        var notNegotiated = WSFrameReader(maxMessageBytes: 1 << 20, inflateWindowBits: nil, noContextTakeover: true)
        notNegotiated.append(contentsOf: clientFrame(1, [0x4a, 0x04, 0x00], rsv1: true))
        guard case .failure(let e) = notNegotiated.next() else { return XCTFail("RSV1 accepted without permessage-deflate") }
        XCTAssertEqual(e.code, .protocolError)
    }

    func testWriterAndHandshake() {
        XCTAssertEqual(WSFrameWriter.frame(.text, Array("Hello".utf8)), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        XCTAssertEqual(Array(WSFrameWriter.frame(.binary, [UInt8](repeating: 1, count: 256)).prefix(4)), [0x82, 0x7E, 0x01, 0x00])
        XCTAssertEqual(Array(WSFrameWriter.frame(.binary, [UInt8](repeating: 1, count: 65_536)).prefix(10)), [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
        let close = WSFrameWriter.close(.tryAgainLater, reason: String(repeating: "东", count: 60))
        XCTAssertLessThanOrEqual(close.count, 127)
        XCTAssertEqual(Array(close.prefix(4)), [0x88, UInt8(close.count - 2), 0x03, 0xF5])
        XCTAssertNotNil(String(validating: close[4...], as: UTF8.self), "the reason is cut on a character boundary")
        // RFC 6455 §1.3 example.
        XCTAssertEqual(WSHandshake.accept(key: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertTrue(WSHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ=="))
        XCTAssertFalse(WSHandshake.isValidKey("short=="))
    }

    func testDeflateNegotiation() {
        XCTAssertNil(PerMessageDeflate.negotiate(nil))
        XCTAssertNil(PerMessageDeflate.negotiate("x-webkit-deflate-frame"))
        XCTAssertEqual(PerMessageDeflate.negotiate("permessage-deflate; client_max_window_bits")?.responseHeader,
                       "permessage-deflate; server_no_context_takeover")
        let both = PerMessageDeflate.negotiate("permessage-deflate; client_no_context_takeover; server_max_window_bits=10")
        XCTAssertEqual(both?.responseHeader, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10")
        XCTAssertEqual(PerMessageDeflate.negotiate("permessage-deflate; server_max_window_bits=8, permessage-deflate")?.serverMaxWindowBits, 15,
                       "an unacceptable first offer falls back to the next")
        XCTAssertNil(PerMessageDeflate.negotiate("permessage-deflate; server_max_window_bits=16"))
        XCTAssertNil(PerMessageDeflate.negotiate("permessage-deflate; foo"))
        XCTAssertNil(PerMessageDeflate.negotiate("permessage-deflate; client_no_context_takeover; client_no_context_takeover"))
    }
}
