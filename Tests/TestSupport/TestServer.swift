import Foundation
import Gateway
import Logging
import XCTest

/// A real server on 127.0.0.1 with an ephemeral port, a fresh certificate directory and a
/// small `Public/` of its own; always stopped by `stop()` (tests call it in a defer).
public final class TestServer {
    public let server: GatewayServer
    public let port: Int
    public let directory: URL
    public var certificatePath: String { directory.appendingPathComponent("certs/dev-cert.pem").path }
    private var stopped = false

    public static let indexHTML = "<!doctype html><title>Dongfeng test</title>" + String(repeating: "<p>东风破 dongfeng</p>\n", count: 200)
    public static let appJS = "// test script\n" + String(repeating: "console.log('东风破 dongfeng');\n", count: 200)

    public init(_ configure: (inout GatewayConfig) -> Void = { _ in }) throws {
        signal(SIGPIPE, SIG_IGN)  // a client writing to a socket the server closed must not kill the tests
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-test-\(UUID().uuidString)")
        let publicDir = directory.appendingPathComponent("Public")
        try FileManager.default.createDirectory(at: publicDir.appendingPathComponent("css"), withIntermediateDirectories: true)
        try Self.indexHTML.write(to: publicDir.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "body { color: red; }\n".write(to: publicDir.appendingPathComponent("css/app.css"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: publicDir.appendingPathComponent("js"), withIntermediateDirectories: true)
        try Self.appJS.write(to: publicDir.appendingPathComponent("js/app.js"), atomically: true, encoding: .utf8)
        try "secret".write(to: directory.appendingPathComponent("outside.txt"), atomically: true, encoding: .utf8)

        var config = GatewayConfig()
        config.server.port = 0
        config.tls.certDir = directory.appendingPathComponent("certs").path
        config.staticFiles.root = publicDir.path
        config.feed = "none"
        config.dataDir = directory.appendingPathComponent("data").path
        config.shutdown.graceSeconds = 5
        // Ticks of tests are at arbitrary times: UTC clock buckets unless a test puts them on venues.
        config.markets.enabled = false
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        server = try GatewayServer(config: config, logger: logger)
        port = try server.start(installSignalHandlers: false)
    }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        server.group.stopNow()
        server.wait()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    /// One request on a new connection; returns the response.
    public func request(_ raw: String, tls: Bool = true) throws -> TestResponse {
        let client = try TestClient(port: port, tls: tls)
        try client.send(raw)
        return try client.readResponse(bodyless: raw.hasPrefix("HEAD "))
    }

    public func get(_ path: String, headers: [String] = []) throws -> TestResponse {
        let extra = headers.map { $0 + "\r\n" }.joined()
        return try request("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(extra)\r\n")
    }
}

/// Runs an external tool; nil when it is not installed (callers skip loudly, or fail under CI).
public func runTool(_ tool: String, _ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 30) throws
    -> (status: Int32, stdout: String, stderr: String)?
{
    guard let path = ["/usr/bin/", "/bin/", "/usr/local/bin/"].map({ $0 + tool })
        .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// A required external tool: under CI its absence fails the test; elsewhere it skips loudly.
public func requireTool(_ result: (status: Int32, stdout: String, stderr: String)?, _ name: String) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    if let result { return result }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("\(name) is not installed: Tests/run.sh installs it; under CI=true this is a failure")
        throw XCTSkip("\(name) missing")
    }
    print("SKIPPED: \(name) is not installed — run Tests/run.sh to install it")
    throw XCTSkip("\(name) is not installed")
}
