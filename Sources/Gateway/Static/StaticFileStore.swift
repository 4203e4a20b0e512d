import Deflate
import Foundation
import HTTP

/// One file of `Public/`, held in memory with everything a response needs.
public struct StaticFile: Sendable {
    public let relativePath: String
    public let contentType: String
    /// Strong ETag from a hash of the bytes: identical content keeps its ETag across restarts.
    public let etag: String
    /// Modification time, Unix seconds.
    public let lastModified: Int64
    public let identity: [UInt8]
    /// Compressed once at load, for compressible types when it is smaller.
    public let gzip: [UInt8]?
    public let cacheControl: String
}

/// Every regular file under the root, loaded once. Lookups never touch the filesystem, so a
/// request cannot reach outside the root: paths with `.`/`..` segments, backslashes, NUL or
/// hidden components are refused, and symlinks resolving outside the root were never loaded.
public final class StaticFileStore: Sendable {
    private let files: [String: StaticFile]
    public let skipped: [String]
    public var fileCount: Int { files.count }

    public init(root: String, assetCacheControl: String = "public, max-age=3600", maxFileBytes: Int = 8 << 20,
                gzip: Bool = true) throws {
        let manager = FileManager.default
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath()
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: rootURL.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GatewayError("\(root) is not a directory")
        }
        let rootPath = rootURL.path.hasSuffix("/") ? rootURL.path : rootURL.path + "/"
        var files: [String: StaticFile] = [:]
        var skipped: [String] = []
        let entries = manager.enumerator(atPath: rootURL.path)
        while let relative = entries?.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            let url = rootURL.appendingPathComponent(relative)
            let real = url.resolvingSymlinksInPath().path
            guard real.hasPrefix(rootPath) else {
                skipped.append("\(relative) (links outside \(root))")
                continue
            }
            guard let attributes = try? manager.attributesOfItem(atPath: real),
                  attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            guard size <= maxFileBytes else {
                skipped.append("\(relative) (\(size) bytes > static.max_file_bytes)")
                continue
            }
            guard let data = manager.contents(atPath: real) else {
                skipped.append("\(relative) (unreadable)")
                continue
            }
            let bytes = [UInt8](data)
            let type = MIMEType.forPath(relative)
            var compressed: [UInt8]?
            if gzip, MIMEType.isCompressible(type), bytes.count >= 256, let z = try? Gzip.compress(bytes, level: 9),
               z.count < bytes.count {
                compressed = z
            }
            let modified = (attributes[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970) } ?? 0
            files[relative] = StaticFile(
                relativePath: relative, contentType: type, etag: "\"\(Self.hash(bytes))\"", lastModified: modified,
                identity: bytes, gzip: compressed,
                cacheControl: type.hasPrefix("text/html") ? "no-cache" : assetCacheControl)
        }
        self.files = files
        self.skipped = skipped
    }

    /// The file for a decoded request path: "/" and "/dir/" map to index.html.
    public func lookup(path: String) -> StaticFile? {
        guard path.hasPrefix("/"), !path.utf8.contains(0), !path.contains("\\") else { return nil }
        var relative = String(path.dropFirst())
        if relative.isEmpty || relative.hasSuffix("/") { relative += "index.html" }
        let segments = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0.isEmpty || $0.hasPrefix(".") }) else { return nil }
        return files[relative]
    }

    /// FNV-1a 64, hex: enough to tell versions of a file apart; not a security hash.
    static func hash(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

enum MIMEType {
    static let table: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "json": "application/json", "map": "application/json", "svg": "image/svg+xml", "png": "image/png",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "ico": "image/x-icon",
        "txt": "text/plain; charset=utf-8", "xml": "application/xml", "wasm": "application/wasm",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "csv": "text/csv; charset=utf-8",
        "pdf": "application/pdf", "webmanifest": "application/manifest+json",
    ]

    static func forPath(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "application/octet-stream" }
        return table[path[path.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }

    static func isCompressible(_ type: String) -> Bool {
        type.hasPrefix("text/") || type.hasPrefix("application/json") || type.hasPrefix("application/xml")
            || type.hasPrefix("image/svg") || type.hasPrefix("application/manifest") || type == "application/wasm"
    }
}
