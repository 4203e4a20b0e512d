import HTTP
import Deflate
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file of the static root, held in memory with everything a response needs.
public struct StaticFile: Sendable {
    /// Path below the root, "/"-separated: "index.html", "docs/index.html".
    public let relativePath: String
    /// Media type from the extension; text types carry "; charset=utf-8".
    public let contentType: String
    /// Strong ETag, quoted: FNV-1a 64 of the bytes in hex, so identical content keeps its tag across restarts.
    public let etag: String
    /// File modification time, Unix seconds.
    public let lastModified: Int64
    /// The file's bytes.
    public let identity: [UInt8]
    /// Gzip (level 9) made at load, for compressible types of at least 256 bytes when smaller than `identity`.
    public let gzip: [UInt8]?
    /// "no-cache" for HTML (always revalidated), the configured asset policy otherwise.
    public let cacheControl: String
    /// `lastModified` as an HTTP-date, formatted once.
    public let lastModifiedText: String
    /// The fields of a plain 200 answer (no conditional request), identity and gzip, made once
    /// by `StaticResponder` so a request copies them rather than building them.
    public private(set) var identityHeaders = HTTPHeaders()
    public private(set) var gzipHeaders = HTTPHeaders()

    public init(relativePath: String, contentType: String, etag: String, lastModified: Int64, identity: [UInt8], gzip: [UInt8]?,
                cacheControl: String) {
        self.relativePath = relativePath
        self.contentType = contentType
        self.etag = etag
        self.lastModified = lastModified
        self.identity = identity
        self.gzip = gzip
        self.cacheControl = cacheControl
        lastModifiedText = HTTPDate.format(unixSeconds: lastModified)
        identityHeaders = HTTPHeaders(StaticResponder.answer(self, acceptEncoding: nil, ifNoneMatch: nil, ifModifiedSince: nil).headers)
        if gzip != nil {
            gzipHeaders = HTTPHeaders(StaticResponder.answer(self, acceptEncoding: "gzip", ifNoneMatch: nil, ifModifiedSince: nil).headers)
        }
    }
}

/// A static root that could not be loaded.
public struct StaticFileStoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Every regular file under a root directory, loaded once into memory.
///
/// Lookups never touch the filesystem, so requests cannot reach outside what was loaded: files
/// whose real path (after symlinks) is outside the root, or inside a hidden directory, are never
/// loaded, and request paths with `.`/`..`/empty/hidden segments, backslashes or NUL are refused.
public final class StaticFileStore: Sendable {
    private let files: [String: StaticFile]
    /// The root's real path.
    public let root: String
    /// Entries not served, each "relative/path (reason)": too large, linking outside the root, unreadable.
    public let skipped: [String]
    /// How many files can be served.
    public var fileCount: Int { files.count }

    /// Loads every regular file under `root`. Files over `maxFileBytes` are skipped and listed in
    /// `skipped`; hidden entries (name starting with ".") are ignored. With `gzip` false no
    /// compressed variants are made. Throws when `root` is not a readable directory.
    public init(root: String, assetCacheControl: String = "public, max-age=3600", maxFileBytes: Int = 8 << 20,
                gzip: Bool = true) throws {
        guard let realRoot = Self.realPath(root) else {
            throw StaticFileStoreError("\(root): \(String(cString: strerror(errno)))")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: realRoot, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StaticFileStoreError("\(root) is not a directory")
        }
        var loader = Loader(root: realRoot, assetCacheControl: assetCacheControl, maxFileBytes: maxFileBytes, gzip: gzip)
        do {
            try loader.walk(directory: realRoot, relative: "")
        } catch {
            throw StaticFileStoreError("\(root): \(error)")
        }
        self.root = realRoot
        files = loader.files
        skipped = loader.skipped
    }

    /// The file for a request path already percent-decoded by the parser: "/" and "/dir/" map to
    /// "dir/index.html". Returns nil for anything not loaded and for every suspicious path
    /// (no leading "/", "." or ".." or empty or hidden segments, "\", NUL) rather than normalising it.
    public func lookup(path: String) -> StaticFile? {
        Self.key(forRequestPath: path).flatMap { files[$0] }
    }

