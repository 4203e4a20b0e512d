import HTTP
import XCTest

/// Every limit at its boundary and one past it, and every malformed class; each also split at
/// every byte boundary (a limit must not depend on how the bytes arrived).
final class HTTPParserLimitsTests: XCTestCase {
    private let small = HTTPLimits(maxHeaderBytes: 256, maxHeaderCount: 5, maxURIBytes: 64, maxBodyBytes: 16)

    private func failure(_ text: String, limits: HTTPLimits = HTTPLimits(), file: StaticString = #filePath,
                         line: UInt = #line) -> HTTPParseError? {
        let events = assertSplitInvariant(text, limits: limits, file: file, line: line)
        guard case .failure(let error) = events.last else { return nil }
        return error
    }

    private func succeeds(_ text: String, limits: HTTPLimits = HTTPLimits(), file: StaticString = #filePath,
                          line: UInt = #line) -> Bool {
        let events = assertSplitInvariant(text, limits: limits, file: file, line: line)
        guard case .request = events.last else { return false }
        return true
    }

    func testHeaderBytesLimit() {
        // Head = request line + field + CRLF CRLF; pad to exactly the limit, then one more.
        let base = "GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n"
        let pad = String(repeating: "v", count: small.maxHeaderBytes - base.utf8.count)
        XCTAssertTrue(succeeds("GET / HTTP/1.1\r\nHost: a\r\nX: \(pad)\r\n\r\n", limits: small))
        XCTAssertEqual(failure("GET / HTTP/1.1\r\nHost: a\r\nX: \(pad)v\r\n\r\n", limits: small), .headersTooLarge)
        // Never finished: answered as soon as the limit is passed, not at a CRLF that never comes.
        var parser = HTTPParser(limits: small)
        parser.append(contentsOf: Array("GET / HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "v", count: 300))".utf8))
        guard case .failure(.headersTooLarge) = parser.next() else { return XCTFail("must fail before the head ends") }
    }

    func testHeaderCountLimit() {
        let five = (1...4).map { "X-\($0): v\r\n" }.joined()
        XCTAssertTrue(succeeds("GET / HTTP/1.1\r\nHost: a\r\n\(five)\r\n", limits: small))
        XCTAssertEqual(failure("GET / HTTP/1.1\r\nHost: a\r\n\(five)X-5: v\r\n\r\n", limits: small), .tooManyHeaders)
    }

    func testURILimit() {
        let exact = "/" + String(repeating: "u", count: small.maxURIBytes - 1)
        XCTAssertTrue(succeeds("GET \(exact) HTTP/1.1\r\nHost: a\r\n\r\n", limits: small))
        XCTAssertEqual(failure("GET \(exact)u HTTP/1.1\r\nHost: a\r\n\r\n", limits: small), .uriTooLong)
        var parser = HTTPParser()
        parser.append(contentsOf: Array(("GET /" + String(repeating: "u", count: 20_000)).utf8))
        guard case .failure(.uriTooLong) = parser.next() else { return XCTFail("a huge unfinished target is 414") }
    }

    func testBodyLimitByContentLength() {
        XCTAssertTrue(succeeds("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 16\r\n\r\n0123456789abcdef", limits: small))
        // Refused at the head: the body is never read.
        XCTAssertEqual(failure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n", limits: small), .bodyTooLarge)
    }

    func testBodyLimitByChunks() {
        XCTAssertTrue(succeeds("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n",
                               limits: small))
        XCTAssertEqual(failure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n9\r\n",
                               limits: small), .bodyTooLarge)
    }

    func testMalformedClasses() {
        let cases: [(String, HTTPParseError)] = [
            ("GET / HTTP/1.1\nHost: a\r\n\r\n", .malformed("bare LF")),
            ("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", .malformed("bare CR")),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n  folded\r\n\r\n", .malformed("obs-fold")),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .malformed("invalid header name")),
            ("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", .malformed("invalid header name")),
            ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid method")),
            ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid request target")),
            ("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .malformed("invalid HTTP version")),
            ("GET / HTTX/1.1\r\nHost: a\r\n\r\n", .malformed("invalid HTTP version")),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
            ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", .unsupportedVersion),
            ("GET / HTTP/1.1\r\n\r\n", .malformed("missing Host")),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .malformed("multiple Host fields")),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("Content-Length with Transfer-Encoding")),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", .malformed("conflicting Content-Length")),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n", .malformed("conflicting Content-Length")),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", .malformed("invalid Content-Length")),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3x\r\n\r\n", .malformed("invalid Content-Length")),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", .malformed("invalid Content-Length")),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", .malformed("chunk size overflow")),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .malformed("invalid chunk size")),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", .malformed("chunk data not followed by CRLF")),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .malformed("chunked is not the final coding")),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("Transfer-Encoding in HTTP/1.0")),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n", .malformed("invalid header value")),
            ("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid percent-encoding in path")),
            ("GET /a%ff HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid percent-encoding in path")),
            ("GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("NUL in path")),
            ("GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid request target")),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(failure(text), expected, text.debugDescription)
        }
    }

    /// Fuzz/FuzzHTTP found this: five empty lines then a request, split after the fifth CR LF's
    /// CR... — the at-most-4 skip restarted with every read, so the verdict depended on the reads.
    func testEmptyLinesBeforeTheRequestCountAcrossReads() {
        let text = Array("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        func outcome(split: Int) -> String {
            var parser = HTTPParser()
            parser.append(contentsOf: text[0..<split])
            if case .failure(let e) = parser.next() { return "\(e)" }
            parser.append(contentsOf: text[split...])
            switch parser.next() {
            case .request(let r): return r.target
            case .failure(let e): return "\(e)"
            default: return "needMore"
            }
        }
        let whole = outcome(split: text.count)
        XCTAssertEqual(whole, "\(HTTPParseError.malformed("invalid method"))", "a fifth empty line is the request line")
        for split in 0...text.count { XCTAssertEqual(outcome(split: split), whole, "split at \(split)") }
        // Four are ignored, in one read or several.
        var parser = HTTPParser()
        parser.append(contentsOf: Array("\r\n\r\n".utf8))
        _ = parser.next()
        parser.append(contentsOf: Array("\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        guard case .request(let r) = parser.next() else { return XCTFail("four empty lines then a request") }
        XCTAssertEqual(r.target, "/x")
    }

    func testEqualDuplicateContentLengthRefused() {
        XCTAssertEqual(failure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
                       .malformed("duplicate Content-Length"))
        XCTAssertEqual(failure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nok"), .malformed("duplicate Content-Length"))
    }

    func testStatusMapping() {
        XCTAssertEqual(HTTPParseError.headersTooLarge.status, 431)
        XCTAssertEqual(HTTPParseError.tooManyHeaders.status, 431)
        XCTAssertEqual(HTTPParseError.uriTooLong.status, 414)
        XCTAssertEqual(HTTPParseError.bodyTooLarge.status, 413)
        XCTAssertEqual(HTTPParseError.malformed("x").status, 400)
        XCTAssertEqual(HTTPParseError.unsupportedVersion.status, 505)
        XCTAssertEqual(HTTPParseError.unsupportedTransferEncoding.status, 501)
        XCTAssertEqual(HTTPParseError.bodyTooLarge.code, "body_too_large")
    }
}
