import Foundation
import HTTP
import TestSupport
import XCTest

/// `/openapi.json` describes every route the server registers, and nothing it does not.
/// (Schemathesis checks the live answers against it: Tests/schemathesis.sh.)
final class OpenAPITests: XCTestCase {
    func testDocumentCoversEveryRouteAndOnlyThem() throws {
        let server = try TestServer()
        defer { server.stop() }
        let response = try server.get("/openapi.json")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        let doc = try XCTUnwrap(response.json)
        XCTAssertEqual(doc["openapi"] as? String, "3.1.0")
        let paths = try XCTUnwrap(doc["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, operations) in paths {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        let streams = try XCTUnwrap(doc["x-websockets"] as? [String: Any])
        XCTAssertEqual(Set(streams.keys), ["/ws", "/ws/opportunities"])
        var registered = Set<String>()
        for (method, pattern) in server.server.routeTable {
            // A plain GET on a stream path is its 426 hint; the stream itself is under x-websockets.
            if streams[pattern] != nil { continue }
            registered.insert("\(method) \(pattern == "/*" ? "/{path}" : pattern)")
        }
        XCTAssertEqual(registered.subtracting(documented).sorted(), [], "routes missing from /openapi.json")
        XCTAssertEqual(documented.subtracting(registered).sorted(), [], "documented routes the server does not have")
        // Every operation lists its responses, and every $ref points at a component that exists.
        let text = response.text
        let components = try XCTUnwrap(doc["components"] as? [String: [String: Any]])
        let refs = text.matches(of: /"\$ref":"#\/components\/(\w+)\/(\w+)"/)
        XCTAssertFalse(refs.isEmpty)
        for ref in refs {
            XCTAssertNotNil(components[String(ref.1)]?[String(ref.2)], "dangling $ref \(ref.0)")
        }
    }

    func testStreamPathsWithoutUpgradeSayHowToConnect() throws {
        let server = try TestServer()
        defer { server.stop() }
        for path in ["/ws", "/ws/opportunities"] {
            let r = try server.get(path)
            XCTAssertEqual(r.status, 426, r.text)
            XCTAssertEqual(r.header("Upgrade"), "websocket")
            XCTAssertEqual(r.errorCode, "upgrade_required")
        }
        // The most specific pattern owns a path: the static files' GET does not leak into Allow.
        let get = try server.get("/admin/reload")
        XCTAssertEqual(get.status, 405)
        XCTAssertEqual(get.header("Allow"), "POST")
    }
}
