import CLinux
import Glibc
import Foundation
import HTTP
import Logging
import Reactor

/// A startup failure, phrased for the operator.
public struct GatewayError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The whole server: reactor loops, TLS, the HTTPS listener (and optional plain listener),
/// routes. `start()` binds and runs the loops on their own threads.
public final class GatewayServer: @unchecked Sendable {
    public let config: GatewayConfig
    public let group: EventLoopGroup
    private let logger: Logger
    private let startedAtMs = dfl_monotonic_ms()
    public private(set) var httpsPort = 0
    public private(set) var plainPort: Int?
    public private(set) var certificateFingerprint = ""
    public private(set) var signals: SignalService?
    /// The Redis Streams sink when `redis.url` is set.
    private(set) var redisSink: RedisSink?
    /// The Redis Streams tick source when `redis.url` is set and `redis.source` is on.
    private(set) var redisSource: RedisSource?
    /// Other instances' opportunities for this instance's WebSocket clients (`redis.peers`).
    private(set) var redisPeers: RedisPeers?
    /// Partition leases for fail-over (`redis.partition_count` > 0).
    private(set) var partitionLeases: PartitionLeases?
    /// Every HTTP route as (method, pattern), for /openapi.json's completeness test.
    public private(set) var routeTable: [(method: HTTPMethod, pattern: String)] = []

    /// The log level and access log this server's admin endpoint changes (the handler the
    /// process bootstrapped reads the same control).
    public let logControl: LogControl

    public init(config: GatewayConfig, logger: Logger, logControl: LogControl = LogControl()) throws(GatewayError) {
        self.config = config
        self.logger = logger
        self.logControl = logControl
        logControl.accessLog = config.log.accessLog
        logControl.format = LogControl.Format(rawValue: config.log.format) ?? .logfmt
        logControl.level = Logger.Level(rawValue: config.log.level) ?? .info
        do {
            group = try EventLoopGroup(loopCount: config.server.loops, maxConnections: config.server.maxConnections)
        } catch {
            throw GatewayError("cannot create event loops: \(error)")
        }
        if group.fileLimit < config.server.maxConnections + 64 {
            logger.warning("open-file limit \(group.fileLimit) is below server.max_connections \(config.server.maxConnections): raise it (ulimit -n) or lower the setting")
        }
    }

    /// Binds the listeners, installs the shutdown signal handlers (optional: tests skip them)
    /// and starts the loops, the pipeline and the Redis links. Returns the HTTPS port.
    @discardableResult
    public func start(installSignalHandlers: Bool = true) throws(GatewayError) -> Int {
        let tls = try makeTLSContext()
        let files = try loadStaticFiles()
        let service = try SignalService(config: config, logger: logger)
        signals = service
        service.worker.instance = instance
        let streaming = try makeStreaming(service)
        redisSink = try makeRedisLinks(service, streaming: streaming)
        let telemetry = HTTPTelemetry(loops: group.loops.count)
        let router = makeRouter(service: service, streaming: streaming, telemetry: telemetry, files: files)
        routeTable = router.table
        try listen(router: router, streaming: streaming, telemetry: telemetry, tls: tls)
        if installSignalHandlers {
            do {
                try group.installSignalHandlers(graceMs: Int64(config.shutdown.graceSeconds * 1000))
            } catch {
                throw GatewayError("\(error)")
            }
        }
        group.start()
        HeapTrimmer(loop: group.loops[0]).start()
        service.start()
        redisSink?.start()
        redisSource?.start()
        redisPeers?.start()
        partitionLeases?.start()
        logStarted()
        return httpsPort
    }

    /// The page's files from `static.root`; nil (with a warning) when the folder is absent.
    private func loadStaticFiles() throws(GatewayError) -> StaticFileStore? {
        guard access(config.staticFiles.root, F_OK) == 0 else {
            // Running outside the repository (no Public/): the API still works, the page does not.
            logger.warning("static.root \(config.staticFiles.root) does not exist: no page will be served")
            return nil
        }
        do {
            let store = try StaticFileStore(root: config.staticFiles.root, assetCacheControl: config.staticFiles.cacheControl,
                                            maxFileBytes: config.staticFiles.maxFileBytes, gzip: config.staticFiles.gzip)
            for skipped in store.skipped { logger.warning("static file not served: \(skipped)") }
            return store
        } catch {
            throw GatewayError("static.root \(config.staticFiles.root): \(error)")
        }
    }

