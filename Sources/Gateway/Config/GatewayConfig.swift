/// Every setting of the server, with its default. Loaded by `ConfigLoader` from (in order of
/// precedence) command-line flags, `DFP_*` environment variables, the JSON file, defaults.
public struct GatewayConfig: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8443
        public var loops = 1
        public var reusePort = false
        public var maxConnections = 10_000
        public var backlog = 1024
    }
    public struct TLS: Sendable, Equatable {
        public var cert: String?
        public var key: String?
        public var certDir = "certs"
        public var handshakeTimeoutSeconds = 10.0
        public var sessionTickets = true
        public var minVersion = "1.2"
    }
    public struct PlainHTTP: Sendable, Equatable {
        public var enabled = false
        public var port = 8080
        public var mode = "redirect"
    }
    public struct CORS: Sendable, Equatable {
        public var allowedOrigins: [String] = []
    }
    public struct HTTP: Sendable, Equatable {
        public var maxHeaderBytes = 16_384
        public var maxHeaders = 100
        public var maxURIBytes = 8_192
        public var maxBodyBytes = 1_048_576
        public var headerTimeoutSeconds = 10.0
        public var keepAliveIdleSeconds = 60.0
        public var maxWriteQueueBytes = 4_194_304
        public var cors = CORS()
    }
    public struct Static: Sendable, Equatable {
        public var root = "Public"
        public var cacheControl = "public, max-age=3600"
        public var gzip = true
        public var maxFileBytes = 8_388_608
    }
    public struct Admin: Sendable, Equatable {
        public var token: String?
    }
    public struct Shutdown: Sendable, Equatable {
        public var graceSeconds = 10.0
    }
    public struct Log: Sendable, Equatable {
        public var level = "info"
        public var accessLog = false
    }

    public var server = Server()
    public var tls = TLS()
    public var plainHTTP = PlainHTTP()
    public var http = HTTP()
    public var staticFiles = Static()
    public var admin = Admin()
    public var shutdown = Shutdown()
    public var log = Log()
    public var feed = "simulator"
    public var dataDir = "./data"

    public init() {}

    /// The effective configuration as JSON, secrets shown as "***" (for `--print-config`).
    public func redactedJSON() -> String {
        var sections: [String: [(String, String)]] = [:]
        var order: [String] = []
        for info in ConfigLoader.keys {
            let parts = info.key.split(separator: ".", maxSplits: 1).map(String.init)
            let (section, leaf) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
            if sections[section] == nil { order.append(section) }
            let value = info.secret && info.current(self) != "null" ? "\"***\"" : info.current(self)
            sections[section, default: []].append((leaf, value))
        }
        var out = "{\n"
        var blocks: [String] = []
        for section in order {
            let fields = sections[section] ?? []
            if section.isEmpty {
                blocks += fields.map { "  \"\($0.0)\": \($0.1)" }
            } else {
                let inner = fields.map { "    \"\($0.0)\": \($0.1)" }.joined(separator: ",\n")
                blocks.append("  \"\(section)\": {\n\(inner)\n  }")
            }
        }
        out += blocks.joined(separator: ",\n") + "\n}"
        return out
    }
}
