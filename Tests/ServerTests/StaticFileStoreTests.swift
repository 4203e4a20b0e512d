import Deflate
import Foundation
@testable import Gateway
import XCTest

final class StaticFileStoreTests: XCTestCase {
    private var base = ""
    private var root = ""
    private let fm = FileManager.default

    override func setUpWithError() throws {
        base = fm.temporaryDirectory.appendingPathComponent("dongfeng-static-\(UUID().uuidString)").path
        root = base + "/Public"
        try write("index.html", String(repeating: "<p>东风 index</p>\n", count: 40))
        try write("docs/index.html", "<p>docs</p>")
        try write("docs/deep/index.html", "<p>deep</p>")
        try write("docs/guide.txt", "guide")
        try write("app.js", String(repeating: "let x = 1;\n", count: 100))
        try write("logo.png", [0x89, 0x50, 0x4e, 0x47])
        try write(".env", "SECRET=1")
        try write(".git/config", "[core]")
        try write("docs/.hidden/page.html", "hidden")
        try fm.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
        try "top secret".write(toFile: base + "/outside/secret.txt", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? fm.removeItem(atPath: base)
    }

    private func write(_ relative: String, _ text: String) throws { try write(relative, Array(text.utf8)) }

    private func write(_ relative: String, _ bytes: [UInt8]) throws {
        let path = root + "/" + relative
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        XCTAssertTrue(fm.createFile(atPath: path, contents: Data(bytes)))
    }

    private func link(_ relative: String, to destination: String) throws {
        try fm.createSymbolicLink(atPath: root + "/" + relative, withDestinationPath: destination)
    }

    func testIndexMappingAndPlainFiles() throws {
        let store = try StaticFileStore(root: root)
        XCTAssertEqual(store.lookup(path: "/")?.relativePath, "index.html")
        XCTAssertEqual(store.lookup(path: "/index.html")?.relativePath, "index.html")
        XCTAssertEqual(store.lookup(path: "/docs/")?.relativePath, "docs/index.html")
        XCTAssertEqual(store.lookup(path: "/docs/deep/")?.relativePath, "docs/deep/index.html")
        XCTAssertEqual(store.lookup(path: "/docs/guide.txt")?.identity, Array("guide".utf8))
        XCTAssertNil(store.lookup(path: "/docs"), "a directory without the slash is not its index")
        XCTAssertNil(store.lookup(path: "/app.js/"))
        XCTAssertNil(store.lookup(path: "/missing.html"))
        XCTAssertEqual(store.fileCount, 6)
        XCTAssertEqual(store.skipped, [])
    }

    func testMIMETypesAndCacheControl() throws {
        let expected = [
            "a.html": "text/html; charset=utf-8", "a.htm": "text/html; charset=utf-8", "a.css": "text/css; charset=utf-8",
            "a.js": "text/javascript; charset=utf-8", "a.mjs": "text/javascript; charset=utf-8",
            "a.json": "application/json", "a.map": "application/json", "a.svg": "image/svg+xml", "a.png": "image/png",
            "a.jpg": "image/jpeg", "a.jpeg": "image/jpeg", "A.JPG": "image/jpeg", "a.gif": "image/gif",
            "a.webp": "image/webp", "a.ico": "image/x-icon", "a.txt": "text/plain; charset=utf-8",
            "a.xml": "application/xml", "a.wasm": "application/wasm", "a.woff": "font/woff", "a.woff2": "font/woff2",
            "a.ttf": "font/ttf", "a.csv": "text/csv; charset=utf-8", "a.pdf": "application/pdf",
            "a.xyz": "application/octet-stream", "LICENSE": "application/octet-stream",
            "v1.2/data": "application/octet-stream",
        ]
        for name in expected.keys { try write("types/" + name, "x") }
        let store = try StaticFileStore(root: root, assetCacheControl: "public, max-age=60")
        for (name, type) in expected {
            XCTAssertEqual(store.lookup(path: "/types/" + name)?.contentType, type, name)
        }
        XCTAssertEqual(store.lookup(path: "/types/a.html")?.cacheControl, "no-cache")
        XCTAssertEqual(store.lookup(path: "/types/a.htm")?.cacheControl, "no-cache")
        XCTAssertEqual(store.lookup(path: "/types/a.css")?.cacheControl, "public, max-age=60")
        XCTAssertEqual(try StaticFileStore(root: root).lookup(path: "/app.js")?.cacheControl, "public, max-age=3600")
    }

    func testETagIsAStableContentHash() throws {
        XCTAssertEqual(StaticFileStore.contentHash([]), "cbf29ce484222325", "FNV-1a 64 offset basis")
        XCTAssertEqual(StaticFileStore.contentHash(Array("a".utf8)), "af63dc4c8601ec8c")
        try write("copy.js", String(repeating: "let x = 1;\n", count: 100))
        let first = try StaticFileStore(root: root)
        let etag = try XCTUnwrap(first.lookup(path: "/app.js")?.etag)
        XCTAssertNotNil(etag.range(of: #"^"[0-9a-f]{16}"$"#, options: .regularExpression), etag)
        XCTAssertEqual(first.lookup(path: "/copy.js")?.etag, etag, "same bytes, same tag")
        try fm.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000_000)], ofItemAtPath: root + "/app.js")
        let reloaded = try StaticFileStore(root: root)
        XCTAssertEqual(reloaded.lookup(path: "/app.js")?.etag, etag, "a new mtime alone keeps the tag")
        XCTAssertEqual(reloaded.lookup(path: "/app.js")?.lastModified, 1_000_000_000)
        try write("app.js", String(repeating: "let x = 2;\n", count: 100))
        XCTAssertNotEqual(try StaticFileStore(root: root).lookup(path: "/app.js")?.etag, etag)
    }

