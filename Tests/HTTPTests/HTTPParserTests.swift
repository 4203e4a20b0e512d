import HTTP
import XCTest

/// A comparable summary of one parser outcome.
enum Event: Equatable, CustomStringConvertible {
    case request(method: String, target: String, path: String, query: String, minor: Int, keepAlive: Bool,
                 headers: [String], body: [UInt8])
    case expectContinue(String)
    case failure(HTTPParseError)

    init?(_ outcome: HTTPParseOutcome) {
        switch outcome {
        case .needMore: return nil
        case .expectContinue(let r): self = .expectContinue(r.target)
        case .failure(let e): self = .failure(e)
        case .request(let r):
            self = .request(method: r.method.description, target: r.target, path: r.path, query: r.query,
                            minor: r.versionMinor, keepAlive: r.keepAlive,
                            headers: r.headers.map { "\($0.name): \($0.value)" }, body: r.body)
        }
    }

    var description: String {
        switch self {
        case .request(let m, let t, _, _, _, _, _, let body): "request(\(m) \(t), body \(body.count))"
        case .expectContinue(let t): "continue(\(t))"
        case .failure(let e): "failure(\(e))"
        }
    }
}

/// Feeds `bytes` in the given pieces, draining outcomes after each; stops at the first failure.
func parse(_ bytes: [UInt8], pieces: [Int]? = nil, limits: HTTPLimits = HTTPLimits()) -> [Event] {
    var parser = HTTPParser(limits: limits)
    var events: [Event] = []
    var offset = 0
    for size in pieces ?? [bytes.count] {
        parser.append(contentsOf: bytes[offset..<min(bytes.count, offset + size)])
        offset += size
        while let event = Event(parser.next()) {
            events.append(event)
            if case .failure = event { return events }
        }
    }
    return events
}

/// The same outcomes whole, split at every boundary, and one byte at a time.
func assertSplitInvariant(_ text: String, limits: HTTPLimits = HTTPLimits(), file: StaticString = #filePath,
                          line: UInt = #line) -> [Event] {
    let bytes = Array(text.utf8)
    let whole = parse(bytes, limits: limits)
    XCTAssertEqual(parse(bytes, pieces: Array(repeating: 1, count: bytes.count), limits: limits), whole,
                   "byte-at-a-time differs", file: file, line: line)
    for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 97)) {
        XCTAssertEqual(parse(bytes, pieces: [cut, bytes.count - cut], limits: limits), whole,
                       "split at \(cut) differs", file: file, line: line)
    }
    return whole
}

