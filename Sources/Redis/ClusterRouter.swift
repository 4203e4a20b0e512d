import Reactor

/// Redis Cluster for a `RedisClient` created with `cluster: true`: the client learns which node
/// serves each of the 16384 hash slots (`CLUSTER SLOTS`, from the node it was given and later
/// from any node it reaches), keeps one link per master (a plain `RedisClient` each), and sends
/// every command to the master of its key's slot — the part of the key between the first `{`
/// and the next `}` when there is one (a hash tag), else the whole key. Replies come back to
/// each command's own callback.
///
/// Redirections are followed: `-MOVED slot host:port` (the slot moved for good: the map is
/// read again and the command resent there), `-ASK slot host:port` (`ASKING`, then the command
/// on that node, once). A node that cannot serve for now (`TRYAGAIN`, `CLUSTERDOWN`,
/// `LOADING`, `READONLY`, a blocked read `UNBLOCKED` because its master became a replica) gets
/// the command again after 100 ms, up to 50 times, the map read again meanwhile. The client
/// counts as connected while the map covers every slot and every master's link is up; when a
/// link drops it reads the map again every 250 ms — after a failover the replica promoted in
/// its place serves the slots — and, once whole again, runs `onConnected` as a single link
/// does after a reconnect. Commands sent meanwhile wait (up to `maxQueued`), as they do for a
/// single link that is down.
final class ClusterRouter {
    unowned let owner: RedisClient
    let loop: EventLoop
    /// Master address ("host:port") of each slot; nil until the map is read.
    private var slotOwner: [String?] = Array(repeating: nil, count: 16384)
    private var masters: Set<String> = []
    private var links: [String: RedisClient] = [:]
    private var queued: [(args: [[UInt8]], reply: (RESPValue) -> Void)] = []
    static let maxQueued = 100_000
    private var refreshing = false
    private var refreshScheduled = false
    /// Commands sent and not yet answered, and the order they were sent in.
    private var inFlight = 0
    private var sequence = 0
    /// Redirected commands waiting for the others to be answered (`holding`), with the node an
    /// ASK named; `retryDelayed` when a node asked to try again later.
    private var redirected: [(order: Int, args: [[UInt8]], reply: (RESPValue) -> Void, attempt: Int, ask: String?)] = []
    private var holding = false
    private var retryDelayed = false
    /// A master's link dropped (its commands failed) since the client was last whole: the
    /// components are told with `onConnected` once it is whole again, as after a reconnect.
    /// Becoming whole again after a link was merely added (a promoted replica) tells nothing:
    /// every command there was redirected, none lost.
    private var lostCommands = true
    private var stopped = false
    private var ready = false

    init(owner: RedisClient, loop: EventLoop) {
        self.owner = owner
        self.loop = loop
    }

    func start() {
        stopped = false
        owner.state = .connecting
        _ = link("\(owner.host):\(owner.port)")
        refresh()
    }

    func stop() {
        stopped = true
        for l in links.values { l.stop() }
    }

    // MARK: - Sending

    func send(encoded bytes: [UInt8], replies: [(RESPValue) -> Void]) {
        var parser = RESPParser()
        bytes.withUnsafeBytes { parser.append($0) }
        var i = 0
        while i < replies.count, case .value(.array(let items?)) = parser.next() {
            let args = items.map { item -> [UInt8] in if case .bulk(let b?) = item { b } else { Array((item.string ?? "").utf8) } }
            route(args, replies[i], attempt: 0)
            i += 1
        }
        while i < replies.count {
            replies[i](.error("ERR not a command"))
            i += 1
        }
    }

    private func route(_ args: [[UInt8]], _ reply: @escaping (RESPValue) -> Void, attempt: Int, to address: String? = nil,
                       asking: Bool = false) {
        guard !stopped else { return reply(.error("ERR link down (stopped)")) }
        let target: String?
        if let address {
            target = address
        } else if let key = Self.firstKey(args) {
            target = slotOwner[Int(Self.slot(key))]
        } else {
            target = masters.sorted().first { links[$0]?.state == .connected }
        }
        guard ready, !holding, let target, let l = links[target], l.state == .connected else {
            guard queued.count < Self.maxQueued else { return reply(.error("ERR link down and the queue is full")) }
            queued.append((args, reply))
            return
        }
        var bytes: [UInt8] = []
        if asking { RESPEncoder.command(["ASKING"], into: &bytes) }
        RESPEncoder.command(args, into: &bytes)
        sequence += 1
        let order = sequence
        inFlight += 1
        let answer: (RESPValue) -> Void = { [weak self] answer in
            guard let self else { return reply(answer) }
            self.inFlight -= 1
            self.answered(answer, args, reply, attempt, order)
        }
        l.send(encoded: bytes, replies: asking ? [{ _ in }, answer] : [answer])
    }

