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
        router.add(.get, "/admin/health", admin.protect { _ in
            var w = summary(group: group, startedAtMs: startedAtMs, detailed: true, signals: signals, open: true)
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
            return json(w)
        })
    }

    private static func json(_ writer: JSONWriter) -> Response { .json(200, writer.bytes) }

    /// The health object; `open` leaves it unclosed for the caller to add sections.
    static func summary(group: EventLoopGroup, startedAtMs: Int64, detailed: Bool, signals: SignalService? = nil,
                        open: Bool = false) -> JSONWriter {
        let uptime = Double(dfl_monotonic_ms() - startedAtMs) / 1000
        var w = JSONWriter()
        w.beginObject()
        w.string("status", "ok")
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
