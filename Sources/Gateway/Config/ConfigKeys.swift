/// The table of every key: the single source of truth for the file format, the environment
/// variables, validation, docs/CONFIG.md and `--help`. Adding a setting = a field in
/// `GatewayConfig` + one line here + the key in Config/dongfeng.json (tests check all three).
enum ConfigKeys {
    typealias C = GatewayConfig
    typealias Info = ConfigKeyInfo

    static let all: [ConfigKeyInfo] = [
        string("server.host", alias: "DFP_HOST", \.server.host, "Address to listen on (IPv4, IPv6 or a host name)."),
        int("server.port", alias: "DFP_PORT", \.server.port, 0...65535, "HTTPS port; 0 picks a free port and logs it."),
        int("server.loops", \.server.loops, 1...64, "Reactor loops, one thread each; more than 1 requires server.reuse_port."),
        bool("server.reuse_port", \.server.reusePort, "Bind each loop's socket with SO_REUSEPORT (the kernel balances accepts)."),
        int("server.max_connections", \.server.maxConnections, 1...1_000_000, "Open connections at most; further ones are accepted and closed at once."),
        int("server.backlog", \.server.backlog, 1...65535, "listen() backlog."),

        optional("tls.cert", alias: "DFP_CERT", \.tls.cert, "Certificate chain PEM file; give with tls.key or not at all. Unset: a development pair in tls.cert_dir, generated at first start."),
        optional("tls.key", alias: "DFP_KEY", \.tls.key, "Private key PEM file for tls.cert."),
        string("tls.cert_dir", \.tls.certDir, "Where the development certificate is kept (dev-cert.pem, dev-key.pem)."),
        seconds("tls.handshake_timeout_s", \.tls.handshakeTimeoutSeconds, above: 0, max: 300, "A TLS handshake must finish within this."),
        bool("tls.session_tickets", \.tls.sessionTickets, "Issue stateless TLS session tickets (faster reconnects)."),
        choice("tls.min_version", \.tls.minVersion, ["1.2", "1.3"], "Oldest TLS version accepted."),
        int("tls.hsts_max_age_s", \.tls.hstsMaxAgeSeconds, 0...63_072_000, "Strict-Transport-Security max-age on HTTPS responses; 0 = not sent. Sent only when tls.cert is configured: with the generated development certificate it would pin every port of the host (localhost) to HTTPS in the browser."),

        bool("plain_http.enabled", \.plainHTTP.enabled, "Also listen for plain HTTP."),
        int("plain_http.port", \.plainHTTP.port, 0...65535, "Plain HTTP port; must differ from server.port unless either is 0."),
        choice("plain_http.mode", \.plainHTTP.mode, ["redirect", "serve"], "redirect: answer 308 to the HTTPS URL; serve: the same routes as HTTPS."),

        int("http.max_header_bytes", \.http.maxHeaderBytes, 1024...1_048_576, "Request line + headers at most (else 431)."),
        int("http.max_headers", \.http.maxHeaders, 1...1000, "Header fields at most (else 431)."),
        int("http.max_uri_bytes", \.http.maxURIBytes, 256...1_048_576, "Request target at most (else 414); at most http.max_header_bytes."),
        int("http.max_body_bytes", \.http.maxBodyBytes, 0...(1 << 30), "Request body at most (else 413)."),
        seconds("http.header_timeout_s", \.http.headerTimeoutSeconds, above: 0, max: 3600, "A request head must arrive within this from its first byte (else 408)."),
        seconds("http.keepalive_idle_s", \.http.keepAliveIdleSeconds, above: 0, max: 86_400, "An idle keep-alive connection is closed after this."),
        int("http.max_write_queue_bytes", \.http.maxWriteQueueBytes, 65_536...(1 << 30), "Per-connection backpressure cap on response bytes queued for a slow client."),
        int("http.max_pipelined_requests", \.http.maxPipelinedRequests, 1...1024, "Pipelined requests read ahead on one connection at most."),
        origins("http.cors.allowed_origins", \.http.cors.allowedOrigins, "CORS allow-list: [] = CORS off, [\"*\"] = any origin. Environment: comma-separated."),

        string("static.root", \.staticFiles.root, "Folder served at / (the page and its assets)."),
        string("static.cache_control", \.staticFiles.cacheControl, "Cache-Control of assets (HTML always revalidates)."),
        bool("static.gzip", \.staticFiles.gzip, "Serve gzip variants to clients that accept them."),
        int("static.max_file_bytes", \.staticFiles.maxFileBytes, 1...(1 << 30), "Files larger than this are not served."),

        secret("admin.token", alias: "DFP_ADMIN_TOKEN", \.admin.token, minLength: 16, "Bearer token for /admin/*; never printed. Unset: admin from loopback only. Prefer the environment variable to the file."),

        secret("api.ingest_key", alias: "DFP_INGEST_API_KEY", \.api.ingestKey, minLength: 16, "When set, POST /api/v1/ticks and WebSocket tick ingest need it in the X-API-Key header (WebSocket: at the upgrade); never printed."),

        int("websocket.max_message_bytes", \.webSocket.maxMessageBytes, 125...(64 << 20), "A client message at most, after inflating (else close 1009)."),
        int("websocket.outbound_cap_bytes", \.webSocket.outboundCapBytes, 4096...(1 << 30), "Bytes queued for one client at most: lossy channels (ticks, bars, features) drop, sequenced ones close 1013 so the client resumes with since_seq (or its cursor across gateways)."),
        int("websocket.max_symbols", \.webSocket.maxSymbols, 1...100_000, "Symbols one subscription may name (WebSocket subscribe or the upgrade's symbols parameter) at most; more is refused as invalid_subscription / 400 invalid_parameter."),
        seconds("websocket.ping_interval_s", \.webSocket.pingIntervalSeconds, above: 0, max: 3600, "Seconds between server pings and heartbeats."),
        seconds("websocket.idle_timeout_s", \.webSocket.idleTimeoutSeconds, above: 0, max: 86_400, "A client that sends nothing (not even a pong) this long is closed with 1001."),
        seconds("websocket.message_timeout_s", \.webSocket.messageTimeoutSeconds, above: 0, max: 3600, "A client message (all its fragments) must arrive within this many seconds of its first byte, else close 1008: a trickled or never-finished message cannot hold its buffer."),
        origins("websocket.allowed_origins", \.webSocket.allowedOrigins, "Browser origins allowed to open a WebSocket besides the server's own host: [\"*\"] = any. Environment: comma-separated."),

        seconds("shutdown.grace_s", \.shutdown.graceSeconds, from: 0, max: 300, "On SIGTERM/SIGINT, time to finish in-flight responses before closing."),

        choice("log.level", alias: "DFP_LOG_LEVEL", \.log.level, ["trace", "debug", "info", "notice", "warning", "error", "critical"], "Least severe level logged."),
        bool("log.access_log", \.log.accessLog, "Log one line per request (with its request id); switchable at runtime with PUT /admin/log."),
        choice("log.format", alias: "DFP_LOG_FORMAT", \.log.format, ["logfmt", "json"], "Log line format on stderr: logfmt (key=value) or json (one object per line)."),

        string("pipeline.interval", \.pipeline.interval, "Primary bar interval: a number and ms, s, m, h or d (1s for the demo, 1m in production)."),
        int("pipeline.bar_grace_ms", \.pipeline.barGraceMs, 0...600_000, "A live bar closes this long after its end when no later tick arrived."),
        string("pipeline.strategies_file", \.pipeline.strategiesFile, "Strategies and rules (see the file's _doc); missing file = built-in defaults."),
        seconds("pipeline.opportunity_ttl_s", \.pipeline.opportunityTTLSeconds, above: 0, max: 86_400, "An opportunity expires this long after its last signal (market time)."),
        seconds("pipeline.cooldown_s", \.pipeline.cooldownSeconds, from: 0, max: 86_400, "After an opportunity expires, the same symbol and direction wait this long before a new one."),
        int("pipeline.history_events", \.pipeline.historyEvents, 100...1_000_000, "Signals, opportunity events and alerts kept in memory, each, for REST and resume; older ones are read from the journal."),
        string("pipeline.score_horizons", \.pipeline.scoreHorizons, "Live signal scoring: forward-return horizons in bars, comma-separated, ascending (each 1…10000); GET /api/v1/strategies shows each strategy's hit rate and mean forward return at each."),
        int("pipeline.score_window", \.pipeline.scoreWindow, 10...100_000, "Live scorecards cover each strategy's last this many signals scored at a horizon."),
        bool("markets.enabled", \.markets.enabled, "Put each symbol on its venue's clock (docs/MARKETS.md): bars follow the venue's sessions and trading days, ticks outside them raise off_session and stay out of bars, stale_feed only in session. Off: UTC clock buckets around the clock."),
        optional("markets.file", \.markets.file, "Venue settings, symbol-to-venue mappings and the holidays file over the built-in venues (SSE, SZSE, BSE, HKEX, US, CRYPTO); unset or missing file = the built-ins. A bad file refuses the start, naming the key or line."),
        int("simulator.ticks_per_second", \.simulator.ticksPerSecond, 1...1_000_000, "Simulated ticks per second over all the symbols trading at the moment."),
        int("simulator.seed", \.simulator.seed, 0...Int.max, "Seed of the simulated market: the same seed gives the same ticks."),
        int("simulator.speed", \.simulator.speed, 1...10_000, "Simulated market time runs this many times the wall clock: 1 = real time (venues trade in their own hours), 60 = an hour a minute (a trading day in minutes; the dates run ahead of the calendar)."),
        string("simulator.symbols", \.simulator.symbols, "Comma-separated symbols to simulate; * = the eight built-in A-shares, and with markets.enabled also 0700.HK, 9988.HK, AAPL, MSFT, NVDA and BTC-USDT, each trading in its venue's sessions (others start at 100.00)."),

        bool("journal.enabled", \.journal.enabled, "Journal every signal, opportunity and alert in data_dir/journal: seq survives restarts and nothing a client received is lost."),
        choice("journal.fsync", \.journal.fsync, ["always", "interval", "never"], "When journal writes reach the disk: always (sync per batch; nothing lost on a machine crash), interval (group commit: at most journal.fsync_interval_ms lost), never (the kernel decides, ~30 s). A process crash loses nothing in any mode."),
        int("journal.fsync_interval_ms", \.journal.fsyncIntervalMs, 1...10_000, "Group-commit window of journal.fsync = interval."),
        int("journal.segment_mb", \.journal.segmentMB, 1...4096, "Journal segment size before a new one is started."),
        int("journal.retention_mb", \.journal.retentionMB, 1...1_048_576, "Oldest journal segments are deleted past this total size."),
        int("journal.retention_hours", \.journal.retentionHours, 0...87_600, "Journal segments older than this are deleted (0 = keep by size only)."),
        bool("journal.inputs", \.journal.inputs, "Journal the engine's inputs (data_dir/inputs: each tick with its wall time, each clock step that closed a bar) after the last checkpoint, so a restart after a crash replays them onto the checkpoint and goes on exactly where the engine was."),
        int("journal.checkpoint_interval_s", \.journal.checkpointIntervalS, 1...3600, "Seconds between engine checkpoints (data_dir/checkpoint.dfc: indicators, open bars, opportunity episodes, risk holds), written off the pipeline thread while ticks arrive; a restart replays the inputs journaled since the last one."),

        optional("redis.url", alias: "DFP_REDIS_URL", \.redis.url, "Redis for the Streams bridge, redis://host:port; unset = no Redis (the embedded default needs none)."),
        int("redis.stream_maxlen", \.redis.streamMaxLength, 1_000...100_000_000, "Approximate length cap (XADD MAXLEN ~) of the dfp:strategy_signals and dfp:opportunities streams."),

        bool("redis.source", \.redis.source, "With redis.url: read ticks from dfp:clean_ticks (XREADGROUP in a consumer group, XACK once processed and journaled)."),
        string("redis.group", \.redis.group, "Consumer group of the tick streams."),
        optional("redis.consumer", \.redis.consumer, "This gateway's name: its consumer in the tick group, and the origin named by its sequenced events and in resume cursors (keep it stable across restarts, with the journal it numbers; no commas or spaces); unset = host name and process id."),
        optional("redis.partitions", \.redis.partitions, "Tick partitions this instance reads, e.g. 0,3,5 for dfp:clean_ticks:0, :3, :5 (on a cluster dfp:clean_ticks:{0}, {3}, {5}: hash-tagged); unset = the single dfp:clean_ticks."),
        bool("redis.peers", \.redis.peers, "Multi-instance: read the other gateways' opportunities from the dfp:opportunities stream, keep their recent ones for cursor resumes, and deliver them to this gateway's WebSocket clients."),
        int("redis.claim_idle_ms", \.redis.claimIdleMs, 100...86_400_000, "Entries another consumer left unacknowledged this long are taken over (XAUTOCLAIM)."),
        int("redis.partition_count", \.redis.partitionCount, 0...4096, "Fail-over: the tick partitions there are in all (dfp:clean_ticks:0 … :N-1), leased between gateways in Redis (dfp:lease:{p}). A gateway holds the partitions in redis.partitions and any other whose lease lapsed (its gateway died), taking over that gateway's pending ticks, and hands those back when their gateway returns. 0 = read redis.partitions only, no fail-over."),
        bool("redis.cluster", \.redis.cluster, "redis.url is one node of a Redis Cluster: the slot map is read from it (CLUSTER SLOTS), each command goes to the master of its key's slot (MOVED and ASK followed), and after a failover the links follow the promoted replica."),
        int("redis.lease_ms", \.redis.leaseMs, 300...600_000, "Fail-over: a partition lease's time to live, renewed every third of it; a gateway silent this long loses its partitions to the others."),

        bool("testing.websocket_echo", \.testing.websocketEcho, "Test-only: WebSocket upgrades on / echo every message (for the Autobahn conformance run). Keep off in production."),

        choice("feed", alias: "DFP_FEED", \.feed, ["simulator", "none", "replay:FILE"], "Market data source: the built-in simulator, none (ticks from clients), or replay:FILE — a recorded tick or OHLCV file played into the live pipeline at replay.speed times its own clock (docs/MARKETS.md)."),
        int("replay.speed", \.replay.speed, 1...1_000_000, "feed replay:FILE: market time runs this many times the wall clock's pace (60 = an hour a minute)."),
        bool("replay.loop", \.replay.loop, "feed replay:FILE: start again at the end, each pass shifted a whole number of weeks later (ticks stay in time order, sessions and weekdays line up); off: the feed reports finished and market time stops."),
        string("data_dir", alias: "DFP_DATA_DIR", \.dataDir, "Data directory (journal, engine inputs, checkpoint)."),
    ]

