import HTTP
import XCTest

/// Mutated and random inputs: the parser never crashes, never loops, and its outcome does not
/// depend on how the bytes were split (a cheap, deterministic cousin of the fuzz targets).
final class HTTPParserRobustnessTests: XCTestCase {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    private func random(_ n: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(state % UInt64(max(1, n)))
    }

    func testMutatedRequestsAreHandledConsistently() {
        let seeds = [
            "GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: v\r\n\r\n",
        ].map { Array($0.utf8) }
        let alphabet: [UInt8] = Array("\r\n :;,0123456789abcdefGET/HTTP%\t".utf8) + [0, 0x7f, 0xff]
        let limits = HTTPLimits(maxHeaderBytes: 512, maxHeaderCount: 8, maxURIBytes: 128, maxBodyBytes: 64)
        for round in 0..<3000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + random(4)) {
                let position = random(bytes.count + 1)
                switch random(3) {
                case 0 where !bytes.isEmpty: bytes.remove(at: min(position, bytes.count - 1))
                case 1: bytes.insert(alphabet[random(alphabet.count)], at: position)
                default: if !bytes.isEmpty { bytes[min(position, bytes.count - 1)] = alphabet[random(alphabet.count)] }
                }
            }
            let whole = parse(bytes, limits: limits)
            let cut = random(bytes.count + 1)
            XCTAssertEqual(parse(bytes, pieces: [cut, bytes.count - cut], limits: limits), whole,
                           "split at \(cut) of \(bytes) differs")
        }
    }
}
