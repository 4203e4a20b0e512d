import Foundation
import TestSupport
import XCTest

/// Hostile clients against the built `dongfeng` over TLS (Tests/e2e/hostile_test.py): slowloris
/// beside normal clients, slow readers, every request limit, request-smuggling shapes, a
/// connection flood past the maximum, WebSocket zip bomb / invalid UTF-8 / unmasked / oversized /
/// reserved frames — each answered with its documented status or close code (docs/LIMITS.md),
/// the server alive afterwards and its RSS back near where it started.
final class HostileClientTests: XCTestCase {
    func testHostileClientsAreAnsweredAsDocumented() throws {
        let python = try ExternalScripts.python(importing: ["ssl"])
        let result = try ExternalScripts.run(python, [ExternalScripts.root.appendingPathComponent("Tests/e2e/hostile_test.py").path,
                                                      try ExternalScripts.binary(), "1500"])
        print(result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains(" 0 failed"), result.output)
    }
}
