import CLinux
import COpenSSL
import Glibc

/// A failure talking to a server, phrased for the operator.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How the CLI trusts the server: a CA file (`--cacert`, e.g. the dev certificate), the
/// system store, or nothing (`--insecure`).
public struct TrustOptions: Sendable {
    public var caFile: String?
    public var insecure = false
    public init(caFile: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.insecure = insecure
    }
}

/// Where the server is: `https://host:port` (the WebSocket is `wss://` on the same).
public struct Endpoint: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let tls: Bool

    /// Parses `https://host[:port]`, `http://host[:port]` or `host:port` (https).
    public init(url: String) throws(ClientError) {
        var rest = Substring(url)
        var tls = true
        if rest.hasPrefix("https://") { rest = rest.dropFirst(8) }
        else if rest.hasPrefix("http://") { rest = rest.dropFirst(7); tls = false }
        else if rest.contains("://") { throw ClientError("\(url): only https:// (or http://) URLs are supported") }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = rest
        var port = tls ? 443 : 80
        if rest.hasPrefix("[") {  // [ipv6]:port
            guard let close = rest.firstIndex(of: "]") else { throw ClientError("\(url): unclosed [ in the host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw ClientError("\(url): bad port") }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw ClientError("\(url): bad port")
            }
            port = p
        }
        guard !host.isEmpty else { throw ClientError("\(url): no host") }
        self.host = String(host)
        self.port = port
        self.tls = tls
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "https" : "http")://\(h):\(port)"
    }
}

/// One blocking connection (TLS or plain) with a receive timeout: the operator commands make
/// a handful of requests, so a thread that waits is the simplest correct client.
public final class ClientStream {
    private let fd: Int32
    private var ctx: OpaquePointer?
    private var ssl: OpaquePointer?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    public let endpoint: Endpoint

    public init(_ endpoint: Endpoint, trust: TrustOptions, timeoutMs: Int = 10_000) throws(ClientError) {
        self.endpoint = endpoint
        let fd = dfl_connect_tcp(endpoint.host, Int32(endpoint.port))
        guard fd >= 0 else {
            throw ClientError("cannot connect to \(endpoint): \(String(cString: strerror(-fd)))")
        }
        self.fd = fd
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: Int((timeoutMs % 1000) * 1000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = dfl_set_nodelay(fd)
        guard endpoint.tls else { return }
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { Glibc.close(fd); throw ClientError("SSL_CTX_new failed") }
        self.ctx = ctx
        _ = dfo_ctx_set_min_proto(ctx, dfo_tls1_2_version())
        _ = dfo_ctx_set_alpn_http11(ctx)
        if trust.insecure {
            SSL_CTX_set_verify(ctx, Int32(SSL_VERIFY_NONE), nil)
        } else {
            let loaded = trust.caFile.map { SSL_CTX_load_verify_locations(ctx, $0, nil) } ?? SSL_CTX_set_default_verify_paths(ctx)
            guard loaded == 1 else {
                close()
                throw ClientError("cannot load CA certificates from \(trust.caFile ?? "the system store")")
            }
            SSL_CTX_set_verify(ctx, Int32(SSL_VERIFY_PEER), nil)
        }
        guard let ssl = SSL_new(ctx) else { close(); throw ClientError("SSL_new failed") }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        let isIP = endpoint.host.contains(":") || endpoint.host.allSatisfy { $0.isNumber || $0 == "." }
        if !isIP { _ = dfo_set_tlsext_host_name(ssl, endpoint.host) }
        if !trust.insecure {
            if isIP {
                _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), endpoint.host)
            } else {
                _ = dfo_set1_host(ssl, endpoint.host)
            }
        }
        guard SSL_connect(ssl) == 1 else {
            let verify = SSL_get_verify_result(ssl)
            let reason = verify != X509_V_OK ? String(cString: X509_verify_cert_error_string(verify)) : "handshake failed"
            close()
            throw ClientError("TLS with \(endpoint) failed: \(reason)"
                              + (verify != X509_V_OK ? " (trust the server's certificate with --cacert FILE, or --insecure)" : ""))
        }
    }

    deinit { close() }

    private var closed = false
    public func close() {
        guard !closed else { return }
        closed = true
        if let ssl { SSL_free(ssl) }
        if let ctx { SSL_CTX_free(ctx) }
        ssl = nil
        ctx = nil
        Glibc.close(fd)
    }

    /// Ends the connection from another thread (a reader blocked in `read` returns).
    public func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    public func write(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            let n: Int = bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress! + offset
                if let ssl {
                    var written = 0
                    return SSL_write_ex(ssl, base, raw.count - offset, &written) == 1 ? written : -1
                }
                return Glibc.write(fd, base, raw.count - offset)
            }
            guard n > 0 else { throw ClientError("connection to \(endpoint) lost while sending") }
            offset += n
        }
    }

    /// The next bytes; nil at end of stream. Throws on a timeout or error.
    public func read() throws(ClientError) -> ArraySlice<UInt8>? {
        let n: Int = buffer.withUnsafeMutableBytes { raw in
            if let ssl {
                var got = 0
                if SSL_read_ex(ssl, raw.baseAddress, raw.count, &got) == 1 { return got }
                let err = SSL_get_error(ssl, 0)
                return err == SSL_ERROR_ZERO_RETURN ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1)
            }
            let r = Glibc.read(fd, raw.baseAddress, raw.count)
            return r >= 0 ? r : (errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1)
        }
        if n == -2 { throw ClientError("\(endpoint) did not answer in time") }
        if n < 0 { return nil }  // reset or shut down: the end of the stream for the caller
        return n == 0 ? nil : buffer[0..<n]
    }
}
