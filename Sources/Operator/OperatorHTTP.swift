import Foundation

/// A response as the CLI needs it.
public struct HTTPReply: Sendable {
    public let status: Int
    public let headers: [(String, String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    /// The `error.message` of an error body, else the body text.
    public var errorMessage: String {
        if let object = json as? [String: Any], let error = object["error"] as? [String: Any],
           let message = error["message"] as? String {
            return "\(error["code"] as? String ?? "error"): \(message)"
        }
        return text.isEmpty ? "HTTP \(status)" : String(text.prefix(300))
    }
}

/// HTTP/1.1 requests over one kept-alive `ClientStream` (reconnects when the server closed it).
public final class OperatorHTTP {
    public let endpoint: Endpoint
    private let trust: TrustOptions
    private let timeoutMs: Int
    private var stream: ClientStream?
    private var pending: [UInt8] = []
    /// Sent with every request (e.g. `Authorization`, `X-API-Key`).
    public var defaultHeaders: [(String, String)] = []

    public init(_ endpoint: Endpoint, trust: TrustOptions, timeoutMs: Int = 10_000) {
        self.endpoint = endpoint
        self.trust = trust
        self.timeoutMs = timeoutMs
    }

    public func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [])
        throws(ClientError) -> HTTPReply {
        // One retry on a stale kept-alive connection (the server may close idle ones).
        for attempt in 0..<2 {
            let fresh = stream == nil
            if stream == nil {
                stream = try ClientStream(endpoint, trust: trust, timeoutMs: timeoutMs)
                pending = []
            }
            do {
                return try exchange(method, path, headers, body)
            } catch {
                stream = nil
                if fresh || attempt == 1 { throw error }
            }
        }
        throw ClientError("unreachable")
    }

    public func get(_ path: String) throws(ClientError) -> HTTPReply { try request("GET", path) }

    private func exchange(_ method: String, _ path: String, _ headers: [(String, String)], _ body: [UInt8])
        throws(ClientError) -> HTTPReply {
        guard let stream else { throw ClientError("not connected") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nUser-Agent: dongfeng-cli\r\n"
        for (name, value) in defaultHeaders + headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try stream.write(Array(head.utf8) + body)
        return try readReply(bodyless: method == "HEAD")
    }

    private func fill() throws(ClientError) {
        guard let stream, let bytes = try stream.read() else {
            throw ClientError("\(endpoint) closed the connection")
        }
        pending.append(contentsOf: bytes)
    }

    private func readReply(bodyless: Bool) throws(ClientError) -> HTTPReply {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find(pending, [13, 10, 13, 10])
            if headEnd == nil { try fill() }
        }
        let end = headEnd!
        let headText = String(decoding: pending[0..<end], as: UTF8.self)
        pending.removeFirst(end + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw ClientError("\(endpoint) did not answer HTTP: \(statusLine.prefix(80))")
        }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        func value(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        var body: [UInt8] = []
        if bodyless || status == 204 || status == 304 || status < 200 {
        } else if value("transfer-encoding")?.lowercased().contains("chunked") == true {
            while true {
                var lineEnd = Self.find(pending, [13, 10])
                while lineEnd == nil { try fill(); lineEnd = Self.find(pending, [13, 10]) }
                let sizeText = String(decoding: pending[0..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw ClientError("bad chunked body from \(endpoint)")
                }
                pending.removeFirst(lineEnd! + 2)
                while pending.count < size + 2 { try fill() }
                body.append(contentsOf: pending[0..<size])
                pending.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else if let length = value("content-length").flatMap({ Int($0) }) {
            while pending.count < length { try fill() }
            body = Array(pending[0..<length])
            pending.removeFirst(length)
        } else {
            // Delimited by close.
            while let stream, let more = try stream.read() { pending.append(contentsOf: more) }
            body = pending
            pending = []
            self.stream = nil
        }
        if value("connection")?.lowercased() == "close" { stream = nil }
        return HTTPReply(status: status, headers: headers, body: body)
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] {
                var match = true
                for k in 1..<needle.count where haystack[i + k] != needle[k] { match = false; break }
                if match { return i }
            }
            i += 1
        }
        return nil
    }
}

/// A WebSocket client (RFC 6455) on a `ClientStream`: masked text out, whole messages in.
public final class OperatorWebSocket {
    public enum Message: Sendable {
        case text(String)
        case closed(code: Int?, reason: String)
    }

    private let stream: ClientStream
    private var pending: [UInt8] = []
    private var fragments: [UInt8] = []

    /// Upgrades `path` (with its query) to a WebSocket; throws with the server's answer when refused.
    public init(_ endpoint: Endpoint, path: String, trust: TrustOptions, headers: [(String, String)] = [],
                timeoutMs: Int = 10_000) throws(ClientError) {
        stream = try ClientStream(endpoint, trust: trust, timeoutMs: timeoutMs)
        var key = [UInt8](repeating: 0, count: 16)
        for i in key.indices { key[i] = UInt8.random(in: 0...255) }
        var head = "GET \(path) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: \(Data(key).base64EncodedString())\r\nSec-WebSocket-Version: 13\r\n"
            + "User-Agent: dongfeng-cli\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try stream.write(Array((head + "\r\n").utf8))
        var end: Int?
        while end == nil {
            guard let more = try stream.read() else { throw ClientError("\(endpoint) closed the connection during the upgrade") }
            pending.append(contentsOf: more)
            end = OperatorHTTP.find(pending, [13, 10, 13, 10])
        }
        let headText = String(decoding: pending[0..<end!], as: UTF8.self)
        guard headText.hasPrefix("HTTP/1.1 101") else {
            let body = String(decoding: pending[(end! + 4)...], as: UTF8.self)
            throw ClientError("WebSocket upgrade refused: \(headText.components(separatedBy: "\r\n").first ?? "") \(body.prefix(300))")
        }
        pending.removeFirst(end! + 4)
    }

    public func close() { stream.close() }
    public func shutdown() { stream.shutdown() }

    public func send(text: String) throws(ClientError) {
        try send(opcode: 1, Array(text.utf8))
    }

    private func send(opcode: UInt8, _ payload: [UInt8]) throws(ClientError) {
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        for (i, b) in payload.enumerated() { frame.append(b ^ mask[i & 3]) }
        try stream.write(frame)
    }

    /// The next text message (pings answered, pongs skipped); `.closed` at the end.
    public func next() throws(ClientError) -> Message {
        while true {
            if let (fin, opcode, payload, used) = Self.parse(pending) {
                pending.removeFirst(used)
                switch opcode {
                case 0x9: try send(opcode: 0xA, payload)
                case 0xA: break
                case 0x8:
                    let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil
                    let reason = payload.count > 2 ? String(decoding: payload[2...], as: UTF8.self) : ""
                    try? send(opcode: 0x8, Array(payload.prefix(2)))
                    return .closed(code: code, reason: reason)
                case 0x1, 0x0:
                    fragments.append(contentsOf: payload)
                    if fin {
                        defer { fragments = [] }
                        return .text(String(decoding: fragments, as: UTF8.self))
                    }
                default: break  // binary: not sent by the server
                }
                continue
            }
            guard let more = try stream.read() else { return .closed(code: nil, reason: "connection lost") }
            pending.append(contentsOf: more)
        }
    }

    /// (fin, opcode, payload, bytes used) of the first whole server frame, or nil.
    static func parse(_ bytes: [UInt8]) -> (Bool, UInt8, [UInt8], Int)? {
        guard bytes.count >= 2 else { return nil }
        let fin = bytes[0] & 0x80 != 0
        let opcode = bytes[0] & 0x0F
        var length = Int(bytes[1] & 0x7F)
        var start = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            start = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = 0
            for k in 2..<10 { length = length << 8 | Int(bytes[k]) }
            start = 10
        }
        guard bytes.count >= start + length else { return nil }
        return (fin, opcode, Array(bytes[start..<(start + length)]), start + length)
    }
}
