import Deflate
import HTTP
@testable import Gateway
import XCTest

final class StaticResponderTests: XCTestCase {
    private let html = Array(String(repeating: "<p>东风 responder</p>\n", count: 50).utf8)
    private let etag = "\"0123456789abcdef\""
    /// Sun, 06 Nov 1994 08:49:37 GMT
    private let modified: Int64 = 784_111_777

    private func file(gzip: Bool = true) throws -> StaticFile {
        StaticFile(relativePath: "index.html", contentType: "text/html; charset=utf-8", etag: etag,
                   lastModified: modified, identity: html, gzip: gzip ? try Gzip.compress(html, level: 9) : nil,
                   cacheControl: "no-cache")
    }

    private func answer(_ acceptEncoding: String? = nil, inm: String? = nil, ims: String? = nil,
                        gzip: Bool = true) throws -> StaticResponder.Answer {
        StaticResponder.answer(try file(gzip: gzip), acceptEncoding: acceptEncoding, ifNoneMatch: inm, ifModifiedSince: ims)
    }

    private func header(_ answer: StaticResponder.Answer, _ name: String) -> String? {
        answer.headers.first { $0.0 == name }?.1
    }

    func testPlainAnswerHeaders() throws {
        let a = try answer()
        XCTAssertEqual(a.status, 200)
        XCTAssertEqual(a.body, html)
        XCTAssertEqual(header(a, "Content-Type"), "text/html; charset=utf-8")
        XCTAssertEqual(header(a, "ETag"), etag)
        XCTAssertEqual(header(a, "Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(header(a, "Cache-Control"), "no-cache")
        XCTAssertEqual(header(a, "Vary"), "Accept-Encoding", "a gzip variant exists, even when not chosen")
        XCTAssertNil(header(a, "Content-Encoding"))
        let noVariant = try answer("gzip", gzip: false)
        XCTAssertNil(header(noVariant, "Vary"))
        XCTAssertNil(header(noVariant, "Content-Encoding"))
        XCTAssertEqual(noVariant.body, html)
    }

    func testPageCarriesItsSecurityPolicyAndAssetsDoNot() throws {
        let page = try answer("gzip")
        XCTAssertEqual(header(page, "X-Frame-Options"), "DENY")
        let policy = try XCTUnwrap(header(page, "Content-Security-Policy"))
        XCTAssertTrue(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), policy)
        let css = StaticFile(relativePath: "css/a.css", contentType: "text/css; charset=utf-8", etag: etag,
                             lastModified: modified, identity: Array("p{}".utf8), gzip: nil, cacheControl: "no-cache")
        let asset = StaticResponder.answer(css, acceptEncoding: nil, ifNoneMatch: nil, ifModifiedSince: nil)
        XCTAssertNil(header(asset, "Content-Security-Policy"))
        XCTAssertNil(header(asset, "X-Frame-Options"))
    }

    func testGzipNegotiation() throws {
        let yes = ["gzip, deflate", "*", "gzip", "GZIP", "x-gzip", " gzip ", "br;q=1.0, gzip;q=0.8", "gzip;q=0.5",
                   "gzip;q=1", "gzip;q=1.000", "gzip ; q=0.001", "deflate, *", "gzip, identity;q=0.5",
                   "*;q=0.1, identity;q=0", "identity;q=0.5, gzip;q=0.5"]
        let no = ["gzip;q=0", "gzip; q=0.000", "gzip;Q=0", "*;q=0", "gzip;q=0, *", "*, gzip;q=0", "identity", "",
                  "deflate, br", "gzip;q=0.5, identity", "gzip;q=abc", "gzip;q=1.5", "gzip;q=0.1234", "gzip;q=",
                  "gzipx", "*;q=0.5, identity", ","]
        for value in yes {
            let a = try answer(value)
            XCTAssertEqual(header(a, "Content-Encoding"), "gzip", value)
            XCTAssertEqual(try Gzip.decompress(a.body, maxOutput: html.count), html, value)
            XCTAssertLessThan(a.body.count, html.count)
            XCTAssertEqual(header(a, "Vary"), "Accept-Encoding", value)
        }
        for value in no {
            let a = try answer(value)
            XCTAssertNil(header(a, "Content-Encoding"), value.debugDescription)
            XCTAssertTrue(a.body == html, value)
        }
        XCTAssertNil(header(try answer(nil), "Content-Encoding"), "no header: identity")
    }

    func testIfNoneMatch() throws {
        let matching = [etag, "W/\(etag)", "\"a\", \(etag)", "\"a\",\(etag)", "W/\"a\", W/\(etag), \"b\"", "*",
                        " \t\(etag) ", "\"a,b\", \(etag)", ",,\(etag)"]
        for value in matching {
            let a = try answer("gzip", inm: value)
            XCTAssertEqual(a.status, 304, value)
            XCTAssertTrue(a.body.isEmpty, value)
            XCTAssertEqual(header(a, "ETag"), etag)
            XCTAssertEqual(header(a, "Cache-Control"), "no-cache")
            XCTAssertEqual(header(a, "Vary"), "Accept-Encoding")
            XCTAssertNil(header(a, "Content-Encoding"))
            XCTAssertNil(header(a, "Content-Type"))
        }
        let different = ["\"other\"", "W/\"other\"", "\"0123456789abcdef", "0123456789abcdef", "\"a\", garbage, \(etag)",
                         "\"0123456789ABCDEF\"", "", "\"\""]
        for value in different {
            let a = try answer(inm: value)
            XCTAssertEqual(a.status, 200, value)
            XCTAssertTrue(a.body == html, value)
        }
    }

    func testIfModifiedSince() throws {
        XCTAssertEqual(try answer(ims: "Sun, 06 Nov 1994 08:49:37 GMT").status, 304, "same second")
        XCTAssertEqual(try answer(ims: "Fri, 01 Jan 2100 00:00:00 GMT").status, 304)
        XCTAssertEqual(try answer(ims: "Sunday, 06-Nov-94 08:49:37 GMT").status, 304, "RFC 850 form")
        XCTAssertEqual(try answer(ims: "Sun Nov  6 08:49:37 1994").status, 304, "asctime form")
        XCTAssertEqual(try answer(ims: "Sun, 06 Nov 1994 08:49:36 GMT").status, 200, "one second older")
        XCTAssertEqual(try answer(ims: "Thu, 01 Jan 1970 00:00:00 GMT").status, 200)
        XCTAssertEqual(try answer(ims: "yesterday").status, 200, "an invalid date is ignored")
        XCTAssertEqual(try answer(ims: "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT").status, 200)
        let later = "Fri, 01 Jan 2100 00:00:00 GMT"
        XCTAssertEqual(try answer(inm: "\"other\"", ims: later).status, 200, "If-None-Match takes precedence")
        XCTAssertEqual(try answer(inm: etag, ims: "Thu, 01 Jan 1970 00:00:00 GMT").status, 304)
        let a = try answer("gzip", ims: later)
        XCTAssertTrue(a.body.isEmpty)
        XCTAssertNil(header(a, "Content-Encoding"))
    }

    func testDateFormatting() {
        XCTAssertEqual(HTTPDate.format(unixSeconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: 951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: 1_000_000_000), "Sun, 09 Sep 2001 01:46:40 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: -1), "Wed, 31 Dec 1969 23:59:59 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: 4_102_444_800), "Fri, 01 Jan 2100 00:00:00 GMT")
        var state: UInt64 = 99
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let seconds = Int64(state >> 31) % 8_000_000_000 - 1_000_000_000
            XCTAssertEqual(HTTPDate.parse(HTTPDate.format(unixSeconds: seconds)), seconds, "\(seconds)")
        }
    }

    func testDateParsing() {
        for text in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            XCTAssertEqual(HTTPDate.parse(text), 784_111_777, text)
        }
        XCTAssertEqual(HTTPDate.parse("Tuesday, 01-Jan-30 00:00:00 GMT"), 1_893_456_000, "two-digit years below 70 are 20xx")
        XCTAssertEqual(HTTPDate.parse("Thu Feb 29 12:00:00 2024"), 1_709_208_000)
        let invalid = ["", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
                       "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
                       "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
                       "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT", "Sun, +6 Nov 1994 08:49:37 GMT",
                       "Sun 06 Nov 1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994", "1994-11-06T08:49:37Z", "784111777"]
        for text in invalid { XCTAssertNil(HTTPDate.parse(text), text) }
    }
}