    /// Every route: health, REST, metrics, admin, OpenAPI, stream GETs, then static files.
    private func makeRouter(service: SignalService, streaming: Streaming, telemetry: HTTPTelemetry,
                            files: StaticFileStore?) -> Router<RouteHandler> {
        let admin = AdminGuard(token: config.admin.token)
        var router = Router<RouteHandler>()
        HealthRoutes.register(into: &router, group: group, startedAtMs: startedAtMs, admin: admin, signals: service,
                              streaming: streaming.settings.stats, redis: redisSink, source: redisSource, peers: redisPeers,
                              leases: partitionLeases)
        APIRoutes.register(into: &router, service: service, inputs: service.ingest, admin: admin,
                           ingestGuard: IngestGuard(key: config.api.ingestKey))
        MetricsRoutes.register(into: &router, admin: admin, group: group, signals: service,
                               streaming: streaming.settings.stats, broadcasters: streaming.broadcasters,
                               http: telemetry, redis: redisSink, source: redisSource, leases: partitionLeases,
                               startedAtMs: startedAtMs)
        AdminRoutes.register(into: &router, admin: admin, signals: service, logControl: logControl, logger: logger)
        OpenAPIDocument.register(into: &router)
        Streaming.registerPlainGets(into: &router)
        if let files { StaticRoutes.register(into: &router, store: files, gzip: config.staticFiles.gzip) }
        return router
    }

    /// The HTTPS listener, and the plain one (`http.plain`: serve or redirect) when enabled.
    private func listen(router: Router<RouteHandler>, streaming: Streaming, telemetry: HTTPTelemetry,
                        tls: TLSContext) throws(GatewayError) {
        let settings = httpSettings()
        let app = GatewayApp(settings: settings, router: router, loops: group.loops.count, logger: logger, streaming: streaming,
                             telemetry: telemetry)
        do {
            httpsPort = try group.listen(
                ListenerOptions(host: config.server.host, port: config.server.port, reusePort: config.server.reusePort,
                                backlog: config.server.backlog, tls: tls,
                                handshakeTimeoutMs: Int64(config.tls.handshakeTimeoutSeconds * 1000),
                                maxWriteQueueBytes: config.http.maxWriteQueueBytes, name: "https")
            ) { _ in HTTPConnection(app: app) }
            guard config.plainHTTP.enabled else { return }
            var plainSettings = settings
            if config.plainHTTP.mode == "redirect" { plainSettings.redirectToHTTPSPort = httpsPort }
            let plainApp = plainSettings.redirectToHTTPSPort == nil
                ? app : GatewayApp(settings: plainSettings, router: router, loops: group.loops.count, logger: logger,
                                   telemetry: telemetry)
            if config.testing.websocketEcho { logger.warning("testing.websocket_echo is on: \"/\" echoes WebSocket messages (test-only)") }
            plainPort = try group.listen(
                ListenerOptions(host: config.server.host, port: config.plainHTTP.port,
                                reusePort: config.server.reusePort, backlog: config.server.backlog, tls: nil,
                                maxWriteQueueBytes: config.http.maxWriteQueueBytes, name: "http")
            ) { _ in HTTPConnection(app: plainApp) }
        } catch {
            throw GatewayError("\(error)")
        }
    }

    private func logStarted() {
        let shownHost = config.server.host.contains(":") ? "[\(config.server.host)]" : config.server.host
        logger.info("listening on https://\(shownHost):\(httpsPort)")
        if let plainPort {
            logger.info("plain HTTP on http://\(shownHost):\(plainPort) (\(config.plainHTTP.mode))")
        }
        if config.admin.token == nil {
            logger.notice("no admin token set (DFP_ADMIN_TOKEN): /admin/* is reachable from loopback only")
        }
    }

