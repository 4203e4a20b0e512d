import CLinux
import Glibc
import HTTP
import Synchronization
import Logging
import Reactor

/// HTTP/1.1 over one reactor connection: feeds bytes to the parser, answers requests in order
/// (pipelining), enforces the header and keep-alive timeouts, and applies backpressure by
/// pausing reads while responses wait for a slow client.
final class HTTPConnection: ConnectionHandler {
    private let app: GatewayApp
    private var parser: HTTPParser
    private var draining = false
    private var closing = false
    /// True while a request has started arriving and is not complete (header/body timeout).
    private var requestInProgress = false
    private var head: [UInt8] = []
    /// A deferred response is being computed: later requests wait (responses stay in order).
    private var awaitingDeferred = false
    /// The request being answered: when its head was parsed, and its route (metrics).
    private var requestStartNs: Int64 = 0
    private var requestRoute = HTTPTelemetry.unmatched
    /// The request's id: the client's `X-Request-Id` when it is a plain token, else ours; sent
    /// back in the response and written in the access log.
    private var requestId: [UInt8] = []
    /// The id as text (the access log).
    private var requestIdText: String { String(decoding: requestId, as: UTF8.self) }

    init(app: GatewayApp) {
        self.app = app
        self.parser = HTTPParser(limits: app.settings.limits)
    }

    func connectionDidOpen(_ connection: Connection) {
        // A new connection must send its first request head within the header timeout.
        connection.setDeadline(afterMs: app.settings.headerTimeoutMs)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        parser.append(bytes)
        process(connection)
    }

    func connectionDidDrainWrites(_ connection: Connection) {
        guard !closing else { return }
        connection.resumeReading()
        process(connection)
    }

    func connectionDeadlineExpired(_ connection: Connection) {
        if connection.queuedBytes > 0 {
            // The client stopped reading its responses for a whole timeout: give up on it.
            connection.close(reason: .requested)
        } else if requestInProgress || parser.bufferedByteCount > 0 {
            respondError(connection, Response.error(408, code: "request_timeout",
                                                    message: "request not received in time"))
        } else {
            connection.close(reason: .requested)  // idle keep-alive connection
        }
    }

    func connectionShouldDrain(_ connection: Connection) {
        draining = true
        if !requestInProgress && parser.bufferedByteCount == 0 {
            if connection.queuedBytes == 0 { connection.close(reason: .shutdown) } else { connection.closeAfterFlush() }
        }
        // Otherwise the request in flight is answered with `Connection: close`.
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        closing = true
        parser.reset()
    }

    private func process(_ connection: Connection) {
        while !closing && connection.isOpen && !awaitingDeferred {
            if connection.queuedBytes > app.settings.pipelineBackpressureBytes {
                connection.pauseReading()  // resumed by connectionDidDrainWrites
                return
            }
            switch parser.next() {
            case .needMore:
                let partial = parser.bufferedByteCount > 0
                if partial && !requestInProgress {
                    requestInProgress = true
                    connection.setDeadline(afterMs: app.settings.headerTimeoutMs)
                } else if !partial && !requestInProgress {
                    connection.setDeadline(afterMs: app.settings.keepAliveIdleMs)
                }
                return
            case .expectContinue:
                requestInProgress = true
                connection.write(Self.continueLine)
            case .request(let request):
                requestInProgress = false
                requestStartNs = dfl_monotonic_ns()
                RequestId.write(request.headers[first: "X-Request-Id"], into: &requestId)
                if let streaming = app.streaming, streaming.handles(request.path),
                   request.headers[first: "Upgrade"]?.lowercased() == "websocket" {
                    upgrade(request, streaming, connection)
                    return
                }
                let response = app.respond(to: request, isLoopback: connection.isLoopback, isTLS: connection.isTLS,
                                           loopIndex: connection.eventLoop.index, receivedNs: requestStartNs)
                requestRoute = response.route
                if let work = response.deferred {
                    // In flight: a drain waits for it; no timeout fires; later requests wait unread.
                    awaitingDeferred = true
                    requestInProgress = true
                    connection.setDeadline(afterMs: 0)
                    connection.pauseReading()
                    let box = DeferredBox(self, connection)
                    let loop = connection.eventLoop
                    work { ready in loop.execute { box.finish(ready, request) } }
                    return
                }
                guard answer(response, to: request, connection) else { return }
            case .failure(let error):
                respondError(connection, Response.error(error))
                return
            }
        }
    }

