import CLinux
import Glibc
import HTTP
import Logging

/// What a route handler sees of a request.
public struct RequestContext {
    public let request: HTTPRequest
    /// Path parameters from the route pattern (`{id}` → "id").
    public let parameters: [String: String]
    public let isLoopback: Bool
    public let isTLS: Bool
    /// The reactor loop answering (each loop has its own ingest ring into the pipeline).
    public let loopIndex: Int
    /// Monotonic time (`dfl_monotonic_ns`) the request head was parsed: ticks it carries are
    /// stamped with it, the origin of their stage latencies.
    public var receivedNs: Int64 = 0

    /// Parsed query string; a malformed escape throws an error naming the parameter.
    public func query() throws(HTTPQueryError) -> QueryParameters {
        try QueryParameters(parsing: request.query)
    }
}

public typealias RouteHandler = @Sendable (RequestContext) -> Response

/// HTTP behaviour shared by every connection: limits, timeouts and header policy.
public struct HTTPSettings: Sendable {
    public var limits = HTTPLimits()
    public var headerTimeoutMs: Int64 = 10_000
    public var keepAliveIdleMs: Int64 = 60_000
    /// Stop reading new requests while this many response bytes wait for the client.
    public var pipelineBackpressureBytes = 1 << 20
    public var serverHeader = "dongfeng/\(DongfengVersion.current)"
    /// Origins allowed by CORS; empty = CORS off, ["*"] = any origin.
    public var corsOrigins: [String] = []
    /// Access log and level, switchable at runtime (`PUT /admin/log`).
    public var logControl = LogControl()
    /// When set, every request is answered with a 308 to https on this port (plain listener).
    public var redirectToHTTPSPort: Int?
    /// `Strict-Transport-Security` value sent on TLS connections; nil = not sent.
    public var strictTransportSecurity: String?

    public init() {}
}

/// The request router plus the policy around it (CORS, errors for unmatched routes). Built
/// once before the loops start and immutable afterwards, so every loop shares it.
public final class GatewayApp: Sendable {
    public let settings: HTTPSettings
    let router: Router<RouteHandler>
    let logger: Logger
    /// WebSocket upgrades go here (nil on listeners that do not stream).
    let streaming: Streaming?
    private let dateCaches: [DateCache]
    /// Requests by route and status, durations per loop.
    let telemetry: HTTPTelemetry

    init(settings: HTTPSettings, router: Router<RouteHandler>, loops: Int, logger: Logger, streaming: Streaming? = nil,
         telemetry: HTTPTelemetry? = nil) {
        self.settings = settings
        self.router = router
        self.telemetry = telemetry ?? HTTPTelemetry(loops: loops)
        self.telemetry.setRoutes(router.table)
        self.logger = logger
        self.streaming = streaming
        self.dateCaches = (0..<max(1, loops)).map { _ in DateCache() }
        serverHeaderBytes = Array(settings.serverHeader.utf8)
        hstsBytes = settings.strictTransportSecurity.map { Array($0.utf8) }
    }

    /// `settings.serverHeader` and `settings.strictTransportSecurity` as bytes (every response
    /// carries them).
    let serverHeaderBytes: [UInt8]
    let hstsBytes: [UInt8]?

    /// The `Date` header value, formatted at most once a second per loop.
    func date(loop: Int) -> [UInt8] { dateCaches[loop % dateCaches.count].current() }

    /// Answers one parsed request.
    func respond(to request: HTTPRequest, isLoopback: Bool, isTLS: Bool, loopIndex: Int = 0, receivedNs: Int64 = 0) -> Response {
        if let port = settings.redirectToHTTPSPort { return redirect(request, port: port) }
        let origin = request.headers[first: "Origin"]
        if request.method == .options, let origin, request.headers.contains("Access-Control-Request-Method") {
            return preflight(request, origin: origin)
        }
        var response: Response
        switch router.match(request.method, request.path) {
        case .found(let handler, let parameters, let route):
            response = handler(RequestContext(request: request, parameters: parameters, isLoopback: isLoopback,
                                              isTLS: isTLS, loopIndex: loopIndex, receivedNs: receivedNs))
            response.route = Int32(route)
        case .methodNotAllowed(let allowed):
            // The resource exists, so any other method — standard (TRACE) or not (QUERY, BREW) —
            // is answered 405 with the methods it does take (RFC 9110 §15.5.6).
            response = .error(405, code: "method_not_allowed", message: "\(request.method) is not allowed on \(request.path)")
            response.headers.add("Allow", allowed.map(\.description).joined(separator: ", "))
        case .notFound:
            if case .other = request.method {
                response = .error(501, code: "not_implemented", message: "method \(request.method) is not implemented")
            } else {
                response = .error(404, code: "not_found", message: "no resource at \(request.path)")
            }
        }
        if let origin, let allowed = allowedOrigin(origin) {
            if let work = response.deferred {
                response.deferred = { done in
                    work { later in
                        var r = later
                        r.headers.replaceOrAdd("Access-Control-Allow-Origin", allowed)
                        if allowed != "*" { r.headers.add("Vary", "Origin") }
                        done(r)
                    }
                }
            }
            response.headers.replaceOrAdd("Access-Control-Allow-Origin", allowed)
            if allowed != "*" { response.headers.add("Vary", "Origin") }
        }
        return response
    }

    private func allowedOrigin(_ origin: String) -> String? {
        if settings.corsOrigins.contains("*") { return "*" }
        return settings.corsOrigins.contains(origin) ? origin : nil
    }

    private func preflight(_ request: HTTPRequest, origin: String) -> Response {
        guard let allowed = allowedOrigin(origin) else {
            return .error(403, code: "cors_origin_denied", message: "origin \(origin) is not allowed")
        }
        var headers = HTTPHeaders()
        headers.add("Access-Control-Allow-Origin", allowed)
        headers.add("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, OPTIONS")
        headers.add("Access-Control-Allow-Headers", "Authorization, Content-Type, X-API-Key")
        headers.add("Access-Control-Max-Age", "600")
        if allowed != "*" { headers.add("Vary", "Origin") }
        return Response(status: 204, headers: headers)
    }

    private func redirect(_ request: HTTPRequest, port: Int) -> Response {
        var host = request.headers[first: "Host"] ?? "127.0.0.1"
        // Drop the plain port from the Host header; keep IPv6 brackets.
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        let location = "https://\(host)\(port == 443 ? "" : ":\(port)")\(request.target.hasPrefix("/") ? request.target : "/")"
        var response = Response.error(308, code: "https_required", message: "use \(location)")
        response.headers.add("Location", location)
        return response
    }
}

/// Caches the IMF-fixdate for the current second. Touched only by its own loop's thread.
final class DateCache: @unchecked Sendable {
    private var second: Int64 = -1
    private var value: [UInt8] = []

    func current() -> [UInt8] {
        let now = Int64(time(nil))
        if now != second {
            second = now
            value = Array(HTTPDate.format(unixSeconds: now).utf8)
        }
        return value
    }
}
