import CLinux
import Glibc
import Synchronization

/// What a listening socket does with the connections it accepts.
public struct ListenerOptions: Sendable {
    public var host: String
    public var port: Int
    public var reusePort: Bool
    public var backlog: Int
    /// TLS context for this listener; nil for plain TCP.
    public var tls: TLSContext?
    public var handshakeTimeoutMs: Int64
    /// Per-connection cap on queued outbound bytes (backpressure).
    public var maxWriteQueueBytes: Int
    /// A label for logs and handlers ("https", "http").
    public var name: String

    public init(
        host: String, port: Int, reusePort: Bool = false, backlog: Int = 1024, tls: TLSContext? = nil,
        handshakeTimeoutMs: Int64 = 10_000, maxWriteQueueBytes: Int = 4 << 20, name: String = "https"
    ) {
        self.host = host
        self.port = port
        self.reusePort = reusePort
        self.backlog = backlog
        self.tls = tls
        self.handshakeTimeoutMs = handshakeTimeoutMs
        self.maxWriteQueueBytes = maxWriteQueueBytes
        self.name = name
    }
}

/// Builds the handler for each accepted connection; runs on the loop thread.
public typealias ConnectionHandlerFactory = @Sendable (Connection) -> ConnectionHandler

/// A non-blocking listening socket owned by one loop. Accepts until `EAGAIN` on each wake-up.
final class Listener: EventSource {
    private(set) var fd: Int32
    let options: ListenerOptions
    let makeHandler: ConnectionHandlerFactory
    unowned let loop: EventLoop
    let limit: ConnectionLimit
    var token: UInt64 = 0
    /// A reserved descriptor, released to accept-and-close when the process runs out of file
    /// descriptors (`EMFILE`), so a full table refuses clients instead of spinning on the
    /// level-triggered listening socket (the trick nginx and libuv use).
    private var spareFD: Int32

    init(fd: Int32, options: ListenerOptions, loop: EventLoop, limit: ConnectionLimit,
         makeHandler: @escaping ConnectionHandlerFactory) {
        self.fd = fd
        self.options = options
        self.loop = loop
        self.limit = limit
        self.makeHandler = makeHandler
        self.spareFD = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    func handleEvents(_ mask: UInt32) {
        // Bounded per wake-up so a connection storm cannot starve established connections.
        for _ in 0..<128 {
            var loopback: Int32 = 0
            let client = dfl_accept(fd, nil, 0, &loopback)
            if client < 0 {
                let err = -client
                if err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED { return }
                if err == EMFILE || err == ENFILE { shedOneConnection(); return }
                return
            }
            guard limit.tryAcquire() else {
                ReactorCounters.bump(loop.counters.refusedOverLimit)
                Glibc.close(client)
                continue
            }
            ReactorCounters.bump(loop.counters.acceptedTotal)
            ReactorCounters.bump(loop.counters.openConnections)
            _ = dfl_set_nodelay(client)
            let connection = Connection(fd: client, loop: loop, options: options, isLoopback: loopback != 0,
                                        limit: limit)
            connection.handler = makeHandler(connection)
            loop.adopt(connection)
            connection.start()
        }
    }

    private func shedOneConnection() {
        guard spareFD >= 0 else { return }
        Glibc.close(spareFD)
        let client = dfl_accept(fd, nil, 0, nil)
        if client >= 0 { Glibc.close(client) }
        ReactorCounters.bump(loop.counters.refusedOverLimit)
        spareFD = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    func close() {
        if fd >= 0 {
            _ = dfl_epoll_del(loop.epfd, fd)
            Glibc.close(fd)
            fd = -1
        }
        if spareFD >= 0 {
            Glibc.close(spareFD)
            spareFD = -1
        }
    }
}

/// The configured maximum number of open connections, shared by every loop.
public final class ConnectionLimit: Sendable {
    public let maximum: Int
    private let current = Atomic<Int>(0)

    public init(maximum: Int) { self.maximum = maximum }

    public var count: Int { current.load(ordering: .relaxed) }

    func tryAcquire() -> Bool {
        let after = current.wrappingAdd(1, ordering: .relaxed).newValue
        if after > maximum {
            current.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() { current.wrappingSubtract(1, ordering: .relaxed) }
}
