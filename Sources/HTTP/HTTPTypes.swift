/// Request limits, each answered with its own status by `HTTPParseError`.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line + headers, CRLFs included (431).
    public var maxHeaderBytes: Int
    /// Header fields, trailers included (431).
    public var maxHeaderCount: Int
    /// Request-target length (414).
    public var maxURIBytes: Int
    /// Decoded body: Content-Length or the sum of chunk sizes (413).
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxURIBytes: Int = 8 * 1024,
                maxBodyBytes: Int = 1 << 20) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxURIBytes = maxURIBytes
        self.maxBodyBytes = maxBodyBytes
    }
}

public enum HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    case get, head, post, put, delete, options, patch
    /// Any other valid token (TRACE, CONNECT, PROPFIND...): the router answers 501.
    case other(String)

    public init(_ token: String) {
        switch token {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "OPTIONS": self = .options
        case "PATCH": self = .patch
        default: self = .other(token)
        }
    }

    /// The method of a request line's token, read from its bytes (no String for the usual ones).
    init(token: UnsafeBufferPointer<UInt8>) {
        if token.elementsEqual("GET".utf8) { self = .get }
        else if token.elementsEqual("POST".utf8) { self = .post }
        else if token.elementsEqual("HEAD".utf8) { self = .head }
        else { self.init(String(decoding: token, as: UTF8.self)) }
    }

    public var description: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .options: "OPTIONS"
        case .patch: "PATCH"
        case .other(let token): token
        }
    }
}

/// Ordered header fields; names compare case-insensitively (ASCII).
public struct HTTPHeaders: Sendable, Sequence {
    private var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ pairs: [(String, String)]) { fields = pairs.map { (name: $0.0, value: $0.1) } }

    public var count: Int { fields.count }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    public mutating func replaceOrAdd(_ name: String, _ value: String) {
        if let i = fields.firstIndex(where: { Self.same($0.name, name) }) {
            fields[i].value = value
            fields.removeAll { Self.same($0.name, name) && $0.value != value }
        } else {
            fields.append((name, value))
        }
    }

    public mutating func remove(_ name: String) { fields.removeAll { Self.same($0.name, name) } }

    public subscript(first name: String) -> String? { fields.first { Self.same($0.name, name) }?.value }

    public func values(_ name: String) -> [String] { fields.filter { Self.same($0.name, name) }.map(\.value) }

    public func contains(_ name: String) -> Bool { fields.contains { Self.same($0.name, name) } }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// ASCII case-insensitive equality without allocating.
    public static func caseInsensitiveEqual(_ a: String, _ b: String) -> Bool { same(a, b) }

    /// ASCII case-insensitive equality without allocating.
    static func same(_ a: String, _ b: String) -> Bool {
        var i = a.utf8.makeIterator()
        var j = b.utf8.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return true
            case (let x?, let y?): if lower(x) != lower(y) { return false }
            default: return false
            }
        }
    }
}

/// A parsed request.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request-target as sent, e.g. "/a%20b?x=1".
    public var target: String
    /// The percent-decoded path, "/a b".
    public var path: String
    /// The path as sent (before '?'), undecoded.
    public var rawPath: String
    /// The raw query after '?', "" when none.
    public var query: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var versionMinor: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// HTTP/1.1: true unless `Connection: close`; HTTP/1.0: false unless `Connection: keep-alive`.
    public var keepAlive: Bool
    /// HTTP/1.1 with `Expect: 100-continue`.
    public var expectsContinue: Bool
}
