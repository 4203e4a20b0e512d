/// Why a connection closed; passed to the handler once.
public enum CloseReason: Sendable, Equatable {
    case requested          // the handler asked
    case peerClosed         // EOF or TLS close_notify from the client
    case ioError(Int32)     // a socket error (errno)
    case tlsError(String)   // a TLS failure after the handshake
    case handshakeFailed(String)
    case handshakeTimeout
    case writeQueueOverflow // the client does not read fast enough (backpressure cap reached)
    case lingerTimeout      // finished a graceful close
    case shutdown           // the server is stopping
}

/// The protocol layer above a connection (HTTP, WebSocket). All calls arrive on the loop thread.
public protocol ConnectionHandler: AnyObject {
    /// The connection is ready for application bytes (after the TLS handshake, when TLS).
    func connectionDidOpen(_ connection: Connection)
    /// Bytes arrived. They live in the loop's shared receive buffer and are only valid during
    /// this call: copy what must outlive it.
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer)
    /// The outbound queue drained after a short write: a good moment to resume reading.
    func connectionDidDrainWrites(_ connection: Connection)
    /// The deadline set with `setDeadline(afterMs:)` passed. The deadline is cleared first.
    func connectionDeadlineExpired(_ connection: Connection)
    /// Graceful shutdown began: finish in-flight work, then close.
    func connectionShouldDrain(_ connection: Connection)
    /// Final call; the connection is gone afterwards.
    func connectionDidClose(_ connection: Connection, reason: CloseReason)
}