    // MARK: - Row builders

    private static func aliases(_ alias: String?) -> [String] { alias.map { [$0] } ?? [] }

    private static func string(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, String> & Sendable,
                               _ doc: String) -> Info {
        text(key, alias: alias, kp, .string, doc)
    }

    private static func choice(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, String> & Sendable,
                               _ options: [String], _ doc: String) -> Info {
        text(key, alias: alias, kp, .choice(options), doc)
    }

    private static func text(_ key: String, alias: String?, _ kp: WritableKeyPath<C, String> & Sendable,
                             _ kind: Info.Kind, _ doc: String) -> Info {
        Info(key: key, aliases: aliases(alias), kind: kind, doc: doc,
             get: { .string($0[keyPath: kp]) },
             set: { c, v in if case .string(let s) = v { c[keyPath: kp] = s } })
    }

    private static func optional(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, String?> & Sendable,
                                 _ doc: String) -> Info {
        nullable(key, alias: alias, kp, .optionalString, doc)
    }

    private static func secret(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, String?> & Sendable,
                               minLength: Int, _ doc: String) -> Info {
        nullable(key, alias: alias, kp, .secret(minLength: minLength), doc)
    }

    private static func nullable(_ key: String, alias: String?, _ kp: WritableKeyPath<C, String?> & Sendable,
                                 _ kind: Info.Kind, _ doc: String) -> Info {
        Info(key: key, aliases: aliases(alias), kind: kind, doc: doc,
             get: { $0[keyPath: kp].map(ConfigValue.string) ?? .null },
             set: { c, v in
                 switch v {
                 case .string(let s): c[keyPath: kp] = s
                 case .null: c[keyPath: kp] = nil
                 default: break
                 }
             })
    }

