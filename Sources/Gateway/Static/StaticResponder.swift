import HTTP

/// Chooses the representation (identity or gzip) and the conditional status for a request.
public enum StaticResponder {
    public struct Answer: Sendable {
        public let status: Int
        public let headers: [(String, String)]
        public let body: [UInt8]
    }

    public static func answer(_ file: StaticFile, acceptEncoding: String?, ifNoneMatch: String?,
                              ifModifiedSince: String?) -> Answer {
        var headers: [(String, String)] = [
            ("Content-Type", file.contentType),
            ("ETag", file.etag),
            ("Last-Modified", HTTPDate.format(unixSeconds: file.lastModified)),
            ("Cache-Control", file.cacheControl),
        ]
        if file.gzip != nil { headers.append(("Vary", "Accept-Encoding")) }
        // RFC 9110 §13.1.2 / §13.2.2: If-None-Match wins; If-Modified-Since only without it.
        let notModified: Bool
        if let ifNoneMatch {
            notModified = matches(ifNoneMatch, etag: file.etag)
        } else if let since = ifModifiedSince.flatMap(HTTPDate.parse) {
            notModified = file.lastModified <= since
        } else {
            notModified = false
        }
        if notModified { return Answer(status: 304, headers: headers, body: []) }
        if let gzip = file.gzip, let acceptEncoding, acceptsGzip(acceptEncoding) {
            headers.append(("Content-Encoding", "gzip"))
            return Answer(status: 200, headers: headers, body: gzip)
        }
        return Answer(status: 200, headers: headers, body: file.identity)
    }

    /// Weak comparison: `W/"x"` matches `"x"`; `*` matches any current representation.
    static func matches(_ header: String, etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingSpaces()
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == etag { return true }
        }
        return false
    }

    /// True when gzip's q-value (explicit, or via `*`) is above zero (RFC 9110 §12.5.3).
    static func acceptsGzip(_ header: String) -> Bool {
        var gzipQ: Double?
        var starQ: Double?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";")
            guard let name = parts.first?.trimmingSpaces().lowercased() else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let p = parameter.trimmingSpaces().lowercased()
                if p.hasPrefix("q=") { q = Double(p.dropFirst(2)) ?? 0 }
            }
            if name == "gzip" || name == "x-gzip" { gzipQ = q } else if name == "*" { starQ = q }
        }
        return (gzipQ ?? starQ ?? 0) > 0
    }
}
