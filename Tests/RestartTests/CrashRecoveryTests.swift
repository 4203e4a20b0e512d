import Foundation
import TestSupport
import XCTest

/// Crash durability through a real client: Tests/e2e/crash_test.py runs the built `dongfeng`
/// with the simulator on one data directory, kills it with SIGKILL at random moments (4 rounds),
/// and checks that every restart is warm (first new signal within 3 s), that every event a
/// WebSocket client received survives with its seq and content, that seq is never reused, and that
/// resuming with the last seq leaves no gap. Tests/e2e/restart_equal_test.py posts the same ticks
/// to an uninterrupted server and to one restarted three times (kill -9 at once, SIGTERM, kill -9
/// after a pause): the two runs' events are identical, seqs and opportunity ids included.
final class CrashRecoveryTests: XCTestCase {
    func testKillNineUnderLoadLosesNothingAClientReceived() throws {
        let python = try ExternalScripts.python(importing: ["websockets"])
        let result = try ExternalScripts.run(python, [ExternalScripts.root.appendingPathComponent("Tests/e2e/crash_test.py").path,
                                                      try ExternalScripts.binary(), "4"])
        print(result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("crash_test: 5 passed, 0 failed"), result.output)
    }

    func testRestartsChangeNoEventSeqOrId() throws {
        let python = try ExternalScripts.python(importing: ["websockets"])
        let seed = String(Int.random(in: 1...1_000_000))
        let result = try ExternalScripts.run(python, [ExternalScripts.root.appendingPathComponent("Tests/e2e/restart_equal_test.py").path,
                                                      try ExternalScripts.binary(), seed])
        print(result.output)
        XCTAssertEqual(result.status, 0, "seed \(seed):\n\(result.output)")
        XCTAssertTrue(result.output.contains("restart_equal_test: 6 passed, 0 failed"), result.output)
    }
}
