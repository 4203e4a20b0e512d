import Locks
import CLinux
import Glibc
import Synchronization

/// Something registered with an event loop's epoll set.
protocol EventSource: AnyObject {
    func handleEvents(_ mask: UInt32)
}

/// One epoll reactor on one thread, in the manner of Redis's `ae.c`.
///
/// Everything except `execute(_:)` and `Wakeup.signal()` is confined to the loop's
/// own thread: `run` records that thread and debug builds assert it on every loop-only entry
/// point (as NIO's `assertInEventLoop`); before `run`, setup from the starting thread is allowed.
/// The loop sleeps in `epoll_wait` with an infinite timeout when it has nothing to time out, so
/// an idle server uses no CPU. Each iteration: dispatch ready events, serve connections whose
/// transport still holds input (decrypted TLS records do not wake epoll), run hand-offs from
/// other threads, free connections closed during the iteration (deferred close: never while
/// their events are being dispatched), and, at most every `sweepIntervalMs`, sweep connection
/// deadlines (O(1) per connection). The loop knows readiness only; plain or TLS is the
/// connection's transport's business.
public final class EventLoop: @unchecked Sendable {
    public let index: Int
    let epfd: Int32
    private let wakeFD: Int32
    /// Other threads' way to wake the loop, writing `wakeFD` only while the loop sleeps.
    private let waker: Waker
    /// Hand-offs from other threads; `finished` once the loop has run its last ones.
    private let tasks = PThreadLocked<(queue: [@Sendable () -> Void], finished: Bool)>(([], false))
    private let hasTasks = Atomic<Bool>(false)

    // Registrations are addressed by slot index + generation so a stale event for a freed slot
    // (closed earlier in the same batch, slot reused) is recognised and ignored.
    private var sources: [EventSource?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []

    private(set) var connections: [Connection] = []
    private var pendingClose: [Connection] = []
    /// Connections whose transport holds input epoll will not report.
    private var buffered: [Connection] = []
    /// The wake-ups of `makeWakeup`, with their handlers.
    private var wakeups: [(wakeup: Wakeup, handler: () -> Void)] = []
    /// The eventfds of `makeEventFD`, closed with the loop.
    private var eventFDs: [Int32] = []
    /// The thread running `run` (0 before and after): what loop-only entry points assert.
    private let thread = Atomic<UInt>(0)
    private var listeners: [Listener] = []

    /// One receive buffer per loop, shared by every connection (uSockets' design): a connection
    /// holds bytes only when its codec needs them beyond one read.
    let readBuffer: UnsafeMutableRawBufferPointer
    static let readBufferSize = 64 * 1024
    /// One cork buffer per loop: a response head and body copied together for a transport that
    /// cannot gather them (one TLS record instead of two).
    let corkBuffer: UnsafeMutableRawBufferPointer
    static let corkBufferSize = 16 * 1024

    private var datas = [UInt64](repeating: 0, count: 512)
    private var masks = [UInt32](repeating: 0, count: 512)

    let counters: ReactorCounters
    let sweepIntervalMs: Int64
    private var nextSweep: Int64 = 0
    private var stopRequested = false
    private var draining = false
    private var drainDeadline: Int64 = 0
    private var onStopped: [() -> Void] = []
    private var timers: [(deadline: Int64, action: () -> Void)] = []

    /// Milliseconds on the coarse monotonic clock as of the current iteration.
    public private(set) var now: Int64 = dfl_monotonic_ms()

    init(index: Int, counters: ReactorCounters, sweepIntervalMs: Int64 = 250) throws(ReactorError) {
        self.index = index
        self.counters = counters
        self.sweepIntervalMs = sweepIntervalMs
        let ep = dfl_epoll_create()
        guard ep >= 0 else { throw ReactorError.system("epoll_create1", -ep) }
        let ev = dfl_eventfd()
        guard ev >= 0 else { Glibc.close(ep); throw ReactorError.system("eventfd", -ev) }
        epfd = ep
        wakeFD = ev
        waker = Waker(fd: ev)
        let added = dfl_epoll_add(ep, ev, DFL_EPOLLIN, UInt64.max)
        guard added == 0 else {
            Glibc.close(ev)
            Glibc.close(ep)
            throw ReactorError.system("epoll_ctl", -added)
        }
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        corkBuffer = .allocate(byteCount: Self.corkBufferSize, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
        corkBuffer.deallocate()
        for fd in eventFDs { Glibc.close(fd) }
        Glibc.close(wakeFD)
        Glibc.close(epfd)
    }

    // MARK: - Confinement

    /// Whether the caller may touch loop-only state: on the loop's thread while it runs, or any
    /// single thread setting the loop up before `run` (and tearing down after).
    public var isLoopThreadOrIdle: Bool {
        let owner = thread.load(ordering: .acquiring)
        return owner == 0 || pthread_equal(pthread_t(owner), pthread_self()) != 0
    }

    /// Traps in debug builds when called off the loop thread of a running loop; free in release.
    @inline(__always)
    public func assertInLoop(_ function: StaticString = #function) {
        assert(isLoopThreadOrIdle, "EventLoop \(index): \(function) called off the loop thread")
    }

    // MARK: - Cross-thread hand-off

    /// Runs `task` on the loop thread at its next iteration. Safe from any thread.
    /// A task handed over after the loop ran its last ones is released at once (never run on
    /// another thread, never kept): the caller's captures are freed.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let accepted = tasks.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.queue.append(task)
            return true
        }
        guard accepted else { return }
        hasTasks.store(true, ordering: .sequentiallyConsistent)
        waker.nudge()
    }