    /// Switches the connection to WebSocket, or answers why not.
    private func upgrade(_ request: HTTPRequest, _ streaming: Streaming, _ connection: Connection) {
        switch streaming.upgrade(request, loopIndex: connection.eventLoop.index) {
        case .failure(let error):
            var response = error.response
            response.route = HTTPTelemetry.webSocket
            if error.status == 426 { response.headers.add("Sec-WebSocket-Version", "13") }
            respondError(connection, response)
        case .success(let (head, session)):
            app.telemetry.record(route: HTTPTelemetry.webSocket, status: 101, loop: connection.eventLoop.index,
                                 startNs: requestStartNs)
            closing = true
            connection.setDeadline(afterMs: 0)
            connection.write(head)
            let leftover = parser.takeBufferedBytes()
            connection.replaceHandler(session)
            if !leftover.isEmpty { leftover.withUnsafeBytes { session.connection(connection, didRead: $0) } }
        }
    }

    /// Sends a deferred response once it is ready (on the loop), then goes on with the requests
    /// that arrived meanwhile.
    fileprivate func finishDeferred(_ response: Response, to request: HTTPRequest, _ connection: Connection) {
        awaitingDeferred = false
        requestInProgress = false
        guard !closing, connection.isOpen else { return }
        connection.resumeReading()
        if answer(response, to: request, connection) { process(connection) }
    }

    /// Sends a response and either closes (no keep-alive) or re-arms the request deadline;
    /// false when the connection is closing.
    private func answer(_ response: Response, to request: HTTPRequest, _ connection: Connection) -> Bool {
        let keepAlive = request.keepAlive && !draining
        send(response, to: request, keepAlive: keepAlive, connection)
        if !keepAlive {
            closing = true
            connection.closeAfterFlush()
            return false
        }
        connection.setDeadline(afterMs: parser.bufferedByteCount > 0 ? app.settings.headerTimeoutMs : app.settings.keepAliveIdleMs)
        return true
    }

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Answers a request we cannot continue with (bad input, timeout), then closes.
    private func respondError(_ connection: Connection, _ response: Response) {
        closing = true
        requestInProgress = false
        // Requests that never parsed have no start (nor a request id of their own); a refused
        // upgrade has both.
        let upgrade = response.route == HTTPTelemetry.webSocket
        if !upgrade { RequestId.write(nil, into: &requestId) }
        app.telemetry.record(route: response.route, status: response.status, loop: connection.eventLoop.index,
                             startNs: upgrade ? requestStartNs : 0)
        writeHead(response, contentLength: response.body.count, keepAlive: false, connection: connection)
        connection.write(head: head, body: response.body)
        connection.closeAfterFlush()
        if app.settings.logControl.accessLog {
            app.logger.info("request refused", metadata: [
                "request_id": "\(requestIdText)", "status": "\(response.status)", "bytes": "\(response.body.count)",
                "peer": "\(connection.peerDescription)",
            ])
        }
    }

    private func send(_ response: Response, to request: HTTPRequest, keepAlive: Bool, _ connection: Connection) {
        let bodyless = request.method == .head || response.status == 304 || response.status == 204
            || response.status < 200
        writeHead(response, contentLength: response.body.count, keepAlive: keepAlive,
                  omitLength: response.status == 304 || response.status == 204,
                  http10: request.versionMinor == 0, connection: connection)
        connection.write(head: head, body: bodyless ? [] : response.body)
        app.telemetry.record(route: requestRoute, status: response.status, loop: connection.eventLoop.index,
                             startNs: requestStartNs)
        if app.settings.logControl.accessLog {
            // The path only: a query string may carry what should not be logged.
            app.logger.info("request", metadata: [
                "request_id": "\(requestIdText)", "method": "\(request.method)", "path": "\(request.path)",
                "status": "\(response.status)", "bytes": "\(bodyless ? 0 : response.body.count)",
                "duration_us": "\((dfl_monotonic_ns() - requestStartNs) / 1000)", "peer": "\(connection.peerDescription)",
            ])
        }
    }

