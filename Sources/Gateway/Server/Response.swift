import Contracts
import Dispatch
import HTTP

/// A complete response produced by a route handler. The connection adds `Date`, `Server`,
/// `X-Request-Id`, `X-Content-Type-Options`, `Strict-Transport-Security` (TLS with a configured
/// certificate), `Content-Length` and `Connection`, and drops the body for HEAD.
public struct Response: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Work that must not run on the reactor (file reads): when set, the connection runs it and
    /// sends the response it completes with, holding later pipelined requests until then.
    public var deferred: Deferred?
    /// The route that answered (index in the router's table; `HTTPTelemetry.unmatched` when
    /// none did), set by the app for the request metrics.
    var route: Int32 = HTTPTelemetry.unmatched

    /// Produces the real response off the reactor and calls `done` with it, from any thread.
    public typealias Deferred = @Sendable (_ done: @escaping @Sendable (Response) -> Void) -> Void

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response computed on a background queue (the work may block: it is off the reactor).
    public static func later(_ work: @escaping @Sendable () -> Response) -> Response {
        var r = Response(status: 0)
        r.deferred = { done in DispatchQueue.global().async { done(work()) } }
        return r
    }

    /// A JSON response; `body` must already be JSON.
    public static func json(_ status: Int = 200, _ body: [UInt8]) -> Response {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("Cache-Control", "no-store")
        return Response(status: status, headers: headers, body: body)
    }

    /// The project-wide error shape: `{"error":{"code","message"}}`.
    public static func error(_ status: Int, code: String, message: String) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.beginObject("error")
        writer.string("code", code)
        writer.string("message", message)
        writer.endObject()
        writer.endObject()
        return json(status, writer.bytes)
    }

    public static func error(_ error: HTTPParseError) -> Response {
        Response.error(error.status, code: error.code, message: error.message)
    }
}