    /// A redirection: the command waits with every other redirected one, and new commands wait
    /// in the queue, until every command sent has been answered; then the redirected ones go
    /// again in the order they were first sent, then the queue. So commands on one key keep
    /// their order across a slot's move (the sink's XADDs must reach a stream in seq order).
    private func answered(_ answer: RESPValue, _ args: [[UInt8]], _ reply: @escaping (RESPValue) -> Void, _ attempt: Int, _ order: Int) {
        guard case .error(let message) = answer, attempt < 50 else {
            reply(answer)
            return releaseIfIdle()
        }
        let words = message.split(separator: " ")
        switch words.first {
        case "MOVED" where words.count == 3:
            let address = String(words[2])
            if let slot = Int(words[1]), (0..<16384).contains(slot) { slotOwner[slot] = address }
            _ = link(address)
            scheduleRefresh()
            redirected.append((order, args, reply, attempt + 1, nil))
        case "ASK" where words.count == 3:
            let address = String(words[2])
            _ = link(address)
            redirected.append((order, args, reply, attempt + 1, address))
        case "TRYAGAIN", "CLUSTERDOWN", "LOADING", "READONLY", "UNBLOCKED", "MASTERDOWN":
            scheduleRefresh()
            redirected.append((order, args, reply, attempt + 1, nil))
            retryDelayed = true
        default:
            reply(answer)
            return releaseIfIdle()
        }
        owner.status.redirects.wrappingAdd(1, ordering: .relaxed)
        holding = true
        releaseIfIdle()
    }

    private func releaseIfIdle() {
        guard holding, inFlight == 0 else { return }
        if retryDelayed {
            retryDelayed = false
            loop.schedule(afterMs: 100) { [weak self] in self?.release() }
        } else {
            release()
        }
    }

    private func release() {
        // Not whole (a master's link is down): sent now, they would queue behind newer commands.
        guard holding, inFlight == 0, ready else { return }
        // Every redirected command's node must be reachable first: one that could not be sent
        // would queue behind newer commands and lose its place (and an ASK its target). The
        // link coming up, or the map read again, releases.
        for r in redirected {
            let ask = r.ask.flatMap { links[$0] != nil ? $0 : nil }
            let target = ask ?? Self.firstKey(r.args).flatMap { slotOwner[Int(Self.slot($0))] }
            if let target, links[target]?.state != .connected {
                _ = link(target)
                return scheduleRefresh()
            }
        }
        holding = false
        let again = redirected.sorted { $0.order < $1.order }
        redirected = []
        for r in again {
            let ask = r.ask.flatMap { links[$0] != nil ? $0 : nil }
            route(r.args, r.reply, attempt: r.attempt, to: ask, asking: ask != nil)
        }
        flush()
    }

    // MARK: - The slot map

    /// The link to a node, made on first use.
    private func link(_ address: String) -> RedisClient? {
        if let l = links[address] { return l }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        let l = RedisClient(host: String(address[..<colon]), port: port, loop: loop)
        l.onConnected = { [weak self] in self?.linkUp() }
        l.onDisconnected = { [weak self] in self?.linkDown(address) }
        links[address] = l
        l.start()
        return l
    }

    private func linkUp() {
        if !refreshing && slotOwner.contains(where: { $0 == nil }) { refresh() }
        checkReady()
        if holding { releaseIfIdle() }  // redirected commands waiting for this link
        if ready && !holding { flush() }  // commands that waited for this link (a MOVED to a new node)
    }

    private func flush() {
        let waiting = queued
        queued = []
        for (args, reply) in waiting { route(args, reply, attempt: 0) }
    }

    private func linkDown(_ address: String) {
        guard masters.contains(address) else { return }
        lostCommands = true
        ready = false
        owner.state = .connecting
        owner.lastError = "cluster node \(address) down"
        scheduleRefresh()
    }

