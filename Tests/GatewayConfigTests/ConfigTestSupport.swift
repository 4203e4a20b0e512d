import Foundation
@testable import Gateway
import XCTest

/// Helpers shared by the Config*Tests: isolated loading (no fallback file from the working
/// directory), error capture, temporary JSON files, the repository root.
class ConfigTestCase: XCTestCase {
    /// The package root: Tests/GatewayConfigTests/<this file> → up 3 levels.
    let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func repoPath(_ relative: String) -> String { repoRoot.appendingPathComponent(relative).path }

    /// Loads with no fallback file, so the working directory cannot leak into a test.
    func load(file: String? = nil, env: [String: String] = [:], flags: [ConfigOverride] = []) throws(ConfigError)
        -> GatewayConfig
    {
        try ConfigLoader.load(file: file, environment: env, overrides: flags, defaultFile: nil)
    }

    /// The error `load` throws; fails the test when it succeeds.
    func loadError(file: String? = nil, env: [String: String] = [:], flags: [ConfigOverride] = [],
                   line: UInt = #line) -> ConfigError {
        do {
            let config = try load(file: file, env: env, flags: flags)
            XCTFail("expected a config error, got \(config)", line: line)
            return ConfigError(key: "", message: "")
        } catch {
            return error
        }
    }

    /// A temporary file holding `json`, removed after the test.
    func write(_ json: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-config-\(UUID().uuidString).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func flag(_ key: String, _ value: String, _ source: String) -> ConfigOverride {
        ConfigOverride(key: key, value: value, source: source)
    }

    /// Asserts the exact one-line rendering and that it names the key and the source.
    func assertError(_ error: ConfigError, key: String, contains parts: [String], source: String,
                     line: UInt = #line) {
        XCTAssertEqual(error.key, key, line: line)
        XCTAssertTrue(error.description.hasPrefix("config error: \(key): "), error.description, line: line)
        XCTAssertTrue(error.description.contains(source), "source \(source) missing: \(error.description)", line: line)
        for part in parts {
            XCTAssertTrue(error.description.contains(part), "\"\(part)\" missing: \(error.description)", line: line)
        }
    }
}
