import HTTP
import XCTest

final class RouterAndQueryTests: XCTestCase {
    private func router() -> Router<String> {
        var r = Router<String>()
        r.add(.get, "/", "root")
        r.add(.get, "/health", "health")
        r.add(.get, "/api/v1/opportunities", "list")
        r.add(.get, "/api/v1/opportunities/{id}", "one")
        r.add(.get, "/api/v1/opportunities/latest", "latest")
        r.add(.get, "/api/v1/symbols/{symbol}/bars", "bars")
        r.add(.put, "/api/v1/strategies/{name}", "put")
        r.add(.get, "/*", "static")
        return r
    }

    private func found(_ method: HTTPMethod, _ path: String) -> (String, [String: String])? {
        if case .found(let h, let p, _) = router().match(method, path) { return (h, p) }
        return nil
    }

    func testLiteralBeatsParameterBeatsWildcard() {
        XCTAssertEqual(found(.get, "/")?.0, "root")
        XCTAssertEqual(found(.get, "/api/v1/opportunities/latest")?.0, "latest")
        XCTAssertEqual(found(.get, "/api/v1/opportunities/abc")?.0, "one")
        XCTAssertEqual(found(.get, "/api/v1/opportunities/abc")?.1, ["id": "abc"])
        XCTAssertEqual(found(.get, "/api/v1/symbols/600519.SH/bars")?.1, ["symbol": "600519.SH"])
        XCTAssertEqual(found(.get, "/css/app.css")?.0, "static")
        XCTAssertEqual(found(.get, "/css/app.css")?.1, ["*": "css/app.css"])
        XCTAssertEqual(found(.get, "/health/")?.0, "static")  // exact: no trailing-slash aliasing
    }

    func testHeadFallsBackToGetAnd405ListsMethods() {
        XCTAssertEqual(found(.head, "/health")?.0, "health")
        guard case .methodNotAllowed(let allowed) = router().match(.delete, "/api/v1/strategies/x") else {
            return XCTFail("expected 405")
        }
        XCTAssertTrue(allowed.contains(.put))
        XCTAssertFalse(allowed.contains(.get))  // the less specific /* does not own this path
        var onlyPut = Router<String>()
        onlyPut.add(.put, "/x", "put")
        guard case .methodNotAllowed(let a) = onlyPut.match(.get, "/x") else { return XCTFail() }
        XCTAssertEqual(a, [.put])
        guard case .notFound = onlyPut.match(.get, "/y") else { return XCTFail() }
    }

    func testQueryParameters() throws {
        let q = try QueryParameters(parsing: "symbol=600519.SH&b=x%20y&b=z&flag&c=1+2&&=skip")
        XCTAssertEqual(q["symbol"], "600519.SH")
        XCTAssertEqual(q["b"], "x y")
        XCTAssertEqual(q.all("b"), ["x y", "z"])
        XCTAssertEqual(q["flag"], "")
        XCTAssertEqual(q["c"], "1 2")
        XCTAssertNil(q["missing"])
        XCTAssertEqual(q.names, ["symbol", "b", "flag", "c"])
        XCTAssertThrowsError(try QueryParameters(parsing: "limit=%zz")) { error in
            XCTAssertEqual((error as? HTTPQueryError)?.parameter, "limit")
        }
    }

    func testHTTPDateRoundTrip() {
        XCTAssertEqual(HTTPDate.format(unixSeconds: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"), 784_111_777)
        XCTAssertEqual(HTTPDate.format(unixSeconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: 1_709_164_800), "Thu, 29 Feb 2024 00:00:00 GMT")
        for t: Int64 in [1, 951_782_400, 1_732_500_000, 4_102_444_799] {
            XCTAssertEqual(HTTPDate.parse(HTTPDate.format(unixSeconds: t)), t)
        }
        XCTAssertEqual(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT"), 784_111_777, "obsolete RFC 850 form")
        XCTAssertNil(HTTPDate.parse("garbage"))
    }

    func testResponseHeadSerialisation() {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.replaceOrAdd("content-type", "text/plain")
        headers.add("X-A", "1")
        var out: [UInt8] = []
        HTTPResponseHead(status: 404, headers: headers).write(into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\n")
    }
}
