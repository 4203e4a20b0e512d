import ArgumentParser
import Foundation
import Glibc
import Operator

/// How an operator command reaches a running server.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server (DFP_URL). Default https://127.0.0.1:8443.")
    var url: String?
    @Option(help: "CA certificate (PEM) to trust, e.g. the development certificate certs/dev-cert.pem (DFP_CACERT). Default: certs/dev-cert.pem when it exists, else the system store.")
    var cacert: String?
    @Flag(help: "Do not verify the server's certificate.")
    var insecure = false
    @Option(help: "Admin bearer token (DFP_ADMIN_TOKEN); without one, admin endpoints answer loopback clients only.")
    var token: String?
    @Option(name: .customLong("api-key"), help: "Ingest key for posting ticks (DFP_INGEST_API_KEY), when the server requires one.")
    var apiKey: String?
    @Option(help: "Seconds to wait for the server before giving up.")
    var timeout: Double = 10

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    func endpoint() throws -> Endpoint {
        do {
            return try Endpoint(url: url ?? environment["DFP_URL"] ?? "https://127.0.0.1:8443")
        } catch {
            throw ValidationError(error.description)
        }
    }

    var trust: TrustOptions {
        if insecure { return TrustOptions(insecure: true) }
        if let file = cacert ?? environment["DFP_CACERT"] { return TrustOptions(caFile: file) }
        let dev = "certs/dev-cert.pem"
        return TrustOptions(caFile: FileManager.default.fileExists(atPath: dev) ? dev : nil)
    }

    var adminToken: String? { token ?? environment["DFP_ADMIN_TOKEN"] }
    var ingestKey: String? { apiKey ?? environment["DFP_INGEST_API_KEY"] }
    var timeoutMs: Int { max(100, Int(timeout * 1000)) }

    /// An HTTP client with the admin token and ingest key attached.
    func http() throws -> OperatorHTTP {
        let client = OperatorHTTP(try endpoint(), trust: trust, timeoutMs: timeoutMs)
        if let adminToken { client.defaultHeaders.append(("Authorization", "Bearer \(adminToken)")) }
        if let ingestKey { client.defaultHeaders.append(("X-API-Key", ingestKey)) }
        return client
    }
}

/// Terminal output: colours only on a terminal and without NO_COLOR.
enum Terminal {
    static let colours = isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func paint(_ text: String, _ code: String) -> String { colours ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    static func green(_ s: String) -> String { paint(s, "32") }
    static func yellow(_ s: String) -> String { paint(s, "33") }
    static func red(_ s: String) -> String { paint(s, "31") }
    static func bold(_ s: String) -> String { paint(s, "1") }
    static func dim(_ s: String) -> String { paint(s, "2") }

    static func state(_ s: String) -> String {
        switch s {
        case "ok": green(s)
        case "degraded": yellow(s)
        default: red(s)
        }
    }

    static func fail(_ message: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("dongfeng: \(message)\n".utf8))
        return ExitCode(code)
    }

    /// Straight to standard output's descriptor (no stdio buffer): shows at once through a pipe.
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }

    static func pad(_ s: String, _ width: Int) -> String {
        let count = s.count
        return count >= width ? s : s + String(repeating: " ", count: width - count)
    }
}
