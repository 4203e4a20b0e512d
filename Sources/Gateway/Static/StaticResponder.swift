import Contracts
import HTTP

/// Chooses the representation (identity or gzip) and the conditional status for a static file
/// request. Pure: no clock, no filesystem.
public enum StaticResponder {
    /// What to send.
    public struct Answer: Sendable {
        /// 200, or 304 when the client's copy is current.
        public let status: Int
        /// Content-Type (not on 304), ETag, Last-Modified, Cache-Control, Vary: Accept-Encoding when a gzip
        /// variant exists, Content-Encoding: gzip when the gzip body is chosen; an HTML page also gets
        /// `pageSecurityHeaders`.
        public let headers: [(String, String)]
        /// The chosen representation; empty for 304.
        public let body: [UInt8]
    }

    /// What a page may do: its own scripts, styles, images and connections (fetch and the
    /// same-origin WebSocket) only — no inline script, no eval, no plugins, no framing by another
    /// site, no Referer to other sites.
    public static let pageSecurityHeaders: [(String, String)] = [
        ("Content-Security-Policy",
         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
             + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
    ]

    /// The answer for `file` given the raw request headers (nil when absent).
    /// - `ifNoneMatch`: "*" or a list of entity tags, compared weakly (RFC 9110 §13.1.2), so `W/"x"` matches `"x"`.
    /// - `ifModifiedSince`: an HTTP-date, consulted only without If-None-Match (§13.2.2): 304 when
    ///   the file is not newer; ignored when not a valid date.
    /// - `acceptEncoding`: gzip is sent when its q-value (explicit, else "*"'s) is above zero and not
    ///   below an explicit identity q-value; "identity", an empty header or none at all get identity.
    public static func answer(_ file: StaticFile, acceptEncoding: String?, ifNoneMatch: String?,
                              ifModifiedSince: String?) -> Answer {
        let notModified: Bool
        if let ifNoneMatch {
            notModified = matches(ifNoneMatch, etag: file.etag)
        } else if let header = ifModifiedSince, let since = HTTPDate.parse(header[...].trimmingSpaces()) {
            notModified = file.lastModified <= since
        } else {
            notModified = false
        }
        var headers: [(String, String)] = []
        headers.reserveCapacity(6)
        // RFC 9110 §15.4.5: a 304 carries the validators and caching fields, not the content's metadata.
        if !notModified { headers.append(("Content-Type", file.contentType)) }
        headers.append(("ETag", file.etag))
        headers.append(("Last-Modified", file.lastModifiedText))
        headers.append(("Cache-Control", file.cacheControl))
        if file.gzip != nil { headers.append(("Vary", "Accept-Encoding")) }
        if notModified { return Answer(status: 304, headers: headers, body: []) }
        if file.contentType.hasPrefix("text/html") { headers.append(contentsOf: pageSecurityHeaders) }
        if let gzip = file.gzip, let acceptEncoding, prefersGzip(acceptEncoding) {
            headers.append(("Content-Encoding", "gzip"))
            return Answer(status: 200, headers: headers, body: gzip)
        }
        return Answer(status: 200, headers: headers, body: file.identity)
    }

    /// True when If-None-Match `header` is "*" or lists `etag`, ignoring W/ prefixes on both
    /// sides. A malformed list matches only the tags before the damage.
    static func matches(_ header: String, etag: String) -> Bool {
        let target = etag.hasPrefix("W/") ? Array(etag.utf8.dropFirst(2)) : Array(etag.utf8)
        let bytes = Array(header.utf8)
        let quote = UInt8(ascii: "\"")
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: ","):
                i += 1
                continue
            case UInt8(ascii: "*"):
                return true
            default:
                break
            }
            if bytes[i] == UInt8(ascii: "W"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "/") { i += 2 }
            // Entity tags may contain commas, so each one is read to its closing quote.
            guard i < bytes.count, bytes[i] == quote,
                  let close = bytes[(i + 1)...].firstIndex(of: quote) else { return false }
            if bytes[i...close].elementsEqual(target) { return true }
            i = close + 1
        }
        return false
    }

    /// Accept-Encoding negotiation for gzip (RFC 9110 §12.5.3). A q-value that is not a valid
    /// qvalue counts as 0, erring towards identity, which every client accepts.
    static func prefersGzip(_ header: String) -> Bool {
        var gzipQ: Double?
        var anyQ: Double?
        var identityQ: Double?
        for element in header.split(separator: ",") {
            var parameters = element.split(separator: ";").makeIterator()
            let coding = (parameters.next() ?? "").trimmingSpaces().lowercased()
            guard !coding.isEmpty else { continue }
            var q = 1.0
            while let parameter = parameters.next() {
                let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2, pair[0].trimmingSpaces().lowercased() == "q" { q = qvalue(pair[1].trimmingSpaces()) ?? 0 }
            }
            switch coding {
            case "gzip", "x-gzip": gzipQ = max(gzipQ ?? 0, q)
            case "*": anyQ = max(anyQ ?? 0, q)
            case "identity": identityQ = max(identityQ ?? 0, q)
            default: break
            }
        }
        guard let q = gzipQ ?? anyQ, q > 0 else { return false }
        return q >= (identityQ ?? 0)
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    private static func qvalue(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1"), bytes.count <= 5 else {
            return nil
        }
        if bytes.count > 1 {
            guard bytes[1] == UInt8(ascii: "."),
                  bytes[2...].allSatisfy({ first == UInt8(ascii: "0") ? (0x30...0x39).contains($0) : $0 == 0x30 })
            else { return nil }
        }
        return Double(text)
    }
}