final class HTTPParserTests: XCTestCase {
    func testSimpleGET() {
        let events = assertSplitInvariant("GET /api/v1/x%20y?limit=5&a=b HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(events, [.request(method: "GET", target: "/api/v1/x%20y?limit=5&a=b", path: "/api/v1/x y",
                                         query: "limit=5&a=b", minor: 1, keepAlive: true,
                                         headers: ["Host: localhost", "Accept: */*"], body: [])])
    }

    func testHeaderValueWhitespaceTrimmedAndNamesCaseInsensitive() {
        var parser = HTTPParser()
        parser.append(contentsOf: Array("GET / HTTP/1.1\r\nhOsT: a\r\nX-Thing: \t  spaced value \t\r\n\r\n".utf8))
        guard case .request(let r) = parser.next() else { return XCTFail("no request") }
        XCTAssertEqual(r.headers[first: "HOST"], "a")
        XCTAssertEqual(r.headers[first: "x-thing"], "spaced value")
    }

    func testContentLengthBody() {
        let events = assertSplitInvariant("POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
        guard case .request(_, _, _, _, _, _, _, let body) = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "hello world")
    }

    func testChunkedBodyWithExtensionsAndTrailers() {
        let text = "POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Checksum: abc\r\n\r\n"
        let events = assertSplitInvariant(text)
        XCTAssertEqual(events.count, 1)
        guard case .request(_, _, _, _, _, _, _, let body) = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "hello 0123456789")
    }

    func testARepeatedHeadDecodesAsItsFirstAndADifferentOneAfresh() {
        // A keep-alive client repeating its request is answered from the last head's decoding:
        // the same request each time, and any byte changed (even a header's case) decodes anew.
        let get = "GET /api/v1/opportunities?limit=20 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nAccept: */*\r\n\r\n"
        let post = "POST /api/v1/ticks HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nContent-Length: 3\r\n\r\n"
        let other = "GET /api/v1/opportunities?limit=21 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nAccept: */*\r\n\r\n"
        let upper = "GET /api/v1/opportunities?limit=20 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nACCEPT: */*\r\n\r\n"
        let close = "GET /api/v1/opportunities?limit=20 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nConnection: close\r\n\r\n"
        let bad = "GET /api/v1/opportunities?limit=20 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nAccept : */*\r\n\r\n"
        let stream = get + get + post + "abc" + post + "xyz" + other + get + upper + close + get + bad + get
        let events = assertSplitInvariant(stream)
        var expected: [Event] = []
        for (text, body) in [(get, ""), (get, ""), (post, "abc"), (post, "xyz"), (other, ""), (get, ""), (upper, ""), (close, ""),
                             (get, ""), (bad, "")] {
            expected += parse(Array((text + body).utf8))  // each head decoded by a fresh parser
        }
        XCTAssertEqual(events, expected)
        XCTAssertEqual(events.count, 10)
        guard case .request(_, _, _, let query, _, _, let headers, _) = events[4], case .failure = events[9],
              case .request(_, _, _, _, _, false, _, _) = events[7] else { return XCTFail("\(events)") }
        XCTAssertEqual(query, "limit=21")
        XCTAssertEqual(headers.last, "Accept: */*")
    }

    func testPipelinedRequestsInOrder() {
        let text = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy"
            + "GET /4 HTTP/1.0\r\n\r\n"
        let events = assertSplitInvariant(text)
        XCTAssertEqual(events.map(\.description), ["request(GET /1, body 0)", "request(POST /2, body 3)",
                                                   "request(POST /3, body 2)", "request(GET /4, body 0)"])
    }

    func testKeepAliveRules() {
        func keepAlive(_ head: String) -> Bool? {
            guard case .request(_, _, _, _, _, let k, _, _) = parse(Array(head.utf8)).first else { return nil }
            return k
        }
        XCTAssertEqual(keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), true)
        XCTAssertEqual(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"), false)
        XCTAssertEqual(keepAlive("GET / HTTP/1.0\r\n\r\n"), false)
        XCTAssertEqual(keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), true)
    }

    func testExpectContinueComesBeforeTheBody() {
        var parser = HTTPParser()
        parser.append(contentsOf: Array("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n".utf8))
        guard case .expectContinue(let head) = parser.next() else { return XCTFail("expected continue") }
        XCTAssertTrue(head.expectsContinue)
        guard case .needMore = parser.next() else { return XCTFail("must wait for the body") }
        parser.append(contentsOf: Array("abc".utf8))
        guard case .request(let r) = parser.next() else { return XCTFail("no request") }
        XCTAssertEqual(r.body, Array("abc".utf8))
    }

    func testAbsoluteFormAndAsterisk() {
        let events = assertSplitInvariant("GET http://example.com:8443/p/q?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
                                          + "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        guard case .request(_, _, let path, let query, _, _, _, _) = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(path, "/p/q")
        XCTAssertEqual(query, "x=1")
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(parse(Array("GET * HTTP/1.1\r\nHost: a\r\n\r\n".utf8)), [.failure(.malformed("asterisk target outside OPTIONS"))])
    }

    func testLeadingEmptyLinesIgnored() {
        XCTAssertEqual(assertSplitInvariant("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").count, 1)
    }

    func testIdleAndBufferedCounts() {
        var parser = HTTPParser()
        XCTAssertTrue(parser.isIdle)
        parser.append(contentsOf: Array("GET / HTTP/1.1\r\nHo".utf8))
        guard case .needMore = parser.next() else { return XCTFail() }
        XCTAssertFalse(parser.isIdle)
        parser.append(contentsOf: Array("st: a\r\n\r\n".utf8))
        guard case .request = parser.next() else { return XCTFail() }
        XCTAssertTrue(parser.isIdle)
        XCTAssertEqual(parser.bufferedByteCount, 0)
    }

    func testFailureIsSticky() {
        var parser = HTTPParser()
        parser.append(contentsOf: Array("GET / HTTP/1.1\nHost: a\n\n".utf8))
        guard case .failure(let e) = parser.next() else { return XCTFail() }
        parser.append(contentsOf: Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        guard case .failure(let again) = parser.next() else { return XCTFail("a dead parser must stay dead") }
        XCTAssertEqual(e, again)
    }

    func testManyRequestsReuseTheBuffer() {
        var parser = HTTPParser()
        let request = Array("GET /health HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        var count = 0
        for _ in 0..<10_000 {
            parser.append(contentsOf: request)
            while case .request = parser.next() { count += 1 }
        }
        XCTAssertEqual(count, 10_000)
        XCTAssertEqual(parser.bufferedByteCount, 0)
    }
}
