import CLinux
import COpenSSL
import Glibc

/// A blocking TLS client socket (one thread each): the end-to-end benchmark's tick sender and
/// receiver, where the point is a quiet, precise client rather than many connections.
final class BlockingTLS: @unchecked Sendable {
    private let fd: Int32
    private let ctx: OpaquePointer
    private let ssl: OpaquePointer
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = dfl_connect_tcp("127.0.0.1", Int32(port))
        guard fd >= 0 else { throw LoadError("connect to 127.0.0.1:\(port) failed (errno \(-fd))") }
        guard let c = SSL_CTX_new(TLS_client_method()) else { throw LoadError("SSL_CTX_new failed") }
        ctx = c
        SSL_CTX_set_verify(ctx, Int32(SSL_VERIFY_NONE), nil)
        guard let s = SSL_new(ctx) else { throw LoadError("SSL_new failed") }
        ssl = s
        SSL_set_fd(ssl, fd)
        guard SSL_connect(ssl) == 1 else { throw LoadError("TLS handshake failed") }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(ctx)
        Glibc.close(fd)
    }

    /// Ends the connection under a thread blocked reading it.
    func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    func send(_ bytes: [UInt8]) throws {
        var written = 0
        let ok = bytes.withUnsafeBytes { SSL_write_ex(ssl, $0.baseAddress, $0.count, &written) }
        guard ok == 1, written == bytes.count else { throw LoadError("TLS write failed") }
    }

    /// Appends whatever arrives next to `pending`.
    private func fill() throws {
        var n = 0
        let ok = buffer.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress, $0.count, &n) }
        guard ok == 1, n > 0 else { throw LoadError("connection closed") }
        pending.append(contentsOf: buffer[0..<n])
    }

    /// Reads an HTTP/1.1 response with a Content-Length body; returns (status, body).
    func readResponse() throws -> (Int, [UInt8]) {
        while true {
            if let end = Self.find(pending, [13, 10, 13, 10]) {
                let head = String(decoding: pending[0..<end], as: UTF8.self)
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                var length = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(String(line.dropFirst(15)).trimmed()) ?? 0
                }
                while pending.count < end + 4 + length { try fill() }
                let body = Array(pending[(end + 4)..<(end + 4 + length)])
                pending.removeFirst(end + 4 + length)
                return (status, body)
            }
            try fill()
        }
    }

    /// Upgrades to WebSocket on `path` (no extensions) and returns once the 101 is read.
    func upgrade(path: String) throws {
        try send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        while Self.find(pending, [13, 10, 13, 10]) == nil { try fill() }
        let end = Self.find(pending, [13, 10, 13, 10])!
        guard String(decoding: pending[0..<end], as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw LoadError("upgrade refused: \(String(decoding: pending[0..<end], as: UTF8.self))")
        }
        pending.removeFirst(end + 4)
    }

    /// The next server text message (unmasked, unfragmented frames; control frames skipped).
    func nextMessage() throws -> [UInt8] {
        while true {
            if let (opcode, payload, used) = WSClientFrames.parse(pending) {
                pending.removeFirst(used)
                if opcode == 1 { return payload }
                if opcode == 8 { throw LoadError("server closed the WebSocket") }
                continue
            }
            try fill()
        }
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension String {
    func trimmed() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Server-to-client frame headers (RFC 6455 §5.2; never masked).
enum WSClientFrames {
    /// (opcode, payload, bytes used) of the first whole frame in `bytes`, or nil.
    static func parse(_ bytes: [UInt8]) -> (UInt8, [UInt8], Int)? {
        guard let (opcode, start, length) = header(bytes, from: 0) else { return nil }
        return (opcode, Array(bytes[start..<(start + length)]), start + length)
    }

    /// (opcode, payload start, payload length) when the whole frame at `from` is present.
    @inline(__always)
    static func header(_ bytes: UnsafeRawBufferPointer, from i: Int) -> (UInt8, Int, Int)? {
        let available = bytes.count - i
        guard available >= 2 else { return nil }
        let opcode = bytes[i] & 0x0F
        var length = Int(bytes[i + 1] & 0x7F)
        var start = i + 2
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            start = i + 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            length = 0
            for k in 2..<10 { length = length << 8 | Int(bytes[i + k]) }
            start = i + 10
        }
        guard bytes.count >= start + length else { return nil }
        return (opcode, start, length)
    }

    static func header(_ bytes: [UInt8], from i: Int) -> (UInt8, Int, Int)? {
        bytes.withUnsafeBytes { header($0, from: i) }
    }
}
