import Redis
import XCTest

final class RESPParserTests: XCTestCase {
    private func values(_ bytes: [UInt8], oneByteAtATime: Bool = false) -> [RESPParser.Event] {
        var parser = RESPParser(maxBulkBytes: 1 << 20, maxDepth: 4)
        var out: [RESPParser.Event] = []
        for piece in oneByteAtATime ? bytes.map { [$0] } : [bytes] {
            parser.append(contentsOf: piece)
            while true {
                let e = parser.next()
                if e == .needMore { break }
                out.append(e)
                if case .failure = e { return out }
            }
        }
        return out
    }

    func testEveryTypeAndAnySplit() {
        let wire = Array("+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:7\r\n*-1\r\n$0\r\n\r\n".utf8)
        let expected: [RESPParser.Event] = [
            .value(.simple("OK")), .value(.error("ERR wrong")), .value(.integer(-42)),
            .value(.bulk(Array("he\r\no".utf8))), .value(.bulk(nil)),
            .value(.array([.bulk(Array("a".utf8)), .array([.integer(7)])])), .value(.array(nil)), .value(.bulk([])),
        ]
        XCTAssertEqual(values(wire), expected)
        XCTAssertEqual(values(wire, oneByteAtATime: true), expected, "split at every byte, the same replies")
    }

    func testMalformedInputFailsInsteadOfWaiting() {
        for (bad, why) in [("?x\r\n", "unknown RESP type"), ("$abc\r\n", "bad bulk length"), (":1\rx\n", "CR without LF"),
                           ("$5\r\nhello!!", "not followed by CRLF"), ("$2000000\r\n", "over the limit"),
                           ("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "nested deeper")] {
            guard case .failure(let message)? = values(Array(bad.utf8)).last else { return XCTFail("accepted \(bad.debugDescription)") }
            XCTAssertTrue(message.contains(why), "\(bad.debugDescription): \(message)")
        }
    }

    func testCommandsEncodeAsBulkArrays() {
        var out: [UInt8] = []
        RESPEncoder.command(["XADD", "dfp:opportunities", "*", "payload", "东风"], into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "*5\r\n$4\r\nXADD\r\n$17\r\ndfp:opportunities\r\n$1\r\n*\r\n$7\r\npayload\r\n$6\r\n东风\r\n")
    }
}