    private static func int(_ key: String, alias: String? = nil, _ kp: WritableKeyPath<C, Int> & Sendable,
                            _ range: ClosedRange<Int>, _ doc: String) -> Info {
        Info(key: key, aliases: aliases(alias), kind: .int(range), doc: doc,
             get: { .int($0[keyPath: kp]) },
             set: { c, v in if case .int(let i) = v { c[keyPath: kp] = i } })
    }

    private static func seconds(_ key: String, _ kp: WritableKeyPath<C, Double> & Sendable,
                                above min: Double, max: Double, _ doc: String) -> Info {
        seconds(key, kp, .seconds(min: min, minExclusive: true, max: max), doc)
    }

    private static func seconds(_ key: String, _ kp: WritableKeyPath<C, Double> & Sendable,
                                from min: Double, max: Double, _ doc: String) -> Info {
        seconds(key, kp, .seconds(min: min, minExclusive: false, max: max), doc)
    }

    private static func seconds(_ key: String, _ kp: WritableKeyPath<C, Double> & Sendable,
                                _ kind: Info.Kind, _ doc: String) -> Info {
        Info(key: key, aliases: [], kind: kind, doc: doc,
             get: { .double($0[keyPath: kp]) },
             set: { c, v in if case .double(let d) = v { c[keyPath: kp] = d } })
    }

    private static func bool(_ key: String, _ kp: WritableKeyPath<C, Bool> & Sendable, _ doc: String) -> Info {
        Info(key: key, aliases: [], kind: .bool, doc: doc,
             get: { .bool($0[keyPath: kp]) },
             set: { c, v in if case .bool(let b) = v { c[keyPath: kp] = b } })
    }

    private static func origins(_ key: String, _ kp: WritableKeyPath<C, [String]> & Sendable, _ doc: String) -> Info {
        Info(key: key, aliases: [], kind: .origins, doc: doc,
             get: { .array($0[keyPath: kp].map(ConfigValue.string)) },
             set: { c, v in
                 if case .array(let items) = v {
                     c[keyPath: kp] = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
                 }
             })
    }
}
