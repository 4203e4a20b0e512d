import Deflate
import Foundation
@testable import Gateway
import XCTest

final class StaticFileStoreTests: XCTestCase {
    private var root: URL!
    private var outside: URL!

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)")
        root = base.appendingPathComponent("Public")
        outside = base.appendingPathComponent("secret.txt")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try String(repeating: "<p>index</p>\n", count: 100).write(to: root.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "<p>docs</p>".write(to: root.appendingPathComponent("docs/index.html"), atomically: true, encoding: .utf8)
        try String(repeating: "let x = 1;\n", count: 100).write(to: root.appendingPathComponent("app.js"), atomically: true, encoding: .utf8)
        try Data([0x89, 0x50, 0x4e, 0x47]).write(to: root.appendingPathComponent("logo.png"))
        try "x".write(to: root.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        try "top secret".write(to: outside, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("escape.txt"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("alias.js"),
                                                   withDestinationURL: root.appendingPathComponent("app.js"))
        try Data(count: 2048).write(to: root.appendingPathComponent("big.bin"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
    }

    func testMappingTypesAndTraversal() throws {
        let store = try StaticFileStore(root: root.path, maxFileBytes: 1800)
        XCTAssertEqual(store.lookup(path: "/")?.relativePath, "index.html")
        XCTAssertEqual(store.lookup(path: "/docs/")?.relativePath, "docs/index.html")
        XCTAssertEqual(store.lookup(path: "/app.js")?.contentType, "text/javascript; charset=utf-8")
        XCTAssertEqual(store.lookup(path: "/logo.png")?.contentType, "image/png")
        XCTAssertEqual(store.lookup(path: "/index.html")?.cacheControl, "no-cache")
        XCTAssertEqual(store.lookup(path: "/app.js")?.cacheControl, "public, max-age=3600")
        XCTAssertNotNil(store.lookup(path: "/alias.js"), "a link inside the root is served")
        for path in ["/../secret.txt", "/docs/../../secret.txt", "/./index.html", "//index.html", "/.env",
                     "/escape.txt", "/docs\\index.html", "/index.html\u{0}", "/big.bin", "index.html"] {
            XCTAssertNil(store.lookup(path: path), path)
        }
        XCTAssertTrue(store.skipped.contains { $0.hasPrefix("escape.txt") })
        XCTAssertTrue(store.skipped.contains { $0.hasPrefix("big.bin") })
    }

    func testETagIsAContentHash() throws {
        let first = try XCTUnwrap(StaticFileStore(root: root.path).lookup(path: "/app.js")?.etag)
        XCTAssertEqual(try StaticFileStore(root: root.path).lookup(path: "/app.js")?.etag, first)
        try "changed".write(to: root.appendingPathComponent("app.js"), atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try StaticFileStore(root: root.path).lookup(path: "/app.js")?.etag, first)
    }

    func testConditionalAndEncodingNegotiation() throws {
        let file = try XCTUnwrap(StaticFileStore(root: root.path).lookup(path: "/"))
        let gz = try XCTUnwrap(file.gzip)
        XCTAssertEqual(try Gzip.decompress(gz, maxOutput: 1 << 20), file.identity)
        func answer(_ ae: String?, _ inm: String? = nil, _ ims: String? = nil) -> StaticResponder.Answer {
            StaticResponder.answer(file, acceptEncoding: ae, ifNoneMatch: inm, ifModifiedSince: ims)
        }
        func encoding(_ a: StaticResponder.Answer) -> String? { a.headers.first { $0.0 == "Content-Encoding" }?.1 }
        XCTAssertEqual(encoding(answer("gzip, deflate")), "gzip")
        XCTAssertEqual(encoding(answer("*")), "gzip")
        XCTAssertEqual(encoding(answer("br;q=1, gzip;q=0.5")), "gzip")
        XCTAssertNil(encoding(answer("gzip;q=0")))
        XCTAssertNil(encoding(answer("identity")))
        XCTAssertNil(encoding(answer(nil)))
        XCTAssertNil(encoding(answer("*;q=0")))
        XCTAssertTrue(answer(nil).headers.contains { $0 == ("Vary", "Accept-Encoding") })
        XCTAssertEqual(answer(nil, file.etag).status, 304)
        XCTAssertTrue(answer(nil, file.etag).body.isEmpty)
        XCTAssertEqual(answer(nil, "\"a\", W/\(file.etag)").status, 304)
        XCTAssertEqual(answer(nil, "*").status, 304)
        XCTAssertEqual(answer(nil, "\"other\"").status, 200)
        let later = "Fri, 01 Jan 2100 00:00:00 GMT"
        let earlier = "Thu, 01 Jan 1970 00:00:01 GMT"
        XCTAssertEqual(answer(nil, nil, later).status, 304)
        XCTAssertEqual(answer(nil, nil, earlier).status, 200)
        XCTAssertEqual(answer(nil, "\"other\"", later).status, 200, "If-None-Match takes precedence")
    }
}
