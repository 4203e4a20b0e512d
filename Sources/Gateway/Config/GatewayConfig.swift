/// Every setting of the server, with its built-in default.
///
/// Loaded by `ConfigLoader` from, in order of precedence: command-line flags, `DFP_*`
/// environment variables, the JSON file, these defaults. The keys, their ranges and their
/// documentation live in one table, `ConfigLoader.keys`; docs/CONFIG.md is generated from it.
public struct GatewayConfig: Sendable, Equatable {
    /// The listening socket and the reactor loops (`server.*`).
    public struct Server: Sendable, Equatable {
        /// Address to listen on (`server.host`).
        public var host = "127.0.0.1"
        /// HTTPS port, 0...65535; 0 picks a free port (`server.port`).
        public var port = 8443
        /// Reactor loops, 1...64; more than 1 requires `reusePort` (`server.loops`).
        public var loops = 1
        /// Bind with SO_REUSEPORT (`server.reuse_port`).
        public var reusePort = false
        /// Open connections at most, 1...1_000_000 (`server.max_connections`).
        public var maxConnections = 10_000
        /// `listen()` backlog, 1...65535 (`server.backlog`).
        public var backlog = 1024
        /// The defaults.
        public init() {}
    }

    /// TLS (`tls.*`).
    public struct TLS: Sendable, Equatable {
        /// Certificate chain PEM path; set together with `key` or not at all (`tls.cert`).
        public var cert: String? = nil
        /// Private key PEM path (`tls.key`).
        public var key: String? = nil
        /// Where the development certificate lives when `cert`/`key` are unset (`tls.cert_dir`).
        public var certDir = "certs"
        /// Handshake deadline in seconds, > 0 and ≤ 300 (`tls.handshake_timeout_s`).
        public var handshakeTimeoutSeconds = 10.0
        /// Issue stateless session tickets (`tls.session_tickets`).
        public var sessionTickets = true
        /// Oldest protocol accepted: "1.2" or "1.3" (`tls.min_version`).
        public var minVersion = "1.2"
        /// Strict-Transport-Security max-age on HTTPS responses, 0...63_072_000; 0 = not sent.
        /// Sent only with a configured certificate (`tls.hsts_max_age_s`).
        public var hstsMaxAgeSeconds = 31_536_000
        /// The defaults.
        public init() {}
    }

    /// The optional plain-HTTP listener (`plain_http.*`).
    public struct PlainHTTP: Sendable, Equatable {
        /// Listen for plain HTTP too (`plain_http.enabled`).
        public var enabled = false
        /// Its port; must differ from `server.port` unless one of them is 0 (`plain_http.port`).
        public var port = 8080
        /// "redirect" (308 to HTTPS) or "serve" (same routes) (`plain_http.mode`).
        public var mode = "redirect"
        /// The defaults.
        public init() {}
    }

    /// CORS (`http.cors.*`).
    public struct CORS: Sendable, Equatable {
        /// Allowed origins: [] = CORS off, ["*"] = any origin (`http.cors.allowed_origins`).
        public var allowedOrigins: [String] = []
        /// The defaults.
        public init() {}
    }

    /// HTTP/1.1 limits and timeouts (`http.*`).
    public struct HTTP: Sendable, Equatable {
        /// Request line + headers at most, 1024...1_048_576 (`http.max_header_bytes`).
        public var maxHeaderBytes = 16_384
        /// Header fields at most, 1...1000 (`http.max_headers`).
        public var maxHeaders = 100
        /// Request target at most, 256...`maxHeaderBytes` (`http.max_uri_bytes`).
        public var maxURIBytes = 8_192
        /// Request body at most, 0...1 GiB (`http.max_body_bytes`).
        public var maxBodyBytes = 1_048_576
        /// Seconds for a whole request head to arrive (`http.header_timeout_s`).
        public var headerTimeoutSeconds = 10.0
        /// Seconds before an idle keep-alive connection is closed (`http.keepalive_idle_s`).
        public var keepAliveIdleSeconds = 60.0
        /// Per-connection backpressure cap on queued response bytes, ≥ 64 KiB (`http.max_write_queue_bytes`).
        public var maxWriteQueueBytes = 4_194_304
        /// Requests read ahead on one connection at most (`http.max_pipelined_requests`).
        public var maxPipelinedRequests = 64
        /// CORS settings.
        public var cors = CORS()
        /// The defaults.
        public init() {}
    }