    /// The head, written straight into `head`: the handler's fields, then the connection's own
    /// (a handler field of the same name gives way to it).
    private func writeHead(_ response: Response, contentLength: Int, keepAlive: Bool, omitLength: Bool = false,
                           http10: Bool = false, connection: Connection) {
        head.removeAll(keepingCapacity: true)
        HTTPResponseHead.statusLine(response.status, into: &head)
        for field in response.headers where !Self.isConnectionField(field.name) {
            HTTPResponseHead.field(field.name.utf8, field.value.utf8, into: &head)
        }
        HTTPResponseHead.field(Self.serverName, app.serverHeaderBytes, into: &head)
        HTTPResponseHead.field(Self.dateName, app.date(loop: connection.eventLoop.index), into: &head)
        if !requestId.isEmpty { HTTPResponseHead.field(Self.requestIdName, requestId, into: &head) }
        head.append(contentsOf: Self.nosniff)
        if connection.isTLS, let hsts = app.hstsBytes { HTTPResponseHead.field(Self.hstsName, hsts, into: &head) }
        if !omitLength { HTTPResponseHead.field(Self.lengthName, decimal: contentLength, into: &head) }
        if !keepAlive {
            head.append(contentsOf: Self.connectionClose)
        } else if http10 {
            head.append(contentsOf: Self.connectionKeepAlive)
        }
        head.append(13)
        head.append(10)
    }

    private static let serverName = Array("Server".utf8)
    private static let dateName = Array("Date".utf8)
    private static let requestIdName = Array("X-Request-Id".utf8)
    private static let hstsName = Array("Strict-Transport-Security".utf8)
    private static let lengthName = Array("Content-Length".utf8)
    private static let nosniff = Array("X-Content-Type-Options: nosniff\r\n".utf8)
    private static let connectionClose = Array("Connection: close\r\n".utf8)
    private static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)
    private static let connectionFields = ["Server", "Date", "X-Request-Id", "X-Content-Type-Options", "Strict-Transport-Security",
                                           "Content-Length", "Connection"]

    private static let connectionFieldLengths = Set(connectionFields.map(\.utf8.count))

    private static func isConnectionField(_ name: String) -> Bool {
        // Most names differ in length from all seven: no byte compared.
        connectionFieldLengths.contains(name.utf8.count) && connectionFields.contains { HTTPHeaders.caseInsensitiveEqual($0, name) }
    }
}

/// Carries a connection's HTTP handler across threads back to its loop.
private final class DeferredBox: @unchecked Sendable {
    weak var handler: HTTPConnection?
    weak var connection: Connection?
    init(_ handler: HTTPConnection, _ connection: Connection) {
        self.handler = handler
        self.connection = connection
    }
    func finish(_ response: Response, _ request: HTTPRequest) {
        guard let handler, let connection else { return }
        handler.finishDeferred(response, to: request, connection)
    }
}

/// Request ids: the client's own when it is 1–64 characters of `[A-Za-z0-9._:-]` (so a
/// proxy's id carries through), else a process prefix and a counter.
enum RequestId {
    private static let prefix: String = {
        let value = UInt32.random(in: 0x1000_0000...UInt32.max)
        return String(value, radix: 16)
    }()
    private static let counter = Atomic<UInt64>(0)
    private static let prefixBytes = Array((prefix + "-").utf8)
    private static let hex = Array("0123456789abcdef".utf8)

    /// The id into `out` (replacing what it held): no String made per request.
    static func write(_ client: String?, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        if let client, (1...64).contains(client.utf8.count), client.utf8.allSatisfy({ allowed($0) }) {
            out.append(contentsOf: client.utf8)
            return
        }
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        out.append(contentsOf: prefixBytes)
        var shift = 60
        while shift > 0, (n >> UInt64(shift)) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            out.append(hex[Int((n >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    private static func allowed(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x3A || b == 0x2D
    }
}
