import CLinux
import Glibc

/// Result of a write: uSockets' SUCCESS / BACKPRESSURE / DROPPED, plus "already closed".
public enum WriteResult: Sendable, Equatable {
    /// Everything went to the kernel.
    case written
    /// Part of it is queued; EPOLLOUT is armed and the queue drains as the client reads.
    case queued
    /// The per-connection queue cap would be exceeded: the connection is being closed.
    case overflow
    /// The connection is closed or closing; nothing was written.
    case closed
}

/// One accepted TCP connection, plain or TLS, confined to its loop's thread.
///
/// The write path writes straight to the socket and queues only what the kernel did not take,
/// asking for EPOLLOUT only after such a short write. Reads land in the loop's shared buffer.
/// `close` is deferred to the end of the loop iteration, so a connection is never freed while
/// its events are being dispatched.
public final class Connection: EventSource {
    enum State { case connecting, handshaking, open, lingering, closed }

    public let fd: Int32
    unowned let loop: EventLoop
    /// True when the peer address is 127.0.0.0/8 or ::1.
    public let isLoopback: Bool

    /// The client's address as "ip:port" (read from the socket when asked: access log only).
    public var peerDescription: String {
        var buffer = [CChar](repeating: 0, count: 64)
        guard dfl_peer_name(fd, &buffer, buffer.count) == 0 else { return "-" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    /// The listener's label ("https", "http").
    public let listenerName: String
    public var isTLS: Bool { transport.isTLS }
    var handler: ConnectionHandler?
    /// Plain TCP or TLS: the only place the difference lives.
    private let transport: SocketTransport
    private let limit: ConnectionLimit
    private var maxWriteQueueBytes: Int
    private let handshakeTimeoutMs: Int64

    var state: State = .handshaking
    var token: UInt64 = 0
    var listIndex = -1
    /// Queued in the loop's list of connections whose transport holds input epoll will not report.
    var inBufferedList = false
    private var registeredInterest: UInt32 = 0
    private var readingPaused = false
    /// The transport (TLS) needs the other readiness to go on: a write waiting for input, a read
    /// waiting for the socket to take output.
    private var writeWantsRead = false
    private var readWantsWrite = false
    private var closeWhenFlushed = false

    private var outbound: [UInt8] = []
    private var outboundStart = 0
    /// Monotonic ms at which `connectionDeadlineExpired` fires; 0 = none.
    public internal(set) var deadline: Int64 = 0

    init(fd: Int32, loop: EventLoop, options: ListenerOptions, isLoopback: Bool, limit: ConnectionLimit,
         connecting: Bool = false, serverName: String? = nil) {
        self.fd = fd
        self.loop = loop
        self.isLoopback = isLoopback
        self.listenerName = options.name
        self.limit = limit
        self.maxWriteQueueBytes = options.maxWriteQueueBytes
        self.handshakeTimeoutMs = options.handshakeTimeoutMs
        if let context = options.tls {
            transport = TLSSession(context: context, fd: fd, serverName: serverName)
        } else {
            transport = PlainTransport(fd: fd, isClient: connecting)
        }
        if connecting {
            state = .connecting
            deadline = loop.now + handshakeTimeoutMs
        }
        registeredInterest = interest
    }

    /// Bytes queued and not yet accepted by the kernel.
    public var queuedBytes: Int { outbound.count - outboundStart }
    public var isOpen: Bool { state == .open }
    /// The loop's current coarse monotonic time in ms.
    public var now: Int64 { loop.now }
    /// The loop this connection lives on.
    public var eventLoop: EventLoop { loop }

    var interest: UInt32 {
        var mask: UInt32 = 0
        if state == .closed { return 0 }
        if state == .connecting { return DFL_EPOLLOUT }
        if !readingPaused || state != .open || writeWantsRead { mask |= DFL_EPOLLIN | DFL_EPOLLRDHUP }
        if queuedBytes > 0 || readWantsWrite { mask |= DFL_EPOLLOUT }
        return mask
    }

    private func refreshInterest() {
        let wanted = interest
        guard wanted != registeredInterest, state != .closed else { return }
        registeredInterest = wanted
        loop.updateInterest(self)
    }

    func start() {
        guard state != .connecting else { return }  // started when the connect completes
        transport.attach()
        if transport.needsHandshake {
            state = .handshaking
            deadline = loop.now + handshakeTimeoutMs
            if transport.isClient { continueHandshake() }  // the client speaks first
        } else {
            state = .open
            deadline = 0
            handler?.connectionDidOpen(self)
        }
    }

    // MARK: - Public controls

    /// Sets the deadline `afterMs` from now (0 clears it). Swept at the loop's sweep interval.
    public func setDeadline(afterMs: Int64) {
        loop.assertInLoop()
        deadline = afterMs > 0 ? loop.now + afterMs : 0
    }

    /// Changes this connection's cap on queued outbound bytes (a protocol with larger messages).
    public func setWriteQueueLimit(_ bytes: Int) {
        loop.assertInLoop()
        maxWriteQueueBytes = bytes
    }

    /// Hands the connection to another protocol handler (HTTP → WebSocket after an upgrade).
    /// The new handler's `connectionDidOpen` is called at once.
    public func replaceHandler(_ handler: ConnectionHandler) {
        loop.assertInLoop()
        self.handler = handler
        handler.connectionDidOpen(self)
    }

    /// Stops asking epoll for input (backpressure on a client that sends faster than it reads).
    public func pauseReading() {
        loop.assertInLoop()
        guard !readingPaused else { return }
        readingPaused = true
        refreshInterest()
    }

    public func resumeReading() {
        loop.assertInLoop()
        guard readingPaused else { return }
        readingPaused = false
        refreshInterest()
        if transport.bufferedBytes > 0 { loop.markBuffered(self) }
    }

    /// Closes once the queue has drained, with a lingering close so the client reads the last
    /// response before the socket goes away (closing with unread input would send RST).
    public func closeAfterFlush() {
        loop.assertInLoop()
        guard state == .open else {
            if state == .handshaking || state == .connecting { close(reason: .requested) }
            return
        }
        closeWhenFlushed = true
        if queuedBytes == 0 { beginLinger() }
    }

    /// Closes at the end of this loop iteration.
    public func close(reason: CloseReason = .requested) {
        loop.assertInLoop()
        guard state != .closed else { return }
        state = .closed
        pendingCloseReason = reason
        loop.deferClose(self)
    }
    private var pendingCloseReason: CloseReason = .requested

    // MARK: - Writing

    /// Writes bytes: straight to the socket, queueing only the remainder.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> WriteResult {
        loop.assertInLoop()
        guard state == .open, !closeWhenFlushed else { return .closed }
        if bytes.isEmpty { return queuedBytes == 0 ? .written : .queued }
        if queuedBytes > 0 { return enqueue(bytes) }
        let written = rawWrite(bytes)
        if written < 0 { return .closed }
        if written == bytes.count { return .written }
        return enqueue(UnsafeRawBufferPointer(rebasing: bytes[written...]))
    }

    @discardableResult
    public func write(_ bytes: [UInt8]) -> WriteResult {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Writes a head and a body in one go: gathered (`writev`) when the transport can, else as
    /// one write through the loop's cork buffer when they fit together (one TLS record).
    @discardableResult
    public func write(head: [UInt8], body: [UInt8]) -> WriteResult {
        loop.assertInLoop()
        if body.isEmpty { return write(head) }
        guard state == .open, !closeWhenFlushed else { return .closed }
        if queuedBytes > 0 {
            let r = head.withUnsafeBytes { enqueue($0) }
            if r == .overflow { return r }
            return body.withUnsafeBytes { enqueue($0) }
        }
        let gathered = head.withUnsafeBytes { h in body.withUnsafeBytes { b in transport.write(h, b) } }
        if let gathered {
            let written: Int
            switch gathered {
            case .bytes(let n): written = n
            case .error(let reason):
                close(reason: reason)
                return .closed
            default: written = 0
            }
            if written == head.count + body.count { return .written }
            if written < head.count {
                let r = head.withUnsafeBytes { enqueue(UnsafeRawBufferPointer(rebasing: $0[written...])) }
                return r == .overflow ? r : body.withUnsafeBytes { enqueue($0) }
            }
            return body.withUnsafeBytes { enqueue(UnsafeRawBufferPointer(rebasing: $0[(written - head.count)...])) }
        }
        let total = head.count + body.count
        guard total <= EventLoop.corkBufferSize else {
            let r = write(head)
            if r == .overflow || r == .closed { return r }
            return write(body)
        }
        let cork = loop.corkBuffer
        head.withUnsafeBytes { cork.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        body.withUnsafeBytes { (cork.baseAddress! + head.count).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return write(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(cork)[0..<total]))
    }

    private func enqueue(_ bytes: UnsafeRawBufferPointer) -> WriteResult {
        if queuedBytes + bytes.count > maxWriteQueueBytes {
            ReactorCounters.bump(loop.counters.writeQueueOverflows)
            close(reason: .writeQueueOverflow)
            return .overflow
        }
        if outboundStart > 0 && outboundStart >= outbound.count / 2 {
            outbound.removeFirst(outboundStart)
            outboundStart = 0
        }
        outbound.append(contentsOf: bytes)
        refreshInterest()
        return .queued
    }

    /// Writes as much as the kernel takes. Returns bytes written, or -1 when the connection broke.
    private func rawWrite(_ bytes: UnsafeRawBufferPointer) -> Int {
        var total = 0
        while total < bytes.count {
            switch transport.write(UnsafeRawBufferPointer(rebasing: bytes[total...])) {
            case .bytes(let n): total += n
            case .wantWrite: return total
            case .wantRead:
                writeWantsRead = true
                return total
            case .closed:
                close(reason: .peerClosed)
                return -1
            case .error(let reason):
                close(reason: reason)
                return -1
            }
        }
        return total
    }

    private func flush() {
        guard queuedBytes > 0 else { return }
        let written = outbound.withUnsafeBytes { all in
            rawWrite(UnsafeRawBufferPointer(rebasing: all[outboundStart...]))
        }
        guard written >= 0 else { return }
        outboundStart += written
        if queuedBytes == 0 {
            // Keep a small buffer for the next short write; give big ones back (idle memory).
            if outbound.capacity > 64 * 1024 { outbound = [] } else { outbound.removeAll(keepingCapacity: true) }
            outboundStart = 0
            refreshInterest()
            if closeWhenFlushed {
                beginLinger()
            } else {
                handler?.connectionDidDrainWrites(self)
            }
        }
    }

    // MARK: - Events

    func handleEvents(_ mask: UInt32) {
        guard state != .closed else { return }
        if state == .connecting {
            let err = dfl_socket_error(fd)
            guard err == 0 else {
                close(reason: .ioError(err))
                return
            }
            state = .handshaking  // leaves .connecting so start() runs
            start()
            refreshInterest()
            return
        }
        if state == .handshaking {
            if mask & (DFL_EPOLLERR | DFL_EPOLLHUP) != 0 && mask & DFL_EPOLLIN == 0 {
                ReactorCounters.bump(loop.counters.tlsHandshakeFailures)
                close(reason: .handshakeFailed("connection reset during handshake"))
                return
            }
            continueHandshake()
            return
        }
        if mask & DFL_EPOLLOUT != 0 {
            if readWantsWrite {
                readWantsWrite = false
                refreshInterest()
                readable()
            }
            flush()
        }
        if mask & (DFL_EPOLLIN | DFL_EPOLLRDHUP | DFL_EPOLLHUP | DFL_EPOLLERR) != 0 && state != .closed {
            if writeWantsRead {
                writeWantsRead = false
                flush()
            }
            readable()
        }
    }

    private func continueHandshake() {
        switch transport.handshake() {
        case .done:
            ReactorCounters.bump(loop.counters.tlsHandshakes)
            state = .open
            deadline = 0
            refreshInterest()
            handler?.connectionDidOpen(self)
            if state == .open { readable() }
        case .wantRead:
            readWantsWrite = false
            refreshInterest()
        case .wantWrite:
            readWantsWrite = true
            refreshInterest()
        case .failed(let message):
            ReactorCounters.bump(loop.counters.tlsHandshakeFailures)
            close(reason: .handshakeFailed(message))
        }
    }

    /// Reads what the transport holds (the loop calls this for connections marked buffered).
    func serveBuffered() {
        guard state == .open || state == .lingering, !readingPaused || state == .lingering else { return }
        readable()
    }

    private func readable() {
        guard state == .open || state == .lingering else { return }
        if state == .open && readingPaused { return }
        let buffer = loop.readBuffer
        switch transport.read(into: buffer) {
        case .bytes(let n):
            deliver(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<n]))
            if state != .closed && transport.bufferedBytes > 0 { loop.markBuffered(self) }
        case .wantRead:
            break
        case .wantWrite:
            readWantsWrite = true
            refreshInterest()
        case .closed:
            peerClosed()
        case .error(let reason):
            close(reason: state == .lingering ? .lingerTimeout : reason)
        }
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer) {
        if state == .lingering { return }  // discarding input until the client closes
        handler?.connection(self, didRead: bytes)
    }

    private func peerClosed() {
        if state == .lingering || queuedBytes == 0 {
            close(reason: .peerClosed)
        } else {
            // Half-close from the client: finish sending what is queued, then close.
            readingPaused = true
            closeWhenFlushed = true
            refreshInterest()
        }
    }

    /// Half-closes our side (TLS close_notify + FIN) and discards input for up to 2 s.
    private func beginLinger() {
        guard state == .open else { return }
        state = .lingering
        transport.closeOutput()
        Glibc.shutdown(fd, Int32(SHUT_WR))
        readingPaused = false
        deadline = loop.now + 2_000
        refreshInterest()
    }

    func drain() {
        switch state {
        case .connecting, .handshaking: close(reason: .shutdown)
        case .open: handler?.connectionShouldDrain(self)
        case .lingering, .closed: break
        }
    }

    func deadlineExpired() {
        deadline = 0
        switch state {
        case .connecting:
            close(reason: .ioError(ETIMEDOUT))
        case .handshaking:
            ReactorCounters.bump(loop.counters.tlsHandshakeTimeouts)
            close(reason: .handshakeTimeout)
        case .lingering:
            close(reason: .lingerTimeout)
        case .open:
            handler?.connectionDeadlineExpired(self)
        case .closed:
            break
        }
    }

    /// Called by the loop after the iteration in which `close` was requested.
    func finishClose() {
        _ = dfl_epoll_del(loop.epfd, fd)
        if case .ioError = pendingCloseReason { transport.finish(socketBroken: true) } else { transport.finish(socketBroken: false) }
        Glibc.close(fd)
        limit.release()
        ReactorCounters.bump(loop.counters.openConnections, by: -1)
        let handler = self.handler
        self.handler = nil
        outbound = []
        handler?.connectionDidClose(self, reason: pendingCloseReason)
    }
}