    /// One broadcaster per loop, fed by its own ring from the pipeline worker, which rings the
    /// loop's wake-up after each batch (registered before the loops start).
    private func makeStreaming(_ service: SignalService) throws(GatewayError) -> Streaming {
        var streamingSettings = StreamingSettings()
        let ws = config.webSocket
        // An origin trusted with the REST API by CORS is trusted with the stream too.
        streamingSettings.allowedOrigins = ws.allowedOrigins + config.http.cors.allowedOrigins
        streamingSettings.maxMessageBytes = ws.maxMessageBytes
        streamingSettings.outboundCapBytes = ws.outboundCapBytes
        streamingSettings.maxSymbols = ws.maxSymbols
        streamingSettings.pingIntervalMs = Int64(ws.pingIntervalSeconds * 1000)
        streamingSettings.idleTimeoutMs = Int64(ws.idleTimeoutSeconds * 1000)
        streamingSettings.messageTimeoutMs = Int64(ws.messageTimeoutSeconds * 1000)
        streamingSettings.ingestGuard = IngestGuard(key: config.api.ingestKey)
        streamingSettings.journal = service.journal
        streamingSettings.instance = instance
        if config.redis.url != nil && config.redis.peers {
            streamingSettings.remote = RemoteHistory(capacity: config.pipeline.historyEvents)
        }
        var broadcasters: [Broadcaster] = []
        for loop in group.loops {
            let ready = Box<Broadcaster>()
            let wakeup = try wake(loop) { ready.value?.drain() }
            let broadcaster = Broadcaster(loop: loop, output: service.worker.addOutput { wakeup.signal() }, store: service.store,
                                          ingest: service.ingest.indices.contains(loop.index) ? service.ingest[loop.index] : nil,
                                          settings: streamingSettings)
            ready.value = broadcaster
            broadcasters.append(broadcaster)
        }
        return Streaming(broadcasters: broadcasters, settings: streamingSettings, echo: config.testing.websocketEcho)
    }

    /// A loop's wake-up for a ring's consumer, as a startup error when the kernel refuses one.
    func wake(_ loop: EventLoop, _ handler: @escaping () -> Void) throws(GatewayError) -> Wakeup {
        do {
            return try loop.makeWakeup(handler)
        } catch {
            throw GatewayError("cannot create a wake-up for loop \(loop.index): \(error)")
        }
    }

