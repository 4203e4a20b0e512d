import CLinux
import HTTP
import Pipeline
import Reactor
import Telemetry

/// `GET /admin/metrics`: Prometheus text exposition (0.0.4) of the counters the server already
/// keeps as relaxed atomics (reactor, TLS, pipeline, rings, WebSocket, journal, Redis). Our own
/// writer rather than swift-prometheus: every figure already lives in one atomic or one
/// snapshot, so a scrape is a few hundred loads and one string; a metrics registry would add a
/// dependency and a second copy of each counter on the hot path. A scrape never takes a lock the
/// pipeline waits on (labelled counts are a per-batch snapshot; latency recorders use a
/// try-lock on the owner's side) and runs off the reactor loops (Benchmarks/metrics.sh).
enum MetricsRoutes {
    static func register(into router: inout Router<RouteHandler>, admin: AdminGuard, group: EventLoopGroup,
                         signals: SignalService, streaming: StreamingStats, broadcasters: [Broadcaster], http: HTTPTelemetry,
                         redis: RedisSink?, source: RedisSource?, leases: PartitionLeases? = nil, startedAtMs: Int64) {
        // Built off the reactor (a background queue): a scrape never delays a loop's I/O.
        router.add(.get, "/admin/metrics", admin.protect { _ in .later {
            var m = PrometheusText()
            let nowNs = dfl_monotonic_ns()
            let c = group.counters
            m.counter("dongfeng_connections_accepted_total", "TCP connections accepted", c.acceptedTotal.load(ordering: .relaxed))
            m.counter("dongfeng_connections_refused_total", "Connections refused over server.max_connections", c.refusedOverLimit.load(ordering: .relaxed))
            m.gauge("dongfeng_connections_open", "Open connections (HTTP, WebSocket and outbound)", group.openConnections)
            m.counter("dongfeng_write_queue_overflows_total", "Connections closed for exceeding their write queue", c.writeQueueOverflows.load(ordering: .relaxed))
            m.counter("dongfeng_tls_handshakes_total", "TLS handshakes completed", c.tlsHandshakes.load(ordering: .relaxed))
            m.counter("dongfeng_tls_handshake_failures_total", "TLS handshakes failed", c.tlsHandshakeFailures.load(ordering: .relaxed))
            m.counter("dongfeng_tls_handshake_timeouts_total", "TLS handshakes timed out", c.tlsHandshakeTimeouts.load(ordering: .relaxed))

            let s = signals.worker.stats
            let labelled = s.counts
            m.counter("dongfeng_ticks_total", "Ticks accepted by the engine", labelled.totals.ticks)
            m.counter("dongfeng_ticks_out_of_order_total", "Ticks refused as out of order", labelled.totals.outOfOrder)
            m.counter("dongfeng_bars_total", "Bars closed", labelled.totals.bars)
            m.labelled("dongfeng_signals_total", "Strategy signals", "counter", "strategy", labelled.signalsByStrategy)
            m.labelled("dongfeng_opportunity_events_total", "Opportunity events", "counter", "status", labelled.opportunitiesByStatus)
            m.liveScores(signals.store.liveScores)
            m.labelled("dongfeng_risk_alerts_total", "Risk alerts", "counter", "kind", labelled.alertsByKind)
            m.gauge("dongfeng_last_seq", "The last sequence number given out", Int(s.lastSeq.load(ordering: .relaxed)))
            // Feed freshness: since the last batch with ticks (since start when none yet).
            let lastTickMs = s.lastTickMs.load(ordering: .relaxed)
            m.gauge("dongfeng_feed_last_tick_age_seconds", "Seconds since the pipeline last processed ticks (since start when none yet)",
                    Double(dfl_monotonic_ms() - (lastTickMs == 0 ? startedAtMs : lastTickMs)) / 1000)
            m.gauge("dongfeng_feed_paused", "1 while the built-in feed is paused (POST /admin/feed/pause)",
                    signals.feed?.paused.load(ordering: .relaxed) == true ? 1 : 0)
            var rejected: [String: Int] = [:]
            var depth: [String: Int] = [:]
            for input in signals.worker.inputRings {
                rejected[input.name] = input.rejectedFull.load(ordering: .relaxed)
                depth["in:" + input.name] = input.depth
            }
            m.labelled("dongfeng_ticks_rejected_busy_total", "Ticks refused because the pipeline ring was full", "input", rejected)
            m.header("dongfeng_ticks_rejected_invalid_total", "Ticks refused at ingest as invalid, by input and the field at fault", "counter")
            for input in signals.worker.inputRings {
                for (field, n) in input.rejectedInvalid.snapshot.sorted(by: { $0.key < $1.key }) {
                    m.sample("dongfeng_ticks_rejected_invalid_total", [("input", input.name), ("field", field)], n)
                }
            }
            var dropped: [String: Int] = [:]
            for (i, output) in signals.worker.outputRings.enumerated() {
                depth["out:\(i)"] = output.depth
                dropped["out:\(i)"] = output.droppedLossy.load(ordering: .relaxed)
            }
            m.labelled("dongfeng_ring_depth", "Entries waiting in each pipeline ring", "ring", depth, type: "gauge")
            var capacity: [String: Int] = [:]
            for input in signals.worker.inputRings { capacity["in:" + input.name] = input.capacity }
            for (i, output) in signals.worker.outputRings.enumerated() { capacity["out:\(i)"] = output.capacity }
            m.labelled("dongfeng_ring_capacity", "Entries each pipeline ring holds at most", "ring", capacity, type: "gauge")
            m.labelled("dongfeng_ring_lossy_dropped_total", "Lossy events dropped because a consumer ring was full", "ring", dropped)

            let wsSessions = streaming.sessions.load(ordering: .relaxed)
            m.gauge("dongfeng_websocket_sessions", "Open WebSocket streams", wsSessions)
            m.labelled("dongfeng_websocket_subscribers", "Open WebSocket streams subscribed to each channel", "channel",
                       streaming.subscribers.snapshot, type: "gauge")
            var closes: [String: Int] = [:]
            for (code, n) in streaming.closes.snapshot { closes[String(code)] = n }
            m.labelled("dongfeng_websocket_disconnects_total", "Ended WebSocket streams by close code (1006: no close frame)",
                       "code", closes)
            m.counter("dongfeng_websocket_lossy_dropped_total", "Lossy events skipped for clients over their outbound cap", streaming.droppedLossy.load(ordering: .relaxed))
            m.counter("dongfeng_websocket_closed_too_slow_total", "Clients closed with 1013 (sequenced event over the cap)", streaming.slowClosed.load(ordering: .relaxed))

            if let journal = signals.journal {
                let j = journal.stats
                m.counter("dongfeng_journal_records_total", "Records appended to the journal", j.records.load(ordering: .relaxed))
                m.counter("dongfeng_journal_bytes_total", "Bytes written to the journal", j.bytes.load(ordering: .relaxed))
                m.counter("dongfeng_journal_fsyncs_total", "Journal fsyncs", j.fsyncs.load(ordering: .relaxed))
                m.gauge("dongfeng_journal_segments", "Journal segment files", j.segments.load(ordering: .relaxed))
                m.counter("dongfeng_journal_write_errors_total", "Journal writes that failed", j.writeErrors.load(ordering: .relaxed))
                m.gauge("dongfeng_journal_lag", "Sequenced events made but not yet journaled",
                        max(0, Int(s.lastSeq.load(ordering: .relaxed)) - Int(j.lastSeq.load(ordering: .relaxed))))
            }
            if let redis {
                m.gauge("dongfeng_redis_up", "1 when the Redis sink link is connected", redis.client.status.state == .connected ? 1 : 0)
                m.counter("dongfeng_redis_sent_total", "Events Redis acknowledged", redis.stats.sent.load(ordering: .relaxed))
                m.counter("dongfeng_redis_failed_total", "Redis commands that failed", redis.stats.failed.load(ordering: .relaxed))
            }
            if let source {
                m.counter("dongfeng_redis_ticks_read_total", "Entries read from the tick streams", source.stats.read.load(ordering: .relaxed))
                m.counter("dongfeng_redis_ticks_acked_total", "Entries acknowledged (XACK)", source.stats.acked.load(ordering: .relaxed))
                m.counter("dongfeng_redis_ticks_claimed_total", "Entries taken over from other consumers (XAUTOCLAIM)", source.stats.claimed.load(ordering: .relaxed))
            }
            if let leases {
                m.gauge("dongfeng_redis_partitions", "Tick partitions there are in all (redis.partition_count)", leases.count)
                m.gauge("dongfeng_redis_partitions_held", "Tick partitions whose lease this gateway holds", leases.owned.withLock { $0.count })
                m.counter("dongfeng_redis_partition_takeovers_total", "Partitions taken over after their gateway's lease lapsed",
                          leases.takeovers.load(ordering: .relaxed))
            }
            m.header("dongfeng_http_requests_total", "HTTP requests answered, by route and status", "counter")
            for (key, n) in http.requests.snapshot.sorted(by: { ($0.key.route, $0.key.status) < ($1.key.route, $1.key.status) }) {
                let labels = http.labels(key.route)
                m.sample("dongfeng_http_requests_total",
                         [("method", labels.method), ("route", labels.route), ("status", String(key.status))], n)
            }

            var stages: [(String, LatencySnapshot)] = []
            let pipeline = s.latency
            for (i, name) in pipeline.stages.enumerated() { stages.append((name, pipeline.snapshot(i, nowNs: nowNs))) }
            var wsWrite = LatencySnapshot()
            for b in broadcasters { wsWrite.add(b.latency.snapshot(0, nowNs: nowNs)) }
            stages.append(("ws_write", wsWrite))
            m.latency("dongfeng_stage_latency_seconds",
                      "Time from a tick reaching the server to: its processing (tick), the features, signal and opportunity it made (published after the journal commit), and the last subscriber's WebSocket write (ws_write)",
                      label: "stage", stages)
            m.latency("dongfeng_http_request_duration_seconds", "From a request's head parsed to its response queued",
                      label: nil, [("", http.snapshot(nowNs: nowNs))])

            m.gauge("dongfeng_resident_memory_bytes", "Resident set size", Int(dfl_rss_bytes()))
            m.gauge("dongfeng_uptime_seconds", "Seconds since start", Int((dfl_monotonic_ms() - startedAtMs) / 1000))
            m.process(ProcessFigures.now(startedAtMs: startedAtMs))
            m.header("dongfeng_build_info", "The running build: version and commit", "gauge")
            m.sample("dongfeng_build_info", [("version", DongfengVersion.current), ("commit", BuildInfo.commit)], 1)
            var headers = HTTPHeaders()
            headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            headers.add("Cache-Control", "no-store")
            return Response(status: 200, headers: headers, body: Array(m.text.utf8))
        } })
    }
}

