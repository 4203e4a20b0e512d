import Foundation
import XCTest

/// The streaming API through a real third-party client: Tests/e2e/ws_e2e.py drives the built
/// `dongfeng` with the Python `websockets` library (venv from Tests/run.sh) over TLS with
/// permessage-deflate — opportunity stream, subscription filters, since_seq resume, slow-client
/// 1013 and WebSocket ingest.
final class ExternalWebSocketTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The built executable, next to the test bundle in the build folder (as in CLITests).
    private func binary() throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("dongfeng").path,
                          root.appendingPathComponent(".build/debug/dongfeng").path]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("dongfeng executable not found at \(candidates): Tests/run.sh builds it first")
        }
        throw XCTSkip("dongfeng executable not built (run `swift build` first)")
    }

    /// Runs a program to its end; standard output and error together.
    private func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        p.currentDirectoryURL = root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testPythonWebsocketsClientAgainstTheServer() throws {
        let python = root.appendingPathComponent(".venv-tests/bin/python").path
        let ready = try FileManager.default.isExecutableFile(atPath: python)
            && run(python, ["-c", "import websockets"]).status == 0
        guard ready else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail(".venv-tests with websockets missing: Tests/run.sh installs it")
            }
            throw XCTSkip("SKIPPED: .venv-tests with websockets is missing — run Tests/run.sh")
        }
        // The script starts its own server (port 0, temporary cert and data folders), always stops
        // it, and has its own time limit.
        let result = try run(python, [root.appendingPathComponent("Tests/e2e/ws_e2e.py").path, try binary()])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ws_e2e: 5 passed, 0 failed"), result.output)
    }
}
