import Contracts
import CLinux
import HTTP
import Reactor

/// `GET /health`, `/gateway/health` (the seed's aliases, simple form) and `/admin/health`
/// (detailed; admin-protected).
enum HealthRoutes {
    static func register(into router: inout Router<RouteHandler>, group: EventLoopGroup, startedAtMs: Int64,
                         admin: AdminGuard, signals: SignalService, streaming: StreamingStats? = nil,
                         redis: RedisSink? = nil, source: RedisSource? = nil, peers: RedisPeers? = nil) {
        let simple: RouteHandler = { _ in
            json(summary(group: group, startedAtMs: startedAtMs, detailed: false))
        }
        router.add(.get, "/health", simple)
        router.add(.get, "/gateway/health", simple)
        // For load balancers: ready once the listeners and the pipeline run (recovery happens
        // before either starts); no credentials needed, nothing revealed.
        router.add(.get, "/admin/ready") { _ in
            var w = JSONWriter()
            w.beginObject()
            w.bool("ready", true)
            w.endObject()
            return .json(200, w.bytes)
        }
        router.add(.get, "/admin/health", admin.protect { _ in
            let components = Self.components(signals: signals, redis: redis, source: source, peers: peers)
            let healthy = components.allSatisfy { $0.state == "ok" }
            var w = summary(group: group, startedAtMs: startedAtMs, detailed: true, signals: signals, open: true,
                            status: healthy ? "ok" : "degraded")
            w.beginObject("components")
            for c in components {
                w.beginObject(c.name)
                w.string("status", c.state)
                w.string("detail", c.detail)
                w.endObject()
            }
            w.endObject()
            if let streaming {
                w.beginObject("websocket")
                w.int("sessions", streaming.sessions.load(ordering: .relaxed))
                w.int("dropped_lossy", streaming.droppedLossy.load(ordering: .relaxed))
                w.int("closed_too_slow", streaming.slowClosed.load(ordering: .relaxed))
                w.endObject()
            }
            if let redis {
                w.beginObject("redis")
                let link = redis.client.status
                w.string("state", link.state.rawValue)
                w.int("reconnects", link.reconnects.load(ordering: .relaxed))
                w.string("last_error", link.lastError)
                w.uint64("acked_seq", redis.stats.ackedSeq.load(ordering: .relaxed))
                w.int("sent", redis.stats.sent.load(ordering: .relaxed))
                w.int("failed", redis.stats.failed.load(ordering: .relaxed))
                if let peers {
                    w.beginObject("peers")
                    w.string("instance", peers.instance)
                    w.string("state", peers.client.status.state.rawValue)
                    w.int("received", peers.received.load(ordering: .relaxed))
                    w.endObject()
                }
                if let source {
                    w.beginObject("source")
                    w.string("state", source.client.status.state.rawValue)
                    w.int("read", source.stats.read.load(ordering: .relaxed))
                    w.int("acked", source.stats.acked.load(ordering: .relaxed))
                    w.int("rejected", source.stats.rejected.load(ordering: .relaxed))
                    w.int("claimed", source.stats.claimed.load(ordering: .relaxed))
                    w.endObject()
                }
                w.endObject()
            }
            w.endObject()
            return .json(healthy ? 200 : 503, w.bytes)
        })
    }

    /// Each component's state: ok, or degraded with the reason (the endpoint then answers 503).
    static func components(signals: SignalService, redis: RedisSink?, source: RedisSource?, peers: RedisPeers?)
        -> [(name: String, state: String, detail: String)] {
        var out: [(name: String, state: String, detail: String)] = [("reactor", "ok", "loops running")]
        let stats = signals.worker.stats
        let fullest = signals.worker.inputRings.map { ($0.name, $0.depth, $0.depth + $0.freeCapacity) }
            .max { $0.1 * 100 / max(1, $0.2) < $1.1 * 100 / max(1, $1.2) }
        if let (name, depth, capacity) = fullest, capacity > 0, depth * 10 >= capacity * 9 {
            out.append(("pipeline", "degraded", "ring \(name) is \(depth) of \(capacity) full"))
        } else {
            out.append(("pipeline", "ok", "worker running"))
        }
        if signals.feedName == "simulator" {
            let last = stats.lastTickMs.load(ordering: .relaxed)
            let age = last == 0 ? Int64.max : dfl_monotonic_ms() - last
            out.append(age <= 5_000 ? ("feed", "ok", "simulator ticks \(age) ms ago")
                                    : ("feed", "degraded", "no simulator tick for \(last == 0 ? "ever" : "\(age / 1000) s")"))
        } else {
            out.append(("feed", "ok", "no built-in feed; ticks come from clients" + (source == nil ? "" : " and Redis")))
        }
        if let journal = signals.journal {
            let errors = journal.stats.writeErrors.load(ordering: .relaxed)
            out.append(errors == 0 ? ("journal", "ok", "fsync \(journal.settings.fsync.rawValue)")
                                   : ("journal", "degraded", "\(errors) failed write(s); events wait in memory"))
        } else {
            out.append(("journal", "ok", "off (journal.enabled = false)"))
        }
        if let redis {
            var down: [String] = []
            if redis.client.status.state != .connected { down.append("sink \(redis.client.status.state.rawValue)") }
            if let source, source.client.status.state != .connected { down.append("source \(source.client.status.state.rawValue)") }
            if let peers, peers.client.status.state != .connected { down.append("peers \(peers.client.status.state.rawValue)") }
            out.append(down.isEmpty ? ("redis", "ok", "connected") : ("redis", "degraded", down.joined(separator: ", ")))
        }
        return out
    }

    private static func json(_ writer: JSONWriter) -> Response { .json(200, writer.bytes) }

    /// The health object; `open` leaves it unclosed for the caller to add sections.
    static func summary(group: EventLoopGroup, startedAtMs: Int64, detailed: Bool, signals: SignalService? = nil,
                        open: Bool = false, status: String = "ok") -> JSONWriter {
        let uptime = Double(dfl_monotonic_ms() - startedAtMs) / 1000
        var w = JSONWriter()
        w.beginObject()
        w.string("status", status)
        w.string("version", DongfengVersion.current)
        w.double("uptime_s", (uptime * 10).rounded() / 10)
        w.int("connections", group.openConnections)
        w.int("loops", group.loops.count)
        if detailed {
            let c = group.counters
            w.beginObject("reactor")
            w.int("accepted_total", c.acceptedTotal.load(ordering: .relaxed))
            w.int("refused_over_limit", c.refusedOverLimit.load(ordering: .relaxed))
            w.int("max_connections", group.connectionLimit.maximum)
            w.int("write_queue_overflows", c.writeQueueOverflows.load(ordering: .relaxed))
            w.endObject()
            w.beginObject("tls")
            w.int("handshakes", c.tlsHandshakes.load(ordering: .relaxed))
            w.int("handshake_failures", c.tlsHandshakeFailures.load(ordering: .relaxed))
            w.int("handshake_timeouts", c.tlsHandshakeTimeouts.load(ordering: .relaxed))
            w.endObject()
            w.int("rss_bytes", Int(dfl_rss_bytes()))
            w.int("heap_bytes", Int(dfl_heap_in_use_bytes()))
            signals?.describe(&w)
        }
        if !open { w.endObject() }
        return w
    }
}
