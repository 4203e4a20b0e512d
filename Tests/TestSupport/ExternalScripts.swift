import Foundation
import XCTest

/// What the tests that drive the built executable or a Python script share: the repository
/// root, the built `dongfeng`, the venv from Tests/run.sh, and running a program to its end.
/// A missing tool skips loudly on a developer machine and fails under `CI=true`.
public enum ExternalScripts {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    public static let python = root.appendingPathComponent(".venv-tests/bin/python").path

    /// The built executable, next to the test bundle in the build folder.
    public static func binary() throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("dongfeng").path,
                          root.appendingPathComponent(".build/debug/dongfeng").path]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        try missing("the dongfeng executable (at \(candidates.joined(separator: " or ")))")
    }

    /// Skips (or, under CI, fails) because `what` is not there.
    public static func missing(_ what: String) throws -> Never {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("\(what) is missing: Tests/run.sh installs or builds it; under CI=true this is a failure")
        }
        print("SKIPPED: \(what) is missing — run Tests/run.sh")
        throw XCTSkip("\(what) is missing")
    }

    /// The venv's Python once it can import `modules`.
    public static func python(importing modules: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python) else { try missing(".venv-tests") }
        for module in modules where try run(python, ["-c", "import \(module)"]).status != 0 {
            try missing("\(module) in .venv-tests")
        }
        return python
    }

    /// Runs a program from the repository root to its end; standard output and error together.
    public static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
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
}
