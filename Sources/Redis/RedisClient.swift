import Locks
import Reactor
import Synchronization

/// The link's state for other threads (health): updated by the client on its loop.
public final class RedisLinkStatus: Sendable {
    let stateCode = Atomic<Int>(2)
    public let reconnects = Atomic<Int>(0)
    /// Redis Cluster: commands sent again after a MOVED, ASK or a node that could not serve them.
    public let redirects = Atomic<Int>(0)
    let error = PThreadLocked<String>("")
    public var state: RedisClient.State { [.connecting, .connected, .down][stateCode.load(ordering: .relaxed)] }
    public var lastError: String { error.withLock { $0 } }
}

/// A Redis connection on a reactor loop (no threads of its own): commands are pipelined —
/// written at once, answered in order through a FIFO of callbacks — and the link reconnects with
/// backoff (100 ms doubling to 5 s). Confined to its loop's thread; create and use it there.
public final class RedisClient: ConnectionHandler {
    public enum State: String, Sendable { case connecting, connected, down }

    public let host: String
    public let port: Int
    public internal(set) var state: State = .down {
        didSet { status.stateCode.store(state == .connecting ? 0 : state == .connected ? 1 : 2, ordering: .relaxed) }
    }
    public internal(set) var reconnects = 0 { didSet { status.reconnects.store(reconnects, ordering: .relaxed) } }
    public internal(set) var lastError = "" { didSet { let e = lastError; status.error.withLock { $0 = e } } }
    /// The same, readable from any thread.
    public let status = RedisLinkStatus()
    /// Called on the loop each time the link comes up (to re-create groups, resume a sink...).
    public var onConnected: (() -> Void)?
    /// Values no command waits for: pub/sub messages after SUBSCRIBE.
    public var onPush: ((RESPValue) -> Void)?
    /// Called on the loop when an established link drops (its pending commands have failed).
    var onDisconnected: (() -> Void)?
    /// Redis Cluster: the commands are routed to the node serving each key's slot.
    private var router: ClusterRouter?
    public var isCluster: Bool { router != nil }

    private let loop: EventLoop
    private var connection: Connection?
    private var parser = RESPParser()
    private var replies: [(RESPValue) -> Void] = []
    private var unsent: [UInt8] = []
    private var backoffMs: Int64 = 100
    private var stopped = false
    /// Commands queued while down, at most this many bytes (older ones fail at once beyond it).
    public var maxQueuedBytes = 8 << 20

    /// `cluster`: `host:port` is one node of a Redis Cluster; the client learns the slot map from
    /// it, keeps a link per master and routes each command by its key (`ClusterRouter`).
    public init(host: String, port: Int, loop: EventLoop, cluster: Bool = false) {
        self.host = host
        self.port = port
        self.loop = loop
        if cluster { router = ClusterRouter(owner: self, loop: loop) }
    }

    public func start() {
        stopped = false
        if let router { return router.start() }
        connect()
    }

    public func stop() {
        stopped = true
        if let router { return router.stop() }
        connection?.close()
    }

    /// Sends a command; `reply` gets the answer, or `.error("ERR link down ...")` if the link
    /// drops before it comes.
    public func send(_ arguments: [String], reply: @escaping (RESPValue) -> Void = { _ in }) {
        var bytes: [UInt8] = []
        RESPEncoder.command(arguments, into: &bytes)
        send(encoded: bytes, replies: [reply])
    }

    /// Several already-encoded commands at once (one write), one reply callback each.
    public func send(encoded bytes: [UInt8], replies callbacks: [(RESPValue) -> Void]) {
        if let router { return router.send(encoded: bytes, replies: callbacks) }
        guard state == .connected, let connection else {
            guard unsent.count + bytes.count <= maxQueuedBytes else {
                for r in callbacks { r(.error("ERR link down and the queue is full")) }
                return
            }
            unsent += bytes
            replies += callbacks
            return
        }
        replies += callbacks
        if connection.write(bytes) == .overflow { lastError = "write queue overflow" }
    }

    private func connect() {
        guard !stopped else { return }
        state = .connecting
        do {
            connection = try loop.connect(host: host, port: port, maxWriteQueueBytes: 64 << 20, timeoutMs: 5_000, handler: self)
        } catch {
            lastError = "\(error)"
            scheduleReconnect()
        }
    }

    private func scheduleReconnect() {
        state = .down
        guard !stopped else { return }
        let delay = backoffMs
        backoffMs = min(backoffMs * 2, 5_000)
        loop.schedule(afterMs: delay) { [weak self] in
            guard let self, !self.stopped, self.state == .down else { return }
            self.reconnects += 1
            self.connect()
        }
    }

    // MARK: - ConnectionHandler

    public func connectionDidOpen(_ connection: Connection) {
        state = .connected
        backoffMs = 100
        parser = RESPParser()
        if !unsent.isEmpty {
            connection.write(unsent)
            unsent = []
        }
        onConnected?()
    }

    public func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        while true {
            switch parser.next() {
            case .needMore: return
            case .value(let v):
                guard !replies.isEmpty else {
                    onPush?(v)
                    continue
                }
                replies.removeFirst()(v)
            case .failure(let why):
                lastError = "protocol error: \(why)"
                connection.close()
                return
            }
        }
    }

    public func connectionDidDrainWrites(_ connection: Connection) {}
    public func connectionDeadlineExpired(_ connection: Connection) {}
    public func connectionShouldDrain(_ connection: Connection) { stop() }

    public func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        self.connection = nil
        if lastError.isEmpty || state == .connected { lastError = "link closed: \(reason)" }
        let pending = replies
        replies = []
        unsent = []
        let wasUp = state == .connected
        // Down before the callbacks run: a callback that sends again must not find the link
        // looking up (its command would wait in `unsent` for a node that may never return).
        scheduleReconnect()
        for r in pending { r(.error("ERR link down (\(reason))")) }
        if wasUp { onDisconnected?() }
    }
}
