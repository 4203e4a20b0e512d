import CLinux
import Glibc
import Synchronization

/// N event loops, one thread each, sharing listening ports through `SO_REUSEPORT` (the kernel
/// spreads accepted connections over the loops). This is the reactor's public entry point.
public final class EventLoopGroup: @unchecked Sendable {
    public let loops: [EventLoop]
    public let counters = ReactorCounters()
    public let connectionLimit: ConnectionLimit
    /// Open files allowed to the process after raising the limit for `maxConnections` (as
    /// Redis does for maxclients); below `maxConnections` + headroom the caller should warn.
    public let fileLimit: Int
    private var threads: [pthread_t] = []
    private let started = Atomic<Bool>(false)

    public init(loopCount: Int, maxConnections: Int, sweepIntervalMs: Int64 = 250) throws(ReactorError) {
        precondition(loopCount >= 1)
        connectionLimit = ConnectionLimit(maximum: maxConnections)
        // Each connection is one descriptor; keep room for listeners, eventfds, files and logs.
        fileLimit = dfl_raise_nofile_limit(maxConnections + 128)
        var loops: [EventLoop] = []
        for index in 0..<loopCount {
            loops.append(try EventLoop(index: index, counters: counters, sweepIntervalMs: sweepIntervalMs))
        }
        self.loops = loops
    }

    /// Binds `options.host:options.port` once per loop (before `start()`) and returns the bound
    /// port (useful with port 0: the first bind picks it, the others share it).
    public func listen(_ options: ListenerOptions, handler: @escaping ConnectionHandlerFactory) throws(ReactorError) -> Int {
        precondition(!started.load(ordering: .relaxed), "listen before start()")
        var port = options.port
        let reusePort = options.reusePort || loops.count > 1
        for loop in loops {
            var bound: Int32 = 0
            let fd = dfl_listen_tcp(options.host, Int32(port), reusePort ? 1 : 0, Int32(options.backlog), &bound)
            guard fd >= 0 else {
                throw ReactorError.system("listen on \(options.host):\(port)", -fd)
            }
            port = Int(bound)
            var perLoop = options
            perLoop.port = port
            try loop.addListener(Listener(fd: fd, options: perLoop, loop: loop, limit: connectionLimit, makeHandler: handler))
        }
        return port
    }

    /// SIGTERM / SIGINT start a graceful shutdown with `graceMs` to finish in-flight responses;
    /// a second signal stops at once. SIGPIPE is ignored (broken sockets report EPIPE instead).
    public func installSignalHandlers(graceMs: Int64) throws(ReactorError) {
        let fd = try loops[0].makeEventFD { [self] in
            if dfl_shutdown_signal_count() >= 2 { stopNow() } else { beginShutdown(graceMs: graceMs) }
        }
        let rc = dfl_install_shutdown_signals(fd)
        if rc != 0 { throw ReactorError.system("sigaction", -rc) }
    }

    /// Starts one thread per loop.
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops {
            threads.append(Self.spawn { _ = dfl_set_thread_name("df-loop-\(loop.index)"); loop.run() })
        }
    }

    /// Graceful shutdown: every loop stops accepting, lets connections finish (each handler's
    /// `connectionShouldDrain`), and force-closes what remains after `graceMs`. Any thread.
    public func beginShutdown(graceMs: Int64) {
        for loop in loops {
            loop.execute { loop.beginDrain(graceMs: graceMs) }
        }
    }

    /// Stops every loop now, closing connections abruptly. Any thread.
    public func stopNow() {
        for loop in loops { loop.stop() }
    }

    /// Blocks until every loop thread has returned.
    public func waitUntilStopped() {
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    /// Open connections across all loops.
    public var openConnections: Int { counters.openConnections.load(ordering: .relaxed) }

    private final class ThreadBody {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    static func spawn(_ body: @escaping () -> Void) -> pthread_t {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            let body = Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }
}