    /// The page and its assets (`static.*`).
    public struct Static: Sendable, Equatable {
        /// Folder served at / (`static.root`).
        public var root = "Public"
        /// Cache-Control of assets (`static.cache_control`).
        public var cacheControl = "public, max-age=3600"
        /// Serve gzip variants (`static.gzip`).
        public var gzip = true
        /// Larger files are not served (`static.max_file_bytes`).
        public var maxFileBytes = 8_388_608
        /// The defaults.
        public init() {}
    }

    /// The admin endpoints (`admin.*`).
    public struct Admin: Sendable, Equatable {
        /// Bearer token, at least 16 characters when set; never printed (`admin.token`).
        public var token: String? = nil
        /// The defaults.
        public init() {}
    }

    /// WebSocket streaming limits (`websocket.*`, docs/CONTRACTS.md, "WebSocket limits").
    public struct WebSocket: Sendable, Equatable {
        /// A client message at most, after inflating, else close 1009 (`websocket.max_message_bytes`).
        public var maxMessageBytes = 1_048_576
        /// Bytes queued for one client at most: lossy channels drop beyond it, sequenced ones
        /// close with 1013 (`websocket.outbound_cap_bytes`).
        public var outboundCapBytes = 1_048_576
        /// Symbols one subscription may name, else `invalid_subscription` (`websocket.max_symbols`).
        public var maxSymbols = 1000
        /// Seconds between server pings and heartbeats (`websocket.ping_interval_s`).
        public var pingIntervalSeconds = 30.0
        /// A client silent this long is closed with 1001 (`websocket.idle_timeout_s`).
        public var idleTimeoutSeconds = 120.0
        /// A message must arrive whole within this many seconds of its first byte, else close
        /// 1008 (`websocket.message_timeout_s`).
        public var messageTimeoutSeconds = 30.0
        /// Browser origins allowed besides the server's own host; ["*"] = any (`websocket.allowed_origins`).
        public var allowedOrigins: [String] = []
        /// The defaults.
        public init() {}
    }

    /// Ingest access (`api.*`).
    public struct API: Sendable, Equatable {
        /// When set, tick ingest (REST and WebSocket) needs this key in `X-API-Key` (`api.ingest_key`).
        public var ingestKey: String? = nil
        /// The defaults.
        public init() {}
    }

    /// Graceful shutdown (`shutdown.*`).
    public struct Shutdown: Sendable, Equatable {
        /// Seconds to finish in-flight work after SIGTERM/SIGINT, 0...300 (`shutdown.grace_s`).
        public var graceSeconds = 10.0
        /// The defaults.
        public init() {}
    }

    /// Logging (`log.*`).
    public struct Log: Sendable, Equatable {
        /// trace | debug | info | notice | warning | error | critical (`log.level`).
        public var level = "info"
        /// One line per request (`log.access_log`).
        public var accessLog = false
        /// logfmt | json: one structured line per record on stderr (`log.format`).
        public var format = "logfmt"
        /// The defaults.
        public init() {}
    }