/// The Prometheus text format, line by line.
struct PrometheusText {
    private(set) var text = ""

    mutating func counter(_ name: String, _ help: String, _ value: Int) { metric(name, help, "counter", "\(value)") }
    mutating func gauge(_ name: String, _ help: String, _ value: Int) { metric(name, help, "gauge", "\(value)") }
    mutating func counter(_ name: String, _ help: String, _ value: Double) { metric(name, help, "counter", Self.number(value)) }
    mutating func gauge(_ name: String, _ help: String, _ value: Double) { metric(name, help, "gauge", Self.number(value)) }

    private mutating func metric(_ name: String, _ help: String, _ type: String, _ value: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
    }

    /// The process metrics every Prometheus client library exports, under their standard names
    /// (dashboards and alerts written for any service read them as they are).
    mutating func process(_ p: ProcessFigures) {
        counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", p.cpuSeconds)
        gauge("process_resident_memory_bytes", "Resident memory size in bytes.", p.residentBytes)
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", p.virtualBytes)
        gauge("process_open_fds", "Number of open file descriptors.", p.openFDs)
        gauge("process_max_fds", "Maximum number of open file descriptors.", p.maxFDs)
        gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", p.startTimeSeconds)
    }

    mutating func labelled(_ name: String, _ help: String, _ type: String = "counter", _ label: String, _ values: [String: Int]) {
        labelled(name, help, label, values, type: type)
    }