    /// This gateway's name when it shares a Redis with others (`redis.url`): `redis.consumer`,
    /// else the host name and process id. It tags every sequenced event and names the
    /// gateway's consumer in the tick group.
    var instance: String? {
        guard config.redis.url != nil else { return nil }
        return config.redis.consumer ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The Redis links on loop 0: the sink fed by its own ring from the worker, and — when
    /// configured — the tick source and the peers' fan-out.
    private func makeRedisLinks(_ service: SignalService, streaming: Streaming) throws(GatewayError) -> RedisSink? {
        guard let url = config.redis.url, let instance else { return nil }
        var rest = Substring(url)
        if rest.hasPrefix("redis://") { rest = rest.dropFirst(8) }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        let parts = rest.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
            throw GatewayError("redis.url \(url) is not redis://host:port")
        }
        let loop = group.loops[0]
        let ready = Box<RedisSink>()
        let wakeup = try wake(loop) { ready.value?.drain() }
        let output = service.worker.addOutput { wakeup.signal() }
        let sink = RedisSink(host: String(parts[0]), port: port, loop: loop, output: output, journal: service.journal,
                             startSeq: service.journal?.lastSeq ?? 0, maxLength: config.redis.streamMaxLength, instance: instance,
                             cluster: config.redis.cluster)
        if let history = streaming.settings.remote {
            redisPeers = RedisPeers(host: String(parts[0]), port: port, loop: loop, instance: instance,
                                    broadcasters: streaming.broadcasters, history: history, cluster: config.redis.cluster)
        }
        ready.value = sink
        if config.redis.source {
            let partitions = (config.redis.partitions ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let consumer = instance
            let input = service.worker.makeInput(name: "redis", capacity: 1 << 15, policy: .reject)
            if config.redis.partitionCount > 0 {
                // Fail-over: the partitions read are those whose lease this gateway holds.
                let leases = PartitionLeases(host: String(parts[0]), port: port, loop: loop, instance: instance,
                                             count: config.redis.partitionCount, preferred: Set(partitions.compactMap { Int($0) }),
                                             leaseMs: config.redis.leaseMs, cluster: config.redis.cluster)
                let source = RedisSource(host: String(parts[0]), port: port, loop: loop, input: input, streams: [],
                                         group: config.redis.group, consumer: consumer, claimIdleMs: config.redis.claimIdleMs,
                                         cluster: config.redis.cluster)
                source.leaseMs = config.redis.leaseMs
                let log = logger
                let cluster = config.redis.cluster
                leases.onChange = { [weak source] held, taken in
                    let name = { (p: Int) in PartitionLeases.stream(String(p), cluster: cluster) }
                    source?.setStreams(held.sorted().map(name), taken: taken.sorted().map(name))
                    let took = taken.isEmpty ? "" : " (took \(taken.sorted().map(String.init).joined(separator: ",")))"
                    log.info("redis: holding partitions [\(held.sorted().map(String.init).joined(separator: ","))]\(took)")
                }
                redisSource = source
                partitionLeases = leases
                logger.info("redis: leasing \(config.redis.partitionCount) partitions as \(config.redis.group)/\(consumer), preferring \(partitions.joined(separator: ","))")
            } else {
                let streams = partitions.isEmpty ? ["dfp:clean_ticks"] : partitions.map { PartitionLeases.stream($0, cluster: config.redis.cluster) }
                redisSource = RedisSource(host: String(parts[0]), port: port, loop: loop, input: input, streams: streams,
                                          group: config.redis.group, consumer: consumer, claimIdleMs: config.redis.claimIdleMs,
                                          cluster: config.redis.cluster)
                logger.info("redis: reading \(streams.joined(separator: ", ")) as \(config.redis.group)/\(consumer)")
            }
        }
        logger.info("redis: streams bridge to \(parts[0]):\(port)")
        return sink
    }

    func httpSettings() -> HTTPSettings {
        var settings = HTTPSettings()
        settings.limits = HTTPLimits(maxHeaderBytes: config.http.maxHeaderBytes, maxHeaderCount: config.http.maxHeaders,
                                     maxURIBytes: config.http.maxURIBytes, maxBodyBytes: config.http.maxBodyBytes)
        settings.headerTimeoutMs = Int64(config.http.headerTimeoutSeconds * 1000)
        settings.keepAliveIdleMs = Int64(config.http.keepAliveIdleSeconds * 1000)
        settings.corsOrigins = config.http.cors.allowedOrigins
        settings.logControl = logControl
        // HSTS is per host, not per port: never for the development certificate (localhost).
        if config.tls.cert != nil, config.tls.hstsMaxAgeSeconds > 0 {
            settings.strictTransportSecurity = "max-age=\(config.tls.hstsMaxAgeSeconds)"
        }
        return settings
    }

    /// Certificate from config; else the pair in `tls.cert_dir`; else a new self-signed one.
    private func makeTLSContext() throws(GatewayError) -> TLSContext {
        var certificate = config.tls.cert
        var key = config.tls.key
        if certificate == nil {
            if let existing = SelfSignedCertificate.existing(in: config.tls.certDir) {
                (certificate, key) = (existing.certificate, existing.privateKey)
            } else {
                do {
                    let files = try SelfSignedCertificate.generate(in: config.tls.certDir)
                    logger.notice("generated a self-signed development certificate \(files.certificate) (SHA-256 \(files.fingerprint))")
                    (certificate, key) = (files.certificate, files.privateKey)
                } catch {
                    throw GatewayError("cannot generate a development certificate in \(config.tls.certDir): \(error)")
                }
            }
        }
        do {
            let context = try TLSContext(options: TLSOptions(
                certificateChainFile: certificate ?? "", privateKeyFile: key ?? "",
                minimumVersion: config.tls.minVersion, sessionTickets: config.tls.sessionTickets))
            certificateFingerprint = context.fingerprint
            logger.info("TLS certificate \(certificate ?? "") SHA-256 \(context.fingerprint)")
            return context
        } catch {
            throw GatewayError("\(error)")
        }
    }

    /// Graceful shutdown (as on SIGTERM): stop accepting, finish in-flight responses up to the
    /// configured grace period, then close. Returns immediately; `wait()` blocks until done.
    public func shutdown() {
        group.beginShutdown(graceMs: Int64(config.shutdown.graceSeconds * 1000))
    }

    public func wait() {
        group.waitUntilStopped()
        signals?.stop()
        // The loops and the worker are stopped: acknowledge what was processed, then hand the
        // partitions back at once rather than let them lapse.
        redisSource?.acknowledgeCommittedAtShutdown()
        partitionLeases?.release()
        logger.info("stopped")
    }
}

/// Set once during startup, before the loops run; read on the loop thread afterwards.
private final class Box<T: AnyObject> {
    var value: T?
}
