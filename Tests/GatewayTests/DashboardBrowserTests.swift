import Foundation
import XCTest

/// The page in `Public/` in a real browser: Tests/e2e/dashboard_test.py drives Debian's headless
/// chromium through Selenium (`/usr/bin/chromedriver`, selenium in `.venv-tests`, both installed
/// by Tests/run.sh) against the built `dongfeng` with the simulator: connection indicator,
/// opportunity rows within 30 s, risk alerts, the chart, the language switch, a forced disconnect
/// resumed by `since_seq` with no gap (compared with `/api/v1/opportunities`), and a burst over
/// 1,000 events/s. Screenshots are kept in a temporary folder whose path is printed.
final class DashboardBrowserTests: XCTestCase {
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

    /// What the browser test needs that is not there (empty when it can run).
    private func missingTools(python: String) throws -> [String] {
        var missing: [String] = []
        let fm = FileManager.default
        if !fm.isExecutableFile(atPath: python) {
            missing.append(".venv-tests")
        } else if try run(python, ["-c", "import selenium"]).status != 0 {
            missing.append("selenium in .venv-tests")
        }
        if !["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains(where: fm.isExecutableFile(atPath:)) {
            missing.append("chromium (Debian package chromium)")
        }
        if !fm.isExecutableFile(atPath: "/usr/bin/chromedriver") {
            missing.append("/usr/bin/chromedriver (Debian package chromium-driver)")
        }
        return missing
    }

    func testDashboardInHeadlessChromium() throws {
        let python = root.appendingPathComponent(".venv-tests/bin/python").path
        let missing = try missingTools(python: python)
        guard missing.isEmpty else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("browser test cannot run, missing: \(missing.joined(separator: ", ")) — Tests/run.sh installs them")
            }
            throw XCTSkip("SKIPPED: missing \(missing.joined(separator: ", ")) — run Tests/run.sh")
        }
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("dongfeng-dashboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        print("dashboard screenshots: \(output.path)")
        // The script starts its own servers (port 0, temporary cert and data folders), always stops
        // them, and has its own time limit.
        let result = try run(python, [root.appendingPathComponent("Tests/e2e/dashboard_test.py").path,
                                      try binary(), output.path])
        print(result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains(" passed, 0 failed"), result.output)
    }
}
