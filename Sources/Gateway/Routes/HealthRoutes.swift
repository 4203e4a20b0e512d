import Contracts
import CLinux
import Feeds
import HTTP
import Reactor
import Store

/// `GET /health`, `/gateway/health` (the seed's aliases, simple form) and `/admin/health`
/// (detailed; admin-protected).
enum HealthRoutes {
    static func register(into router: inout Router<RouteHandler>, group: EventLoopGroup, startedAtMs: Int64,
                         admin: AdminGuard, signals: SignalService, streaming: StreamingStats? = nil,
                         redis: RedisSink? = nil, source: RedisSource? = nil, peers: RedisPeers? = nil,
                         leases: PartitionLeases? = nil) {
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
            let components = Self.components(signals: signals, redis: redis, source: source, peers: peers,
                                             uptimeMs: dfl_monotonic_ms() - startedAtMs)
            let status = components.contains { $0.state == "down" } ? "down"
                : components.contains { $0.state == "degraded" } ? "degraded" : "ok"
            var w = summary(group: group, startedAtMs: startedAtMs, detailed: true, signals: signals, open: true,
                            status: status)
            w.beginObject("components")
            for c in components {
                w.beginObject(c.name)
                w.string("status", c.state)
                w.string("detail", c.detail)
                w.endObject()
            }
            w.endObject()
            // Each tick source: how long since its last tick, its ring, what it refused.
            w.beginObject("sources")
            let nowNs = dfl_monotonic_ns()
            for input in signals.worker.inputRings {
                w.beginObject(input.name)
                let last = input.lastReceivedNs.load(ordering: .relaxed)
                if last == 0 { w.null("last_tick_age_ms") } else { w.int64("last_tick_age_ms", (nowNs - last) / 1_000_000) }
                w.int("ring_depth", input.depth)
                w.int("rejected_busy", input.rejectedFull.load(ordering: .relaxed))
                if let feed = signals.feed, input.name == feed.inputName {
                    w.bool("paused", feed.paused.load(ordering: .relaxed))
                }
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
                if redis.client.isCluster { w.int("redirects", link.redirects.load(ordering: .relaxed)) }
                w.string("last_error", link.lastError)
                w.uint64("acked_seq", redis.stats.ackedSeq.load(ordering: .relaxed))
                w.int("sent", redis.stats.sent.load(ordering: .relaxed))
                w.int("failed", redis.stats.failed.load(ordering: .relaxed))
                if let peers {
                    w.beginObject("peers")
                    w.string("instance", peers.instance)
                    w.string("state", peers.client.status.state.rawValue)
                    w.int("received", peers.received.load(ordering: .relaxed))
                    w.int("duplicates", peers.duplicates.load(ordering: .relaxed))
                    // The other gateways' recent opportunities held for cursor resumes.
                    w.bool("backfilled", peers.history.isBackfilled)
                    w.int("held", peers.history.count)
                    w.beginObject("origins")
                    for (origin, seq) in peers.history.positions().sorted(by: { $0.key < $1.key }) { w.uint64(origin, seq) }
                    w.endObject()
                    w.endObject()
                }
                if let source {
                    w.beginObject("source")
                    w.string("state", source.client.status.state.rawValue)
                    w.int("read", source.stats.read.load(ordering: .relaxed))
                    w.int("acked", source.stats.acked.load(ordering: .relaxed))
                    w.int("rejected", source.stats.rejected.load(ordering: .relaxed))
                    w.int("claimed", source.stats.claimed.load(ordering: .relaxed))
                    if let leases {
                        w.string("lease_state", leases.client.status.state.rawValue)
                        w.beginArray("partitions")
                        for p in leases.owned.withLock({ $0 }).sorted() { w.int(nil, p) }
                        w.endArray()
                        w.beginArray("preferred")
                        for p in leases.preferred.sorted() { w.int(nil, p) }
                        w.endArray()
                        w.int("takeovers", leases.takeovers.load(ordering: .relaxed))
                    }
                    w.endObject()
                }
                w.endObject()
            }
            w.endObject()
            return .json(status == "ok" ? 200 : 503, w.bytes)
        })
    }

    /// Each component's state — ok, degraded (working, impaired) or down (not doing its job) —
    /// with the reason; the endpoint answers 503 unless all are ok.
    static func components(signals: SignalService, redis: RedisSink?, source: RedisSource?, peers: RedisPeers?,
                           uptimeMs: Int64) -> [(name: String, state: String, detail: String)] {
        var out: [(name: String, state: String, detail: String)] = [("reactor", "ok", "loops running")]
        let fullest = signals.worker.inputRings.map { ($0.name, $0.depth, $0.depth + $0.freeCapacity) }
            .max { $0.1 * 100 / max(1, $0.2) < $1.1 * 100 / max(1, $1.2) }
        if let (name, depth, capacity) = fullest, capacity > 0, depth * 10 >= capacity * 9 {
            out.append(("pipeline", "degraded", "ring \(name) is \(depth) of \(capacity) full"))
        } else {
            out.append(("pipeline", "ok", "worker running"))
        }
        if let feed = signals.feed, let input = signals.worker.inputRings.first(where: { $0.name == feed.inputName }) {
            let last = input.lastReceivedNs.load(ordering: .relaxed)
            let age = last == 0 ? uptimeMs : (dfl_monotonic_ns() - last) / 1_000_000
            let name = feed.kind
            let state = feed.state
            if state == "finished" {
                out.append(("feed", "ok", "finished: the \(name) file has ended (\(feed.published.load(ordering: .relaxed)) ticks played)"))
            } else if state.hasPrefix("failed") {
                out.append(("feed", "down", "\(name) \(state)"))
            } else if feed.paused.load(ordering: .relaxed) {
                out.append(("feed", "degraded", "\(name) paused by the operator (POST /admin/feed/resume); last tick \(age / 1000) s ago"))
            } else if age <= 5_000 || feed is ReplayFeed {
                // A replay's ticks come at the file's pace: quiet stretches are the market's.
                out.append(("feed", "ok", last == 0 ? "\(name) starting" : "\(name) ticks \(age) ms ago"))
            } else if age <= 60_000 {
                out.append(("feed", "degraded", "no \(name) tick for \(age / 1000) s"))
            } else {
                out.append(("feed", "down", "no \(name) tick for \(last == 0 ? "ever" : "\(age / 1000) s")"))
            }
        } else {
            out.append(("feed", "ok", "no built-in feed; ticks come from clients" + (source == nil ? "" : " and Redis")))
        }
        if let journal = signals.journal {
            let errors = journal.stats.writeErrors.load(ordering: .relaxed)
                + ((signals.worker.journal as? JournalWriter)?.inputs?.stats.writeErrors.load(ordering: .relaxed) ?? 0)
            let checkpointFailures = signals.checkpointer?.failed.load(ordering: .relaxed) ?? 0
            if errors > 0 {
                out.append(("journal", "degraded", "\(errors) failed write(s); events wait in memory"))
            } else if checkpointFailures > 0 {
                out.append(("journal", "degraded", "\(checkpointFailures) checkpoint(s) not written; a restart replays more inputs"))
            } else {
                out.append(("journal", "ok", "fsync \(journal.settings.fsync.rawValue)"))
            }
        } else {
            out.append(("journal", "ok", "off (journal.enabled = false)"))
        }
        if let redis {
            var links = [("sink", redis.client.status.state)]
            if let source { links.append(("source", source.client.status.state)) }
            if let peers { links.append(("peers", peers.client.status.state)) }
            let down = links.filter { $0.1 != .connected }.map { "\($0.0) \($0.1.rawValue)" }
            let state = down.isEmpty ? "ok" : down.count == links.count ? "down" : "degraded"
            out.append(("redis", state, down.isEmpty ? "connected" : down.joined(separator: ", ")))
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