    func testGzipVariants() throws {
        var state: UInt64 = 1
        try write("noise.txt", (0..<4096).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: state >> 56)
        })
        try write("small.css", String(repeating: "a", count: 255))
        try write("exact.css", String(repeating: "a", count: 256))
        try write("big.png", [UInt8](repeating: 0, count: 4096))
        try write("big.wasm", [UInt8](repeating: 0, count: 4096))
        try write("data.json", String(repeating: #"{"k":1},"#, count: 100))
        try write("pic.svg", String(repeating: "<g/>", count: 100))
        let store = try StaticFileStore(root: root)
        for path in ["/app.js", "/exact.css", "/data.json", "/pic.svg"] {
            let file = try XCTUnwrap(store.lookup(path: path), path)
            let gzip = try XCTUnwrap(file.gzip, path)
            XCTAssertLessThan(gzip.count, file.identity.count, path)
            XCTAssertEqual(try Gzip.decompress(gzip, maxOutput: file.identity.count), file.identity, path)
        }
        // HTML pages never have a gzip variant (BREACH), however large.
        for path in ["/", "/noise.txt", "/small.css", "/big.png", "/big.wasm", "/docs/"] {
            XCTAssertNil(try XCTUnwrap(store.lookup(path: path), path).gzip, path)
        }
        XCTAssertNil(try StaticFileStore(root: root, gzip: false).lookup(path: "/app.js")?.gzip)
    }

    func testTraversalAndOddPathsAreRefused() throws {
        let store = try StaticFileStore(root: root)
        let refused = [
            "/../outside/secret.txt", "/docs/../../outside/secret.txt", "/docs/../index.html", "/../../etc/passwd",
            "/./index.html", "/docs/./index.html", "//etc/passwd", "//index.html", "/docs//index.html", "/.", "/..",
            "/...", "/.env", "/.git/config", "/docs/.hidden/page.html", "/docs/.hidden/", "/docs\\index.html",
            "\\index.html", "/..\\outside/secret.txt", "/index.html\u{0}", "/\u{0}", "index.html", "", "/.\u{301}/index.html",
        ]
        for path in refused {
            XCTAssertNil(store.lookup(path: path), path.debugDescription)
            XCTAssertNil(StaticFileStore.key(forRequestPath: path), path.debugDescription)
        }
        XCTAssertEqual(StaticFileStore.key(forRequestPath: "/a%2e%2e/b"), "a%2e%2e/b", "percent signs are just bytes here")
        XCTAssertEqual(StaticFileStore.key(forRequestPath: "/a..b/c."), "a..b/c.", "dots inside names are fine")
    }

    func testSymlinks() throws {
        try link("escape.txt", to: base + "/outside/secret.txt")
        try link("escape-relative.txt", to: "../outside/secret.txt")
        try link("outdir", to: base + "/outside")
        try link("alias.js", to: root + "/app.js")
        try link("docs/relative.js", to: "../app.js")
        try link("manual", to: root + "/docs")
        try link("loop", to: root)
        try link("peek.txt", to: root + "/.env")
        try link("dangling.txt", to: root + "/nope.txt")
        let store = try StaticFileStore(root: root)
        let app = try XCTUnwrap(store.lookup(path: "/app.js"))
        XCTAssertEqual(store.lookup(path: "/alias.js")?.identity, app.identity, "a link inside the root is served")
        XCTAssertEqual(store.lookup(path: "/docs/relative.js")?.etag, app.etag)
        XCTAssertEqual(store.lookup(path: "/manual/guide.txt")?.identity, Array("guide".utf8), "a directory link inside")
        for path in ["/escape.txt", "/escape-relative.txt", "/outdir/secret.txt", "/peek.txt", "/dangling.txt"] {
            XCTAssertNil(store.lookup(path: path), path)
        }
        for name in ["escape.txt", "escape-relative.txt", "outdir", "peek.txt", "dangling.txt", "loop"] {
            XCTAssertTrue(store.skipped.contains { $0.hasPrefix(name + " (") }, "\(name) in \(store.skipped)")
        }
        XCTAssertFalse(store.skipped.contains { $0.hasPrefix("alias.js") })
        XCTAssertNil(store.lookup(path: "/loop/loop/index.html"), "the root is walked once")
    }

    func testRootThroughASymlink() throws {
        try fm.createSymbolicLink(atPath: base + "/site", withDestinationPath: root)
        let store = try StaticFileStore(root: base + "/site/")
        XCTAssertEqual(store.root, StaticFileStore.realPath(root))
        XCTAssertNotNil(store.lookup(path: "/"))
        XCTAssertEqual(store.fileCount, 6)
    }

    func testLargeFilesAreSkipped() throws {
        try write("big.bin", [UInt8](repeating: 7, count: 2049))
        try write("edge.bin", [UInt8](repeating: 7, count: 2048))
        try write("empty.txt", [])
        let store = try StaticFileStore(root: root, maxFileBytes: 2048)
        XCTAssertNil(store.lookup(path: "/big.bin"))
        XCTAssertEqual(store.lookup(path: "/edge.bin")?.identity.count, 2048)
        XCTAssertEqual(store.lookup(path: "/empty.txt")?.identity, [])
        XCTAssertEqual(store.skipped.count, 1)
        XCTAssertTrue(store.skipped[0].hasPrefix("big.bin (2049 bytes"), store.skipped[0])
    }

    func testBadRootThrows() throws {
        XCTAssertThrowsError(try StaticFileStore(root: base + "/nope"))
        XCTAssertThrowsError(try StaticFileStore(root: root + "/app.js")) {
            XCTAssertTrue("\($0)".contains("not a directory"), "\($0)")
        }
    }
}