    /// `server.*`
    public var server = Server()
    /// `tls.*`
    public var tls = TLS()
    /// `plain_http.*`
    public var plainHTTP = PlainHTTP()
    /// `http.*`
    public var http = HTTP()
    /// `static.*`
    public var staticFiles = Static()
    /// `admin.*`
    public var admin = Admin()
    /// `websocket.*`
    public var webSocket = WebSocket()
    /// `api.*`
    public var api = API()
    /// `shutdown.*`
    public var shutdown = Shutdown()
    /// `log.*`
    public var log = Log()
    /// The signal pipeline (`pipeline.*`).
    public struct Pipeline: Sendable, Equatable {
        /// Primary bar interval, e.g. "1s", "1m" (`pipeline.interval`).
        public var interval = "1s"
        /// Live bars close this long after their end when no later tick came (`pipeline.bar_grace_ms`).
        public var barGraceMs = 250
        /// Strategies file (`pipeline.strategies_file`).
        public var strategiesFile = "Config/strategies.json"
        /// Opportunity TTL after its last signal (`pipeline.opportunity_ttl_s`).
        public var opportunityTTLSeconds = 300.0
        /// Cool-down before a new episode of the same symbol and direction (`pipeline.cooldown_s`).
        public var cooldownSeconds = 60.0
        /// Signals, opportunity events and alerts kept in memory, each (`pipeline.history_events`).
        public var historyEvents = 10_000
        /// Live scoring horizons in bars, comma-separated (`pipeline.score_horizons`).
        public var scoreHorizons = "1,5,20"
        /// Scored signals per strategy and horizon in a live scorecard (`pipeline.score_window`).
        public var scoreWindow = 200
        /// The defaults.
        public init() {}
    }

    /// Venues, sessions and holidays (`markets.*`, docs/MARKETS.md).
    public struct Markets: Sendable, Equatable {
        /// Bars on each venue's sessions, off-session flags, time checks in session only (`markets.enabled`).
        public var enabled = true
        /// Venue settings, symbol mappings and the holidays file over the built-ins (`markets.file`).
        public var file: String? = "Config/markets.json"
        /// The defaults.
        public init() {}
    }

    /// The built-in market simulator (`simulator.*`).
    public struct Simulator: Sendable, Equatable {
        /// Ticks per second over all symbols (`simulator.ticks_per_second`).
        public var ticksPerSecond = 200
        /// Random seed: the same seed gives the same market (`simulator.seed`).
        public var seed = 20_241_125
        /// Comma-separated symbols; "*" = the eight built-in ones (`simulator.symbols`).
        public var symbols = "*"
        /// Market time runs this many times the wall clock (`simulator.speed`): 1 = real time.
        public var speed = 1
        /// The defaults.
        public init() {}
    }

    /// The event journal in `data_dir`/journal (`journal.*`).
    public struct Journal: Sendable, Equatable {
        /// Journal every signal, opportunity and alert (`journal.enabled`).
        public var enabled = true
        /// always | interval | never (`journal.fsync`).
        public var fsync = "interval"
        /// Group-commit window for `interval` (`journal.fsync_interval_ms`).
        public var fsyncIntervalMs = 10
        /// Segment size before roll-over, MiB (`journal.segment_mb`).
        public var segmentMB = 64
        /// Oldest segments are deleted past this total, MiB (`journal.retention_mb`).
        public var retentionMB = 1024
        /// ...or past this age, hours; 0 = no age limit (`journal.retention_hours`).
        public var retentionHours = 168
        /// Journal the engine's inputs after the last checkpoint, for an exact restart (`journal.inputs`).
        public var inputs = true
        /// Seconds between engine checkpoints (`journal.checkpoint_interval_s`).
        public var checkpointIntervalS = 5
        /// The defaults.
        public init() {}
    }