    mutating func labelled(_ name: String, _ help: String, _ label: String, _ values: [String: Int], type: String = "counter") {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            text += "\(name){\(label)=\"\(Self.escape(key))\"} \(value)\n"
        }
    }

    mutating func header(_ name: String, _ help: String, _ type: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " \(value)\n"
    }

    /// Live scorecards: per strategy and horizon, hit rate, mean forward return (bps) and how
    /// many scored signals they cover.
    mutating func liveScores(_ scores: [String: ScoreCard]) {
        let names = scores.keys.sorted()
        let families: [(String, String, (ScoreCard.Horizon) -> Double?)] = [
            ("dongfeng_strategy_hit_rate", "Share of the latest scored signals whose forward return was positive", { $0.hitRate }),
            ("dongfeng_strategy_forward_return_bps", "Mean forward return of the latest scored signals, basis points", { $0.meanBps }),
            ("dongfeng_strategy_scored_signals", "Scored signals the live scorecard covers", { Double($0.count) }),
        ]
        for (name, help, value) in families {
            header(name, help, "gauge")
            for strategy in names {
                for h in scores[strategy]!.horizons {
                    guard let v = value(h) else { continue }
                    text += "\(name){strategy=\"\(Self.escape(strategy))\",horizon=\"\(h.bars)\"} \(Self.number(v))\n"
                }
            }
        }
    }

    static let quantiles: [Double] = [0.5, 0.9, 0.99, 0.999]

    /// The `le` label of each bucket bound, formatted once.
    static let bucketLabels: [String] = LatencyRecorder.bucketBoundsNs.map { "le=\"\(number(Double($0) / 1e9))\"" }
    static let quantileLabels: [(Double, String)] = quantiles.map { ($0, "quantile=\"\(number($0))\"") }

    /// A latency family twice over: a cumulative histogram `name` (buckets, `_sum`, `_count`,
    /// for `histogram_quantile` over `rate`), and a summary `name` + `_recent` whose quantiles
    /// cover the last 10–20 s (what `dongfeng top` shows). Label strings are built once per
    /// series (a scrape writes a few hundred of these lines).
    mutating func latency(_ name: String, _ help: String, label: String?, _ series: [(String, LatencySnapshot)]) {
        func labels(_ own: String, _ extra: String) -> String {
            own.isEmpty ? "{\(extra)}" : "{\(own),\(extra)}"
        }
        header(name, help, "histogram")
        for (value, snapshot) in series {
            let own = label.map { "\($0)=\"\(Self.escape(value))\"" } ?? ""
            let plain = own.isEmpty ? "" : "{\(own)}"
            for (i, (_, count)) in snapshot.cumulativeBuckets.enumerated() {
                text += name + "_bucket" + labels(own, Self.bucketLabels[i]) + " " + String(count) + "\n"
            }
            text += name + "_bucket" + labels(own, "le=\"+Inf\"") + " " + String(snapshot.count) + "\n"
            text += name + "_sum" + plain + " " + Self.number(Double(snapshot.sumNs) / 1e9) + "\n"
            text += name + "_count" + plain + " " + String(snapshot.count) + "\n"
        }
        let recent = name + "_recent"
        header(recent, help + " (quantiles of the last 10-20 s)", "summary")
        for (value, snapshot) in series {
            let own = label.map { "\($0)=\"\(Self.escape(value))\"" } ?? ""
            let plain = own.isEmpty ? "" : "{\(own)}"
            let values = snapshot.recentQuantiles(Self.quantiles)
            for (i, (_, quantileLabel)) in Self.quantileLabels.enumerated() {
                let v = values[i].map { Self.number(Double($0) / 1e9) } ?? "NaN"
                text += recent + labels(own, quantileLabel) + " " + v + "\n"
            }
            text += recent + "_sum" + plain + " " + Self.number(Double(snapshot.sumNs) / 1e9) + "\n"
            text += recent + "_count" + plain + " " + String(snapshot.count) + "\n"
        }
    }

    /// A float as Prometheus reads it (no exponent surprises for small values).
    static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
