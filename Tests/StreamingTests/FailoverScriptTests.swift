import Foundation
import TestSupport
import XCTest

/// Fail-over as a user meets it: Tests/e2e/failover_test.py runs two built `dongfeng` processes
/// with their simulators on one redis-server, moves a Python `websockets` client from gateway A to
/// gateway B with its cursor by killing A with SIGKILL, restarts A on its data, and checks that
/// every opportunity of both origins since the client connected arrived exactly once.
final class FailoverScriptTests: XCTestCase {
    func testAClientMovedByAKillGetsEveryOpportunityOfBothOriginsOnce() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") else { try ExternalScripts.missing("redis-server") }
        let python = try ExternalScripts.python(importing: ["websockets"])
        let result = try ExternalScripts.run(python, [ExternalScripts.root.appendingPathComponent("Tests/e2e/failover_test.py").path,
                                                      try ExternalScripts.binary()])
        print(result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("failover_test: 12 passed, 0 failed"), result.output)
    }
}