    /// A way for other threads to wake this loop with work waiting (a pipeline ring's
    /// doorbell): `signal()` from any thread runs `handler` on the loop thread, once per burst
    /// of signals. Call before `run` or on the loop thread.
    public func makeWakeup(_ handler: @escaping () -> Void) throws(ReactorError) -> Wakeup {
        assertInLoop()
        let wakeup = Wakeup(waker: waker)
        wakeups.append((wakeup, handler))
        return wakeup
    }

    /// An eventfd of its own whose writes run `handler` on the loop thread (once per burst): for
    /// a writer that cannot take a `Wakeup`, such as a signal handler. Closed with the loop.
    /// Call before `run` or on the loop thread.
    public func makeEventFD(_ handler: @escaping () -> Void) throws(ReactorError) -> Int32 {
        assertInLoop()
        let fd = dfl_eventfd()
        guard fd >= 0 else { throw ReactorError.system("eventfd", -fd) }
        do {
            try watch(fd: fd) {
                _ = dfl_eventfd_drain(fd)
                handler()
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        eventFDs.append(fd)
        return fd
    }

    /// Runs the handler of every wake-up signalled since it last ran.
    private func runWakeups() {
        for (wakeup, handler) in wakeups where wakeup.pending.load(ordering: .relaxed) {
            // Before the handler looks for work: a signal from here on counts again.
            wakeup.pending.store(false, ordering: .sequentiallyConsistent)
            handler()
        }
    }

    /// Watches another file descriptor (a signal fd...) for readability; `handler` runs on the
    /// loop thread. Call before `run` or on the loop thread.
    public func watch(fd: Int32, _ handler: @escaping () -> Void) throws(ReactorError) {
        assertInLoop()
        let watcher = FDWatcher(fd: fd, handler: handler)
        let token = register(watcher)
        let rc = dfl_epoll_add(epfd, fd, DFL_EPOLLIN, token)
        guard rc == 0 else {
            unregister(token: token)
            throw ReactorError.system("epoll_ctl", -rc)
        }
    }

    /// Runs `action` on the loop thread once `afterMs` milliseconds have passed (coarse: at
    /// the next sweep after the deadline). Call on the loop thread.
    public func schedule(afterMs: Int64, _ action: @escaping () -> Void) {
        assertInLoop()
        timers.append((dfl_monotonic_ms() + afterMs, action))
    }

    // MARK: - Registration

    func register(_ source: EventSource) -> UInt64 {
        assertInLoop()
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            sources[slot] = source
        } else {
            slot = sources.count
            sources.append(source)
            generations.append(0)
        }
        return UInt64(generations[slot]) << 32 | UInt64(slot)
    }

    func unregister(token: UInt64) {
        assertInLoop()
        let slot = Int(token & 0xffff_ffff)
        guard slot < sources.count, generations[slot] == UInt32(token >> 32) else { return }
        sources[slot] = nil
        generations[slot] &+= 1
        freeSlots.append(slot)
    }

    func addListener(_ listener: Listener) throws(ReactorError) {
        listener.token = register(listener)
        let rc = dfl_epoll_add(epfd, listener.fd, DFL_EPOLLIN, listener.token)
        guard rc == 0 else {
            unregister(token: listener.token)
            throw ReactorError.system("epoll_ctl", -rc)
        }
        listeners.append(listener)
    }

    /// Takes a new connection into the epoll set; one epoll refuses (out of memory, the
    /// `max_user_watches` limit) is closed at once, counted as an I/O error.
    func adopt(_ connection: Connection) {
        connection.token = register(connection)
        connection.listIndex = connections.count
        connections.append(connection)
        let rc = dfl_epoll_add(epfd, connection.fd, connection.interest, connection.token)
        if rc != 0 { connection.close(reason: .ioError(-rc)) }
    }

    /// Opens an outbound connection (a client of another server: load generators, operator
    /// tools, Redis). The connect and, with `tls` (a client context), the handshake run on this
    /// loop without blocking it; `handler.connectionDidOpen` is called once both are done, and
    /// `connectionDidClose` if either fails or takes longer than `timeoutMs`. Call on the loop
    /// thread. Numeric hosts never block; a name is resolved with getaddrinfo first.
    @discardableResult
    public func connect(host: String, port: Int, tls: TLSContext? = nil, serverName: String? = nil,
                        maxWriteQueueBytes: Int = 4 << 20, timeoutMs: Int64 = 10_000,
                        handler: ConnectionHandler) throws(ReactorError) -> Connection {
        assertInLoop()
        let fd = dfl_connect_tcp_nonblocking(host, Int32(port))
        guard fd >= 0 else { throw ReactorError.system("connect to \(host):\(port)", -fd) }
        _ = outboundLimit.tryAcquire()
        var options = ListenerOptions(host: host, port: port, tls: tls, name: "client")
        options.maxWriteQueueBytes = maxWriteQueueBytes
        options.handshakeTimeoutMs = timeoutMs
        ReactorCounters.bump(counters.openConnections)
        let connection = Connection(fd: fd, loop: self, options: options, isLoopback: host == "127.0.0.1" || host == "::1",
                                    limit: outboundLimit, connecting: true, serverName: serverName ?? host)
        connection.handler = handler
        adopt(connection)
        return connection
    }

    /// Outbound connections are not counted against the listeners' limit.
    private let outboundLimit = ConnectionLimit(maximum: Int.max)

    /// A connection whose interest cannot be changed would wait for events it no longer gets
    /// (or spin on ones it does not want): it is closed.
    func updateInterest(_ connection: Connection) {
        assertInLoop()
        let rc = dfl_epoll_mod(epfd, connection.fd, connection.interest, connection.token)
        if rc != 0 { connection.close(reason: .ioError(-rc)) }
    }

    /// Queues a connection whose transport still holds input: served before sleeping.
    func markBuffered(_ connection: Connection) {
        assertInLoop()
        guard !connection.inBufferedList else { return }
        connection.inBufferedList = true
        buffered.append(connection)
    }

    func deferClose(_ connection: Connection) {
        assertInLoop()
        pendingClose.append(connection)
    }

    // MARK: - Running

    /// Runs until `stop()` or until a drain (graceful shutdown) has closed every connection.
    func run() {
        thread.store(UInt(pthread_self()), ordering: .releasing)
        defer { thread.store(0, ordering: .releasing) }
        now = dfl_monotonic_ms()
        nextSweep = now + sweepIntervalMs
        while !stopRequested {
            var timeout = computeTimeout()
            if timeout != 0 {
                // From here other threads write the eventfd (`Waker`); work they handed over
                // before they could see this is found by the look after it.
                waker.sleeping.store(true, ordering: .sequentiallyConsistent)
                if hasTasks.load(ordering: .sequentiallyConsistent)
                    || wakeups.contains(where: { $0.wakeup.pending.load(ordering: .sequentiallyConsistent) }) {
                    timeout = 0
                }
            }
            let n = datas.withUnsafeMutableBufferPointer { d in
                masks.withUnsafeMutableBufferPointer { m in
                    dfl_epoll_wait(epfd, d.baseAddress, m.baseAddress, Int32(d.count), timeout)
                }
            }
            waker.sleeping.store(false, ordering: .sequentiallyConsistent)
            now = dfl_monotonic_ms()
            if n > 0 {
                for i in 0..<Int(n) { dispatch(token: datas[i], mask: masks[i]) }
            }
            runWakeups()
            serveBuffered()
            if hasTasks.load(ordering: .acquiring) { runTasks() }
            closeDeferred()
            if now >= nextSweep { sweep() }
            if draining && (connections.isEmpty || now >= drainDeadline) {
                for connection in connections { connection.close(reason: .shutdown) }
                closeDeferred()
                if connections.isEmpty { break }
            }
        }
        for listener in listeners { listener.close() }
        listeners.removeAll()
        finishTasks()
        let callbacks = onStopped
        onStopped.removeAll()
        for callback in callbacks { callback() }
    }

    private func computeTimeout() -> Int32 {
        if !buffered.isEmpty || hasTasks.load(ordering: .relaxed) || !pendingClose.isEmpty { return 0 }
        if connections.isEmpty && timers.isEmpty && !draining { return -1 }
        return Int32(max(0, min(nextSweep - dfl_monotonic_ms(), sweepIntervalMs)))
    }

    private func dispatch(token: UInt64, mask: UInt32) {
        if token == UInt64.max {
            _ = dfl_eventfd_drain(wakeFD)
            return
        }
        let slot = Int(token & 0xffff_ffff)
        guard slot < sources.count, generations[slot] == UInt32(token >> 32),
              let source = sources[slot] else { return }
        source.handleEvents(mask)
    }

    private func serveBuffered() {
        // Bounded rounds: a connection whose handler keeps data pending is served again next
        // iteration, after epoll had a chance to report other sockets.
        guard !buffered.isEmpty else { return }
        let batch = buffered
        buffered.removeAll(keepingCapacity: true)
        for connection in batch {
            connection.inBufferedList = false
            connection.serveBuffered()
        }
    }

    private func runTasks() {
        hasTasks.store(false, ordering: .relaxed)
        let batch = tasks.withLock { state -> [@Sendable () -> Void] in
            let taken = state.queue
            state.queue.removeAll(keepingCapacity: true)
            return taken
        }
        for task in batch { task() }
    }

    /// At stop, on the loop thread: runs every task handed over before the loop closed its
    /// queue (a task may queue more: those run too), then refuses later ones (`execute`).
    private func finishTasks() {
        while true {
            let batch = tasks.withLock { state -> [@Sendable () -> Void] in
                let taken = state.queue
                state.queue.removeAll()
                if taken.isEmpty { state.finished = true }
                return taken
            }
            if batch.isEmpty { break }
            for task in batch { task() }
            closeDeferred()
        }
        hasTasks.store(false, ordering: .relaxed)
    }

    private func closeDeferred() {
        while let connection = pendingClose.popLast() {
            connection.finishClose()
            // O(1) removal from the connection list: move the last one into the hole.
            let i = connection.listIndex
            if i >= 0, i < connections.count, connections[i] === connection {
                let last = connections.removeLast()
                if i < connections.count {
                    connections[i] = last
                    last.listIndex = i
                }
            }
            connection.listIndex = -1
            unregister(token: connection.token)
        }
    }

    private func sweep() {
        nextSweep = now + sweepIntervalMs
        for connection in connections where connection.deadline != 0 && connection.deadline <= now {
            connection.deadlineExpired()
        }
        if !timers.isEmpty {
            var due: [() -> Void] = []
            timers.removeAll { timer in
                if timer.deadline <= now { due.append(timer.action); return true }
                return false
            }
            for action in due { action() }
        }
        closeDeferred()
    }

    // MARK: - Shutdown

    /// Graceful shutdown on the loop thread: stop accepting, ask every connection to finish what
    /// it is doing, and close whatever is left at the deadline.
    func beginDrain(graceMs: Int64) {
        assertInLoop()
        guard !draining else { return }
        draining = true
        drainDeadline = dfl_monotonic_ms() + graceMs
        for listener in listeners {
            unregister(token: listener.token)
            listener.close()
        }
        listeners.removeAll()
        for connection in connections { connection.drain() }
        closeDeferred()
    }

    /// Stops the loop at its next iteration, closing connections abruptly. Safe from any thread.
    public func stop() {
        execute { [self] in
            stopRequested = true
            for connection in connections { connection.close(reason: .shutdown) }
            closeDeferred()
        }
    }

    func whenStopped(_ callback: @escaping () -> Void) {
        assertInLoop()
        onStopped.append(callback)
    }
}

/// How other threads wake a loop: the loop's eventfd, written only when the loop said it is
/// going to sleep (`sleeping`), once (the first to take the flag writes). A loop that is
/// running looks for handed-over work before it sleeps, so a write then would only cost a
/// system call and a spurious wake-up. The loop sets `sleeping`, then looks for work; a
/// producer publishes its work, then takes the flag; both sequentially consistent, so either
/// the loop sees the work or the producer sees the flag and writes.
final class Waker: Sendable {
    let fd: Int32
    let sleeping = Atomic<Bool>(false)
    init(fd: Int32) { self.fd = fd }

    @inline(__always)
    func nudge() {
        if sleeping.load(ordering: .sequentiallyConsistent), sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            _ = dfl_eventfd_signal(fd)
        }
    }
}

/// A loop's wake-up for other threads: `signal()` is safe from any thread and runs the handler
/// on the loop thread; bursts coalesce into one handler call. Only the first signal after the
/// handler last started counts, and it wakes the loop only if the loop sleeps (`Waker`). The
/// loop clears `pending` before the handler looks for work, and both sides order their
/// accesses sequentially consistently (the signaller publishes its work, then swaps
/// `pending`), so work published after the handler looked always brings the handler back.
public final class Wakeup: Sendable {
    let pending = Atomic<Bool>(false)
    private let waker: Waker
    init(waker: Waker) { self.waker = waker }
    public func signal() {
        if pending.exchange(true, ordering: .sequentiallyConsistent) { return }
        waker.nudge()
    }
}

/// A plain readable file descriptor with a callback (eventfd wake-ups from other threads).
final class FDWatcher: EventSource {
    let fd: Int32
    let handler: () -> Void
    init(fd: Int32, handler: @escaping () -> Void) {
        self.fd = fd
        self.handler = handler
    }
    func handleEvents(_ mask: UInt32) { handler() }
}
