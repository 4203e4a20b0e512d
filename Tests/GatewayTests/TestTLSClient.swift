import CLinux
import COpenSSL
import Glibc
import XCTest

/// A blocking test client speaking raw bytes over TLS (or plain TCP), so tests control exactly
/// what goes on the wire: split requests, pipelining, oversized heads, slow senders.
final class TestClient {
    private let fd: Int32
    private var ctx: OpaquePointer?
    private var ssl: OpaquePointer?
    private var buffer: [UInt8] = []
    private(set) var negotiatedProtocol = ""

    init(port: Int, tls: Bool = true, maxVersion: Int32 = 0, alpn: [UInt8]? = nil, timeoutSeconds: Int = 10) throws {
        fd = dfl_connect_tcp("127.0.0.1", Int32(port))
        guard fd >= 0 else { throw TestClientError.connect(-fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard tls else { return }
        ctx = SSL_CTX_new(TLS_client_method())
        if maxVersion != 0 { _ = dfo_ctx_set_max_proto(ctx, maxVersion) }
        ssl = SSL_new(ctx)
        SSL_set_fd(ssl, fd)
        _ = dfo_set_tlsext_host_name(ssl, "localhost")
        if let alpn { _ = alpn.withUnsafeBufferPointer { SSL_set_alpn_protos(ssl, $0.baseAddress, UInt32($0.count)) } }
        guard SSL_connect(ssl) == 1 else { close(); throw TestClientError.handshake }
        if let v = SSL_get_version(ssl) { negotiatedProtocol = String(cString: v) }
    }

    deinit { close() }

    func close() {
        if let ssl { SSL_free(ssl) }
        if let ctx { SSL_CTX_free(ctx) }
        ssl = nil
        ctx = nil
        if fd >= 0 { Glibc.close(fd) }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n: Int = bytes[offset...].withUnsafeBytes { chunk in
                if let ssl {
                    var written = 0
                    return SSL_write_ex(ssl, chunk.baseAddress, chunk.count, &written) == 1 ? written : -1
                }
                return Glibc.send(fd, chunk.baseAddress, chunk.count, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw TestClientError.closed }
            offset += n
        }
    }

    /// Reads more bytes; returns false at EOF / error / timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n: Int = chunk.withUnsafeMutableBytes { raw in
            if let ssl {
                var got = 0
                return SSL_read_ex(ssl, raw.baseAddress, raw.count, &got) == 1 ? got : -1
            }
            return Glibc.recv(fd, raw.baseAddress, raw.count, 0)
        }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads one response (Content-Length bodies; no body for HEAD/304/204/1xx when told).
    func readResponse(bodyless: Bool = false) throws -> TestResponse {
        while true {
            if let end = findHeadEnd() {
                let headText = String(decoding: buffer[0..<end], as: UTF8.self)
                var lines = headText.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst()
                let parts = statusLine.split(separator: " ", maxSplits: 2)
                guard parts.count >= 2, let status = Int(parts[1]) else { throw TestClientError.malformed(statusLine) }
                var headers: [(String, String)] = []
                for line in lines where !line.isEmpty {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers.append((String(line[..<colon]),
                                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                }
                let length = bodyless || status == 304 || status == 204 || status < 200
                    ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
                while buffer.count < end + 4 + length {
                    guard fill() else { throw TestClientError.closed }
                }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                return TestResponse(status: status, headers: headers, body: body)
            }
            guard fill() else { throw TestClientError.closed }
        }
    }

    /// Whatever bytes are buffered or arrive next (raw protocols after an upgrade).
    func readRaw() throws -> [UInt8] {
        if buffer.isEmpty { guard fill() else { throw TestClientError.closed } }
        defer { buffer.removeAll() }
        return buffer
    }

    /// True when the server closed the connection (EOF) within the receive timeout.
    func waitForClose() -> Bool {
        while fill() {}
        return true
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

struct TestResponse {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
}

enum TestClientError: Error {
    case connect(Int32)
    case handshake
    case closed
    case malformed(String)
}
