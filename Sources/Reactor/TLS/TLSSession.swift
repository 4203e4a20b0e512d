import COpenSSL

/// One connection's OpenSSL state, as its transport. OpenSSL does the socket I/O itself
/// (`SSL_set_fd`) on the non-blocking descriptor; WANT_READ / WANT_WRITE are mapped to epoll
/// interest by `Connection`.
final class TLSSession: SocketTransport {

    private var ssl: OpaquePointer?
    private let fd: Int32
    private(set) var lastError = ""
    private var handshakeDone = false
    private var closeNotifySent = false

    let isClient: Bool
    private let serverName: String?
    private let verifiesPeer: Bool

    init(context: TLSContext, fd: Int32, serverName: String? = nil) {
        self.fd = fd
        ssl = SSL_new(context.context)
        isClient = context.isClient
        verifiesPeer = context.verifiesPeer
        self.serverName = serverName
    }

    deinit { free() }

    var isTLS: Bool { true }
    var needsHandshake: Bool { true }

    func attach() {
        guard let ssl else { return }
        SSL_set_fd(ssl, fd)
        guard isClient else {
            SSL_set_accept_state(ssl)
            return
        }
        SSL_set_connect_state(ssl)
        if let serverName {
            // SNI only for names; the certificate check covers names and IP addresses.
            if !serverName.contains(":") && serverName.contains(where: \.isLetter) { _ = dfo_set_tlsext_host_name(ssl, serverName) }
            if verifiesPeer { _ = dfo_set1_host(ssl, serverName) }
        }
    }

    func handshake() -> TransportHandshake {
        guard let ssl else { return .failed("SSL_new failed") }
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            handshakeDone = true
            return .done
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            let message = TLSContext.lastError()
            lastError = message
            return .failed(message)
        }
    }

    /// Decrypted bytes not yet read, or (read-ahead) received records not yet decrypted: either
    /// way input epoll will not announce again.
    var bufferedBytes: Int {
        guard let ssl else { return 0 }
        let pending = Int(SSL_pending(ssl))
        return pending > 0 ? pending : (SSL_has_pending(ssl) == 1 ? 1 : 0)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO {
        guard let ssl else { return .closed }
        var n = 0
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &n) == 1 { return .bytes(n) }
        return classify(SSL_get_error(ssl, 0))
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportIO {
        guard let ssl else { return .error(.tlsError(lastError)) }
        var n = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &n) == 1 { return .bytes(n) }
        // A peer gone in the middle of a write is a broken connection, not a polite close.
        let io = classify(SSL_get_error(ssl, 0))
        if case .closed = io { return .error(.tlsError(lastError)) }
        return io
    }

    /// TLS cannot gather: the connection copies both into one record instead.
    func write(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> TransportIO? { nil }

    func closeOutput() { sendCloseNotify() }

    func finish(socketBroken: Bool) {
        if !socketBroken { sendCloseNotify() }
        free()
    }

    private func classify(_ code: Int32) -> TransportIO {
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            // EOF without close_notify, or a socket error: either way the peer is gone.
            ERR_clear_error()
            return .closed
        default:
            lastError = TLSContext.lastError()
            return .error(.tlsError(lastError))
        }
    }

    /// Sends close_notify once (best effort, non-blocking).
    func sendCloseNotify() {
        guard let ssl, handshakeDone, !closeNotifySent else { return }
        closeNotifySent = true
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    func free() {
        if let ssl { SSL_free(ssl) }
        ssl = nil
    }
}