    /// The Redis Streams bridge (`redis.*`); off unless `redis.url` is set.
    public struct Redis: Sendable, Equatable {
        /// `redis://host:port` (or `host:port`); nil = no Redis (`redis.url`).
        public var url: String? = nil
        /// Approximate length cap of the dfp:* streams (`redis.stream_maxlen`).
        public var streamMaxLength = 100_000
        /// Read ticks from dfp:clean_ticks in a consumer group (`redis.source`).
        public var source = true
        /// Consumer group name (`redis.group`).
        public var group = "dongfeng"
        /// This gateway's name (consumer, origin of its events, cursor key); nil = host name and process id (`redis.consumer`).
        public var consumer: String? = nil
        /// Partitions this instance reads, "0,3,5" → dfp:clean_ticks:{p}; nil = dfp:clean_ticks (`redis.partitions`).
        public var partitions: String? = nil
        /// Entries another consumer left pending this long are taken over (`redis.claim_idle_ms`).
        public var claimIdleMs = 30_000
        /// Partitions in all, leased between gateways for fail-over; 0 = fixed partitions (`redis.partition_count`).
        public var partitionCount = 0
        /// A partition lease's time to live, renewed every third of it (`redis.lease_ms`).
        public var leaseMs = 3_000
        /// redis.url names one node of a Redis Cluster (`redis.cluster`).
        public var cluster = false
        /// Read other gateways' opportunities (dfp:opportunities) for this one's WebSocket clients (`redis.peers`).
        public var peers = true
        /// The defaults.
        public init() {}
    }

    /// Test-only switches (`testing.*`).
    public struct Testing: Sendable, Equatable {
        /// Answer WebSocket upgrades on "/" with an echo session (Autobahn conformance runs).
        public var websocketEcho = false
        /// The defaults.
        public init() {}
    }

    /// `pipeline.*`
    public var pipeline = Pipeline()
    /// `testing.*`
    public var testing = Testing()
    /// `journal.*`
    public var journal = Journal()
    /// `redis.*`
    public var redis = Redis()
    /// `markets.*`
    public var markets = Markets()
    /// A recorded file as the live feed (`feed` = "replay:FILE"; `replay.*`).
    public struct Replay: Sendable, Equatable {
        /// Market time runs this many times the wall clock's pace (`replay.speed`).
        public var speed = 1
        /// Start again at the end, shifted by whole weeks (`replay.loop`).
        public var loop = false
        /// The defaults.
        public init() {}
    }
    /// `replay.*`
    public var replay = Replay()
    /// `simulator.*`
    public var simulator = Simulator()
    /// Market data source: "simulator", "none" or "replay:FILE" (`feed`).
    public var feed = "simulator"
    /// Data directory (`data_dir`).
    public var dataDir = "./data"

    /// The built-in defaults (the same values as Config/dongfeng.json).
    public init() {}

    /// The configuration as pretty JSON in the layout of Config/dongfeng.json (same sections,
    /// same key order), for `--print-config` and logs. Secrets are shown as `"***"`.
    public func redactedJSON() -> String {
        var root = ConfigJSONTree()
        for info in ConfigLoader.keys {
            let value = info.secret && info.jsonValue(of: self) != .null ? .string("***") : info.jsonValue(of: self)
            root.insert(value, at: info.key.split(separator: ".").map(String.init))
        }
        return root.render(indent: "")
    }
}

/// An ordered JSON object tree, built from dotted keys.
private struct ConfigJSONTree {
    enum Node { case leaf(ConfigValue), tree(ConfigJSONTree) }
    var entries: [(String, Node)] = []

    mutating func insert(_ value: ConfigValue, at path: [String]) {
        guard let head = path.first else { return }
        if path.count == 1 {
            entries.append((head, .leaf(value)))
            return
        }
        if let index = entries.firstIndex(where: { $0.0 == head }), case .tree(var sub) = entries[index].1 {
            sub.insert(value, at: Array(path.dropFirst()))
            entries[index].1 = .tree(sub)
        } else {
            var sub = ConfigJSONTree()
            sub.insert(value, at: Array(path.dropFirst()))
            entries.append((head, .tree(sub)))
        }
    }

    func render(indent: String) -> String {
        let inner = indent + "  "
        let lines = entries.map { name, node in
            switch node {
            case .leaf(let value): "\(inner)\(ConfigValue.quote(name)): \(value.text)"
            case .tree(let sub): "\(inner)\(ConfigValue.quote(name)): \(sub.render(indent: inner))"
            }
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n\(indent)}"
    }
}
