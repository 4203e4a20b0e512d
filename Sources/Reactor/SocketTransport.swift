import CLinux
import Glibc

/// What one transport call did.
enum TransportIO {
    /// This many bytes moved (a write may be partial).
    case bytes(Int)
    /// Nothing more until the socket is readable (TLS: also for a write, during renegotiation).
    case wantRead
    /// Nothing more until the socket is writable (TLS: also for a read).
    case wantWrite
    /// The peer closed (EOF, TLS close_notify).
    case closed
    /// The connection broke, for this reason.
    case error(CloseReason)
}

enum TransportHandshake { case done, wantRead, wantWrite, failed(String) }

/// How a connection's bytes cross its socket: in the clear or through TLS, in the manner of
/// Redis's `ConnectionType` and uSockets' SSL context. `Connection` drives one without knowing
/// which; the loop sees only readiness and `bufferedBytes` (input a transport holds that epoll
/// will not report). Confined to the connection's loop thread.
protocol SocketTransport: AnyObject {
    var isTLS: Bool { get }
    /// Whether `handshake` must complete before application bytes flow.
    var needsHandshake: Bool { get }
    /// Whether this side speaks first in the handshake.
    var isClient: Bool { get }
    /// Binds the transport to its socket, once connected.
    func attach()
    func handshake() -> TransportHandshake
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO
    /// Writes from the start of `bytes`; `.bytes(n)` may be partial.
    func write(_ bytes: UnsafeRawBufferPointer) -> TransportIO
    /// Writes two buffers with one call (`writev`), or nil when this transport cannot gather.
    func write(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> TransportIO?
    /// Input already received and held by the transport (decrypted TLS records).
    var bufferedBytes: Int { get }
    /// Says this side will send no more (TLS close_notify) while input is still read.
    func closeOutput()
    /// Ends the session: politely (TLS close_notify) unless the socket broke, then frees it.
    func finish(socketBroken: Bool)
}

/// Plain TCP: read, write and writev on the non-blocking socket.
final class PlainTransport: SocketTransport {
    let fd: Int32
    let isClient: Bool
    init(fd: Int32, isClient: Bool) {
        self.fd = fd
        self.isClient = isClient
    }

    var isTLS: Bool { false }
    var needsHandshake: Bool { false }
    var bufferedBytes: Int { 0 }
    func attach() {}
    func handshake() -> TransportHandshake { .done }
    func closeOutput() {}
    func finish(socketBroken: Bool) {}

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportIO {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { return .bytes(n) }
        if n == 0 { return .closed }
        let err = errno
        if err == EAGAIN || err == EWOULDBLOCK || err == EINTR { return .wantRead }
        return .error(.ioError(err))
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportIO {
        while true {
            let n = Glibc.write(fd, bytes.baseAddress, bytes.count)
            if n > 0 { return .bytes(n) }
            let err = errno
            if n < 0 && err == EINTR { continue }
            if n < 0 && (err == EAGAIN || err == EWOULDBLOCK) { return .wantWrite }
            return .error(.ioError(err))
        }
    }

    func write(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> TransportIO? {
        var iov = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress), iov_len: head.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
        )
        let n = withUnsafeMutablePointer(to: &iov) {
            $0.withMemoryRebound(to: iovec.self, capacity: 2) { Glibc.writev(fd, $0, 2) }
        }
        if n >= 0 { return .bytes(n) }
        let err = errno
        if err == EAGAIN || err == EWOULDBLOCK || err == EINTR { return .wantWrite }
        return .error(.ioError(err))
    }
}
