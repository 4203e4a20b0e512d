import Contracts
import HTTP
import Pipeline
import Reactor
import WebSocket

/// The per-loop broadcasters and streaming limits, shared by the HTTP connections of a loop.
public final class Streaming: @unchecked Sendable {
    let broadcasters: [Broadcaster]
    let settings: StreamingSettings
    /// Test-only echo on "/" (Autobahn), from `testing.websocket_echo`.
    let echo: Bool

    init(broadcasters: [Broadcaster], settings: StreamingSettings, echo: Bool = false) {
        self.broadcasters = broadcasters
        self.settings = settings
        self.echo = echo
    }

    static let paths: Set<String> = ["/ws", "/ws/opportunities"]

    func handles(_ path: String) -> Bool { Self.paths.contains(path) || (echo && path == "/") }

    /// Validates an upgrade request (RFC 6455 §4.2.1) and returns the 101 response head and the
    /// session, or an error response.
    func upgrade(_ request: HTTPRequest, loopIndex: Int) -> Result<(head: [UInt8], session: ConnectionHandler), APIError> {
        let connectionTokens = (request.headers[first: "Connection"] ?? "").lowercased().split(separator: ",")
            .map { $0.trimmingSpaces() }
        guard request.method == .get, request.versionMinor == 1, connectionTokens.contains("upgrade") else {
            return .failure(APIError(status: 400, code: "bad_upgrade", message: "a WebSocket upgrade is a GET with Connection: Upgrade"))
        }
        guard request.headers[first: "Sec-WebSocket-Version"] == "13" else {
            return .failure(APIError(status: 426, code: "unsupported_version", message: "Sec-WebSocket-Version must be 13"))
        }
        guard let key = request.headers[first: "Sec-WebSocket-Key"], WSHandshake.isValidKey(key) else {
            return .failure(APIError(status: 400, code: "bad_key", message: "Sec-WebSocket-Key must be 16 bytes in base64"))
        }
        if let origin = request.headers[first: "Origin"], !originAllowed(origin, host: request.headers[first: "Host"]) {
            return .failure(APIError(status: 403, code: "origin_denied", message: "origin \(origin) is not allowed"))
        }
        if echo && request.path == "/" {
            let deflate = PerMessageDeflate.negotiate(request.headers[first: "Sec-WebSocket-Extensions"])
            return .success((Self.switchingHead(key: key, deflate: deflate), EchoSession(deflate: deflate, maxMessageBytes: 64 << 20)))
        }
        var subscription = Subscription()
        var since: UInt64?
        var cursor: ResumeCursor?
        do {
            let q = try QueryParameters(parsing: request.query)
            let asked = try SubscriptionRequest(query: q["channels"], symbols: q["symbols"], minConfidence: q["min_confidence"],
                                                sinceSeq: q["since_seq"], cursor: q["cursor"], maxSymbols: settings.maxSymbols)
            subscription.apply(asked, defaultChannel: request.path == "/ws/opportunities" ? .opportunities : nil)
            since = asked.sinceSeq
            cursor = asked.cursor
            if cursor != nil && settings.instance == nil {
                return .failure(.parameter("cursor", WebSocketSession.cursorNeedsInstances))
            }
        } catch let e as StreamCommand.Failure {
            return .failure(APIError(status: 400, code: "invalid_parameter", message: e.message))
        } catch let e as HTTPQueryError {
            return .failure(.parameter(e.parameter, e.message))
        } catch {
            return .failure(APIError(status: 400, code: "invalid_parameter", message: "\(error)"))
        }
        let deflate = PerMessageDeflate.negotiate(request.headers[first: "Sec-WebSocket-Extensions"])
        let broadcaster = broadcasters[loopIndex % broadcasters.count]
        let session = WebSocketSession(broadcaster: broadcaster, deflate: deflate, subscription: subscription, sinceSeq: since,
                                       cursor: cursor, ingestKey: request.headers[first: "X-API-Key"])
        return .success((Self.switchingHead(key: key, deflate: deflate), session))
    }

    static func switchingHead(key: String, deflate: PerMessageDeflate?) -> [UInt8] {
        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Accept: \(WSHandshake.accept(key: key))\r\n"
        if let deflate { head += "Sec-WebSocket-Extensions: \(deflate.responseHeader)\r\n" }
        head += "\r\n"
        return Array(head.utf8)
    }

    /// Same-origin (the Origin's host:port is the request's Host), or listed in the allow-list.
    private func originAllowed(_ origin: String, host: String?) -> Bool {
        if settings.allowedOrigins.contains("*") || settings.allowedOrigins.contains(origin) { return true }
        guard let host else { return false }
        let stripped = origin.hasPrefix("https://") ? origin.dropFirst(8) : origin.hasPrefix("http://") ? origin.dropFirst(7) : Substring("")
        return !stripped.isEmpty && stripped.lowercased() == host.lowercased()
    }
}

extension Streaming {
    /// A plain GET on a stream path (no `Upgrade: websocket`) says how to connect (RFC 9110 §15.5.22).
    static func registerPlainGets(into router: inout Router<RouteHandler>) {
        for path in paths.sorted() {
            router.add(.get, path) { _ in
                var r = Response.error(426, code: "upgrade_required", message: "\(path) is a WebSocket: connect with wss:// (Upgrade: websocket)")
                r.headers.add("Upgrade", "websocket")
                return r
            }
        }
    }
}
