/// Standard reason phrases.
public enum HTTPStatus {
    public static func reason(_ code: Int) -> String {
        switch code {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }
}

/// A response status line and header fields, serialised as HTTP/1.1.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: HTTPHeaders

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.headers = headers
    }

    /// Appends the status line, the fields and the blank line. Adds no field of its own.
    public func write(into out: inout [UInt8]) {
        Self.statusLine(status, into: &out)
        for field in headers { Self.field(field.name.utf8, field.value.utf8, into: &out) }
        out.append(contentsOf: [13, 10])
    }

    /// The status lines of the commonest answers, ready to copy.
    private static let common: [Int: [UInt8]] = Dictionary(uniqueKeysWithValues: [200, 204, 304, 400, 404].map { code in
        (code, Array("HTTP/1.1 \(code) \(HTTPStatus.reason(code))\r\n".utf8))
    })

    /// Appends `HTTP/1.1 <status> <reason>` and CRLF.
    public static func statusLine(_ status: Int, into out: inout [UInt8]) {
        if status == 200 {
            out.append(contentsOf: ok)
        } else if let line = common[status] {
            out.append(contentsOf: line)
        } else {
            out.append(contentsOf: "HTTP/1.1 ".utf8)
            out.append(contentsOf: String(status).utf8)
            out.append(32)
            out.append(contentsOf: HTTPStatus.reason(status).utf8)
            out.append(contentsOf: [13, 10])
        }
    }

    private static let ok = Array("HTTP/1.1 200 OK\r\n".utf8)

    /// Appends `name: value` and CRLF.
    @inlinable
    public static func field<N: Collection, V: Collection>(_ name: N, _ value: V, into out: inout [UInt8])
        where N.Element == UInt8, V.Element == UInt8 {
        out.append(contentsOf: name)
        out.append(58)
        out.append(32)
        out.append(contentsOf: value)
        out.append(13)
        out.append(10)
    }

    /// Appends a field whose value is a decimal number.
    public static func field<N: Collection>(_ name: N, decimal value: Int, into out: inout [UInt8]) where N.Element == UInt8 {
        out.append(contentsOf: name)
        out.append(58)
        out.append(32)
        appendDecimal(value, into: &out)
        out.append(13)
        out.append(10)
    }

    /// Appends a non-negative number's digits (no String made).
    public static func appendDecimal(_ value: Int, into out: inout [UInt8]) {
        guard value > 0 else { return out.append(48) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value, count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 {
                d[19 - count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            }
            out.append(contentsOf: d[(20 - count)...])
        }
    }
}
