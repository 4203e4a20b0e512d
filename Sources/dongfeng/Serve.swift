import ArgumentParser
import Foundation
import Gateway
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway (the default command).",
        discussion: "Stops gracefully on SIGTERM or SIGINT (a second signal stops at once)."
    )

    @Option(help: "Address to listen on (server.host, DFP_HOST). Default 127.0.0.1.")
    var host: String?
    @Option(help: "HTTPS port; 0 picks a free port and logs it (server.port, DFP_PORT). Default 8443.")
    var port: String?
    @Option(help: "Config file (DFP_CONFIG). Default Config/dongfeng.json when present.")
    var config: String?
    @Option(name: .customLong("data-dir"), help: "Data directory (data_dir, DFP_DATA_DIR). Default ./data.")
    var dataDir: String?
    @Option(help: "TLS certificate chain PEM (tls.cert, DFP_CERT). Without it a development certificate is used or generated in tls.cert_dir.")
    var cert: String?
    @Option(help: "TLS private key PEM (tls.key, DFP_KEY).")
    var key: String?
    @Option(help: "Market data feed: simulator | none | replay:FILE — a recorded tick or OHLCV file played live (feed, DFP_FEED).")
    var feed: String?
    @Option(help: "Market time runs this many times the wall clock: the replayed file's (replay.speed) and the simulator's (simulator.speed). Default 1.")
    var speed: String?
    @Flag(help: "With --feed replay:FILE: start again at the end, shifted whole weeks later (replay.loop).")
    var loop = false
    @Option(name: .customLong("log-level"), help: "trace | debug | info | notice | warning | error | critical (log.level, DFP_LOG_LEVEL).")
    var logLevel: String?
    @Option(name: .customLong("log-format"), help: "logfmt | json (log.format, DFP_LOG_FORMAT).")
    var logFormat: String?
    @Option(help: "Number of reactor loops, one thread each; > 1 needs --reuse-port (server.loops).")
    var loops: String?
    @Flag(name: .customLong("reuse-port"), help: "Bind with SO_REUSEPORT (server.reuse_port).")
    var reusePort = false
    @Flag(name: .customLong("access-log"), help: "Log every request (log.access_log).")
    var accessLog = false
    @Flag(name: .customLong("print-config"), help: "Print the effective configuration (secrets redacted) and exit.")
    var printConfig = false

    func run() throws {
        var overrides: [ConfigOverride] = []
        func add(_ key: String, _ value: String?, _ flag: String) {
            if let value { overrides.append(ConfigOverride(key: key, value: value, source: flag)) }
        }
        add("server.host", host, "--host")
        add("server.port", port, "--port")
        add("data_dir", dataDir, "--data-dir")
        add("tls.cert", cert, "--cert")
        add("tls.key", key, "--key")
        add("feed", feed, "--feed")
        add("replay.speed", speed, "--speed")
        add("simulator.speed", speed, "--speed")
        if loop { add("replay.loop", "true", "--loop") }
        add("log.level", logLevel, "--log-level")
        add("log.format", logFormat, "--log-format")
        add("server.loops", loops, "--loops")
        if reusePort { add("server.reuse_port", "true", "--reuse-port") }
        if accessLog { add("log.access_log", "true", "--access-log") }

        let environment = ProcessInfo.processInfo.environment
        let settings: GatewayConfig
        do {
            settings = try ConfigLoader.load(file: config ?? environment["DFP_CONFIG"], environment: environment,
                                             overrides: overrides)
        } catch {
            FileHandle.standardError.write(Data("dongfeng: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if printConfig {
            print(settings.redactedJSON())
            return
        }
        let control = LogControl.shared
        control.level = Logger.Level(rawValue: settings.log.level) ?? .info
        control.format = LogControl.Format(rawValue: settings.log.format) ?? .logfmt
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, control: control) }
        let logger = Logger(label: "dongfeng")
        do {
            let server = try GatewayServer(config: settings, logger: logger, logControl: control)
            try server.start()
            server.wait()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}
