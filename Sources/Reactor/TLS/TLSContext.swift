import COpenSSL

/// TLS settings for a server context.
public struct TLSOptions: Sendable {
    public var certificateChainFile: String
    public var privateKeyFile: String
    /// "1.2" (default) or "1.3".
    public var minimumVersion: String
    public var sessionTickets: Bool

    public init(certificateChainFile: String, privateKeyFile: String, minimumVersion: String = "1.2",
                sessionTickets: Bool = true) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.minimumVersion = minimumVersion
        self.sessionTickets = sessionTickets
    }
}

/// An OpenSSL 3 server context with the project's fixed policy: TLS 1.2 minimum (1.3 preferred
/// by negotiation), ECDHE key exchange with AEAD ciphers only, no compression, no
/// renegotiation, stateless session tickets, ALPN `http/1.1`, and buffers released while idle.
///
/// `SSL_CTX` is safe to share between loop threads once configured (OpenSSL locks its session
/// cache internally), hence `@unchecked Sendable`.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    /// SHA-256 fingerprint of the leaf certificate, "AB:CD:..." (empty for a client context).
    public let fingerprint: String
    /// A client context: connections made with it start the handshake (`EventLoop.connect`).
    let isClient: Bool
    /// Client: check the server's certificate chain and name.
    let verifiesPeer: Bool

    /// TLS 1.2 suites: forward-secret (ECDHE) and AEAD only. TLS 1.3 suites are all AEAD and
    /// keep OpenSSL's default order.
    static let tls12Ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    public init(options: TLSOptions) throws(ReactorError) {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw ReactorError.tls(Self.lastError()) }
        context = ctx
        isClient = false
        verifiesPeer = false
        let minimum = options.minimumVersion == "1.3" ? dfo_tls1_3_version() : dfo_tls1_2_version()
        guard dfo_ctx_set_min_proto(ctx, minimum) == 1 else { throw ReactorError.tls(Self.lastError()) }
        var opts = dfo_server_options()
        if !options.sessionTickets { opts |= dfo_op_no_ticket() }
        SSL_CTX_set_options(ctx, opts)
        _ = dfo_ctx_set_mode(ctx, dfo_mode_release_buffers() | dfo_mode_partial_write())
        // Read what the socket holds in one read(2), not a record header and then its body: one
        // system call per request instead of two (the connection drains what stays buffered).
        dfo_ctx_set_read_ahead(ctx, 1)
        guard SSL_CTX_set_cipher_list(ctx, Self.tls12Ciphers) == 1 else { throw ReactorError.tls(Self.lastError()) }
        guard dfo_ctx_set1_groups_list(ctx, "X25519:P-256:P-384") == 1 else { throw ReactorError.tls(Self.lastError()) }
        _ = dfo_ctx_set_session_cache_mode(ctx, dfo_sess_cache_server())
        _ = SSL_CTX_set_num_tickets(ctx, options.sessionTickets ? 1 : 0)
        dfo_ctx_use_alpn_http11(ctx)

        guard SSL_CTX_use_certificate_chain_file(ctx, options.certificateChainFile) == 1 else {
            throw ReactorError.tls("cannot load certificate \(options.certificateChainFile): \(Self.lastError())")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, options.privateKeyFile, dfo_filetype_pem()) == 1 else {
            throw ReactorError.tls("cannot load private key \(options.privateKeyFile): \(Self.lastError())")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw ReactorError.tls("private key does not match the certificate: \(Self.lastError())")
        }
        guard let leaf = SSL_CTX_get0_certificate(ctx) else { throw ReactorError.tls("no certificate loaded") }
        fingerprint = SelfSignedCertificate.sha256Fingerprint(leaf)
    }

    /// A client context with the same protocol floor and suites as the server: TLS 1.2+, ECDHE +
    /// AEAD, ALPN http/1.1. With `caFile` the server's chain and name are verified against it;
    /// with `verify` and no file, against the system store; without `verify`, not at all
    /// (`--insecure`, load generators against a dev certificate).
    public init(clientVerifying verify: Bool, caFile: String? = nil) throws(ReactorError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw ReactorError.tls(Self.lastError()) }
        context = ctx
        isClient = true
        verifiesPeer = verify
        fingerprint = ""
        guard dfo_ctx_set_min_proto(ctx, dfo_tls1_2_version()) == 1 else { throw ReactorError.tls(Self.lastError()) }
        guard SSL_CTX_set_cipher_list(ctx, Self.tls12Ciphers) == 1 else { throw ReactorError.tls(Self.lastError()) }
        _ = dfo_ctx_set_mode(ctx, dfo_mode_release_buffers() | dfo_mode_partial_write())
        _ = dfo_ctx_set_alpn_http11(ctx)
        if verify {
            let loaded = caFile.map { SSL_CTX_load_verify_locations(ctx, $0, nil) } ?? SSL_CTX_set_default_verify_paths(ctx)
            guard loaded == 1 else { throw ReactorError.tls("cannot load CA certificates \(caFile ?? "(system)"): \(Self.lastError())") }
            SSL_CTX_set_verify(ctx, Int32(SSL_VERIFY_PEER), nil)
        } else {
            SSL_CTX_set_verify(ctx, Int32(SSL_VERIFY_NONE), nil)
        }
    }

    deinit { SSL_CTX_free(context) }

    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { dfo_last_error($0.baseAddress, $0.count) }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "unknown OpenSSL error" : text
    }
}
