import Reactor
import Redis
import Synchronization

/// Fail-over of tick partitions between gateways (`redis.partition_count` > 0). Each partition
/// `p` has a lease in Redis, `dfp:lease:{p}` = the owning gateway, set with a time to live
/// (`redis.lease_ms`) and renewed every third of it by its owner. A gateway takes the
/// partitions it is configured for (`redis.partitions`) and any other whose lease has lapsed —
/// its owner died or lost Redis — and reads exactly the partitions it holds. A configured owner
/// says it wants its partitions (`dfp:want:{p}`, renewed the same way); a gateway holding one it
/// was not configured for lets it go as soon as it sees that, so the owner takes it back when it
/// returns. Every step is one Lua script per partition, so taking, renewing and releasing are
/// atomic in Redis. A gateway that cannot renew for a whole lease stops reading: by then
/// another may hold the partition. Loop 0, its own connection.
final class PartitionLeases: @unchecked Sendable {
    let client: RedisClient
    let instance: String
    let count: Int
    let preferred: Set<Int>
    let leaseMs: Int
    private let loop: EventLoop
    private let host: String
    private let port: Int
    /// Held partitions and when each lease was last confirmed (loop thread).
    private var held: [Int: Int64] = [:]
    /// Held partitions for health and the shutdown release (any thread).
    let owned = Mutex<Set<Int>>([])
    /// Leases taken over from another gateway (a lapsed lease), for health.
    let takeovers = Atomic<Int>(0)
    /// Called on the loop with the partitions held now and those newly taken.
    var onChange: ((_ held: Set<Int>, _ taken: Set<Int>) -> Void)?

    private let cluster: Bool

    init(host: String, port: Int, loop: EventLoop, instance: String, count: Int, preferred: Set<Int>, leaseMs: Int,
         cluster: Bool = false) {
        client = RedisClient(host: host, port: port, loop: loop, cluster: cluster)
        self.cluster = cluster
        self.host = host
        self.port = port
        self.loop = loop
        self.instance = instance
        self.count = count
        self.preferred = preferred
        self.leaseMs = leaseMs
    }

    static func lease(_ p: Int) -> String { "dfp:lease:{\(p)}" }
    static func want(_ p: Int) -> String { "dfp:want:{\(p)}" }
    /// A partition's tick stream: on a Redis Cluster hash-tagged like its lease keys
    /// (`dfp:clean_ticks:{p}`, the braces literal), so a partition's keys share one slot.
    static func stream(_ p: String, cluster: Bool) -> String { cluster ? "dfp:clean_ticks:{\(p)}" : "dfp:clean_ticks:\(p)" }

    /// KEYS: lease, want. ARGV: this gateway, ttl ms, 1 when configured for it.
    /// Returns 1 held (renewed), 2 newly taken, 0 not held (someone else's, or let go).
    static let script = """
        local me, ttl, pref = ARGV[1], ARGV[2], ARGV[3] == '1'
        if pref then redis.call('SET', KEYS[2], me, 'PX', ttl) end
        local cur = redis.call('GET', KEYS[1])
        local wanted = false
        if not pref then
          local w = redis.call('GET', KEYS[2])
          wanted = w ~= false and w ~= me
        end
        if cur == me then
          if wanted then redis.call('DEL', KEYS[1]) return 0 end
          redis.call('PEXPIRE', KEYS[1], ttl)
          return 1
        end
        if cur or wanted then return 0 end
        redis.call('SET', KEYS[1], me, 'PX', ttl)
        return 2
        """

    /// KEYS: lease, want. ARGV: this gateway. Drops the lease and the want when they are ours.
    static let releaseScript = """
        if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """

    func start() {
        loop.execute {
            self.startedMs = self.loop.now
            self.client.start()
            self.tick()
        }
    }

    /// For one lease after start a gateway takes only its own partitions: gateways started
    /// together each get theirs at once, instead of the first taking all and handing them back.
    private var startedMs: Int64 = 0

    /// Every third of a lease: renew or take each partition, and drop what could not be
    /// confirmed for a whole lease.
    private func tick() {
        let now = loop.now
        if client.state == .connected {
            let settling = now - startedMs < Int64(leaseMs)
            for p in 0..<count where !(settling && held[p] == nil && !preferred.contains(p)) {
                let args = ["EVAL", Self.script, "2", Self.lease(p), Self.want(p), instance, String(leaseMs), preferred.contains(p) ? "1" : "0"]
                client.send(args) { [weak self] reply in self?.answered(p, reply, sentAt: now) }
            }
        }
        let lapsed = held.filter { now - $0.value > Int64(leaseMs) }.map(\.key)
        if !lapsed.isEmpty {
            for p in lapsed { held.removeValue(forKey: p) }
            changed(taken: [])
        }
        loop.schedule(afterMs: Int64(max(50, leaseMs / 3))) { [weak self] in self?.tick() }
    }

    private func answered(_ p: Int, _ reply: RESPValue, sentAt: Int64) {
        guard case .integer(let result) = reply else { return }  // link down or script error: retried next tick
        // An answer later than a lease proves nothing: the lease may have lapsed and been taken
        // meanwhile (and `tick` may have let the partition go already).
        guard loop.now - sentAt < Int64(leaseMs) else { return }
        switch result {
        case 1, 2:
            let isNew = held[p] == nil
            held[p] = sentAt
            if isNew {
                if result == 2 && !preferred.contains(p) { takeovers.wrappingAdd(1, ordering: .relaxed) }
                changed(taken: [p])
            }
        default:
            if held.removeValue(forKey: p) != nil { changed(taken: []) }
        }
    }

    private func changed(taken: Set<Int>) {
        let now = Set(held.keys)
        owned.withLock { $0 = now }
        onChange?(now, taken)
    }

    /// At shutdown, once the loops have stopped: hands the held leases back at once (a blocking
    /// connection, one second at most), so the others take them without waiting for them to lapse.
    func release() {
        let partitions = owned.withLock { $0 }.union(preferred)
        let commands = partitions.sorted().map { ["EVAL", Self.releaseScript, "2", Self.lease($0), Self.want($0), instance] }
        if RedisBlockingCall.send(commands, host: host, port: port, followingRedirects: cluster) != nil { owned.withLock { $0 = [] } }
    }
}
