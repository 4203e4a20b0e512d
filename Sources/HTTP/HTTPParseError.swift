/// Why a request was refused. `status` and `code` are mapped here and nowhere else.
public enum HTTPParseError: Error, Equatable, Sendable {
    case headersTooLarge
    case tooManyHeaders
    case uriTooLong
    case bodyTooLarge
    /// A syntax or framing violation; the reason is short and safe to show the client.
    case malformed(String)
    case unsupportedVersion
    /// A transfer coding other than a lone, final `chunked`.
    case unsupportedTransferEncoding

    public var status: Int {
        switch self {
        case .headersTooLarge, .tooManyHeaders: 431
        case .uriTooLong: 414
        case .bodyTooLarge: 413
        case .malformed: 400
        case .unsupportedVersion: 505
        case .unsupportedTransferEncoding: 501
        }
    }

    public var code: String {
        switch self {
        case .headersTooLarge: "headers_too_large"
        case .tooManyHeaders: "too_many_headers"
        case .uriTooLong: "uri_too_long"
        case .bodyTooLarge: "body_too_large"
        case .malformed: "bad_request"
        case .unsupportedVersion: "http_version_not_supported"
        case .unsupportedTransferEncoding: "not_implemented"
        }
    }

    public var message: String {
        switch self {
        case .headersTooLarge: "request line and headers are too large"
        case .tooManyHeaders: "too many header fields"
        case .uriTooLong: "request target is too long"
        case .bodyTooLarge: "request body is too large"
        case .malformed(let reason): "malformed request: \(reason)"
        case .unsupportedVersion: "only HTTP/1.0 and HTTP/1.1 are supported"
        case .unsupportedTransferEncoding: "only the chunked transfer coding is supported"
        }
    }
}