    private func scheduleRefresh() {
        guard !refreshScheduled, !stopped else { return }
        refreshScheduled = true
        loop.schedule(afterMs: 250) { [weak self] in
            guard let self else { return }
            self.refreshScheduled = false
            self.refresh()
        }
    }

    /// CLUSTER SLOTS from a reachable node (masters first), then the links that follows.
    private func refresh() {
        guard !refreshing, !stopped else { return }
        let candidates = links.sorted { (masters.contains($0.key) ? 0 : 1, $0.key) < (masters.contains($1.key) ? 0 : 1, $1.key) }
        guard let (address, l) = candidates.first(where: { $0.value.state == .connected }) else {
            if !ready { scheduleRefresh() }  // none up yet: each link's connect triggers one too
            return
        }
        refreshing = true
        l.send(["CLUSTER", "SLOTS"]) { [weak self] reply in
            guard let self else { return }
            self.refreshing = false
            guard let ranges = reply.array, !ranges.isEmpty else {
                self.scheduleRefresh()
                return
            }
            self.apply(ranges, askedAt: address)
        }
    }

    private func apply(_ ranges: [RESPValue], askedAt: String) {
        var map: [String?] = Array(repeating: nil, count: 16384)
        var found: Set<String> = []
        for range in ranges {
            guard let r = range.array, r.count >= 3, case .integer(let start) = r[0], case .integer(let end) = r[1],
                  let node = r[2].array, node.count >= 2, case .integer(let port) = node[1],
                  (0..<16384).contains(start), (start..<16384).contains(end) else { continue }
            var host = node[0].string ?? ""
            if host.isEmpty || host == "?" { host = String(askedAt[..<(askedAt.lastIndex(of: ":") ?? askedAt.endIndex)]) }
            let address = "\(host):\(port)"
            found.insert(address)
            for slot in Int(start)...Int(end) { map[slot] = address }
        }
        slotOwner = map
        masters = found
        for address in found { _ = link(address) }
        // Links to nodes that serve nothing now (an old master turned replica, a dead one) stay:
        // their pending commands come back redirected, and a node may serve again later.
        if map.contains(where: { $0 == nil }) { scheduleRefresh() }
        checkReady()
        if holding { releaseIfIdle() }
    }

    /// Connected when every slot has a master whose link is up: the commands that waited go
    /// out, then `onConnected` (the components resume as after a reconnect).
    private func checkReady() {
        let whole = !slotOwner.contains { $0 == nil } && masters.allSatisfy { links[$0]?.state == .connected }
        guard whole, !ready else {
            if !whole && ready {
                // Commands wait until it is whole again. The client still counts as connected
                // when no command was lost (a link merely added for a promoted replica): the
                // components keep sending, in order, rather than hold back for an
                // `onConnected` that will not come.
                ready = false
                if lostCommands { owner.state = .connecting }
            }
            return
        }
        ready = true
        owner.state = .connected
        owner.lastError = ""
        if holding { releaseIfIdle() } else { flush() }
        if lostCommands {
            lostCommands = false
            owner.onConnected?()
        }
    }

    // MARK: - Keys and slots

    /// The key a command is routed by (its first), nil for commands without one.
    static func firstKey(_ args: [[UInt8]]) -> [UInt8]? {
        guard let name = args.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { return nil }
        switch name {
        case "XREAD", "XREADGROUP":
            guard let i = args.firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS" }), i + 1 < args.count else { return nil }
            return args[i + 1]
        case "XGROUP", "XINFO", "OBJECT":
            return args.count > 2 ? args[2] : nil
        case "EVAL", "EVALSHA":
            guard args.count > 3, let n = Int(String(decoding: args[2], as: UTF8.self)), n > 0 else { return nil }
            return args[3]
        case "PING", "PUBLISH", "CLUSTER", "INFO", "ASKING", "WAIT", "SCRIPT", "SUBSCRIBE", "PSUBSCRIBE":
            return nil
        default:
            return args.count > 1 ? args[1] : nil
        }
    }

    /// The hash slot of a key: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384.
    public static func slot(_ key: [UInt8]) -> UInt16 {
        var part = key[...]
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
           let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            part = key[(open + 1)..<close]
        }
        var crc: UInt16 = 0
        for byte in part {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc & 0x3FFF
    }
}

extension RedisClient {
    /// The hash slot Redis Cluster serves `key` from.
    public static func slot(_ key: String) -> UInt16 { ClusterRouter.slot(Array(key.utf8)) }
}