    /// The dictionary key for a request path, or nil when the path is refused.
    static func key(forRequestPath path: String) -> String? {
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/"), !bytes.contains(0), !bytes.contains(UInt8(ascii: "\\")) else {
            return nil
        }
        var relative = String(path.dropFirst())
        if relative.isEmpty || relative.utf8.last == UInt8(ascii: "/") { relative += "index.html" }
        for segment in relative.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let first = segment.first, first != UInt8(ascii: ".") else { return nil }
        }
        return relative
    }

    /// FNV-1a 64 of `bytes`, 16 lowercase hex digits: tells versions of a file apart, not a security hash.
    static func contentHash(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The load-time walk; its state is thrown away once the store is built.
private struct Loader {
    let rootPrefix: String
    let assetCacheControl: String
    let maxFileBytes: Int
    let gzip: Bool
    var files: [String: StaticFile] = [:]
    var skipped: [String] = []
    /// Real paths of the directories being walked (the current branch), so directory links cannot loop.
    var ancestors: Set<String> = []

    init(root: String, assetCacheControl: String, maxFileBytes: Int, gzip: Bool) {
        rootPrefix = root.hasSuffix("/") ? root : root + "/"
        self.assetCacheControl = assetCacheControl
        self.maxFileBytes = maxFileBytes
        self.gzip = gzip
    }

    mutating func walk(directory: String, relative prefix: String) throws {
        ancestors.insert(directory)
        defer { ancestors.remove(directory) }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        for name in names where name.utf8.first != UInt8(ascii: ".") {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            guard let real = StaticFileStore.realPath(directory + "/" + name) else {
                skipped.append("\(relative) (broken link or unreadable)")
                continue
            }
            guard real.hasPrefix(rootPrefix) else {
                skipped.append("\(relative) (resolves outside the root)")
                continue
            }
            // A visible link must not expose a hidden target such as ".git/config".
            if real.dropFirst(rootPrefix.count).split(separator: "/").contains(where: { $0.utf8.first == UInt8(ascii: ".") }) {
                skipped.append("\(relative) (resolves to a hidden path)")
                continue
            }
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: real) else {
                skipped.append("\(relative) (unreadable)")
                continue
            }
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?:
                guard !ancestors.contains(real) else {
                    skipped.append("\(relative) (link back to a parent directory)")
                    continue
                }
                do { try walk(directory: real, relative: relative) } catch { skipped.append("\(relative)/ (\(error))") }
            case .typeRegular?:
                load(real: real, relative: relative, attributes: attributes)
            default:
                skipped.append("\(relative) (not a regular file)")
            }
        }
    }

    private mutating func load(real: String, relative: String, attributes: [FileAttributeKey: Any]) {
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxFileBytes else {
            skipped.append("\(relative) (\(size) bytes, over the \(maxFileBytes)-byte limit)")
            return
        }
        guard let data = FileManager.default.contents(atPath: real), data.count <= maxFileBytes else {
            skipped.append("\(relative) (unreadable or grew while loading)")
            return
        }
        let bytes = [UInt8](data)
        let type = MIMEType.forPath(relative)
        var compressed: [UInt8]?
        // HTML documents are never compressed: a page is where a secret and reflected input can
        // meet, and compression over TLS then leaks the secret by length (BREACH); testssl rates
        // a gzipped page MEDIUM. Scripts, styles and data still are.
        if gzip, bytes.count >= 256, MIMEType.isCompressible(type), !type.hasPrefix("text/html"),
           let z = try? Gzip.compress(bytes, level: 9), z.count < bytes.count {
            compressed = z
        }
        let modified = (attributes[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970.rounded(.down)) } ?? 0
        files[relative] = StaticFile(
            relativePath: relative, contentType: type, etag: "\"\(StaticFileStore.contentHash(bytes))\"",
            lastModified: modified, identity: bytes, gzip: compressed,
            cacheControl: type.hasPrefix("text/html") ? "no-cache" : assetCacheControl)
    }
}
