import Foundation
import TestSupport
import XCTest

/// The streaming API through a real third-party client: Tests/e2e/ws_e2e.py drives the built
/// `dongfeng` with the Python `websockets` library (venv from Tests/run.sh) over TLS with
/// permessage-deflate — opportunity stream, subscription filters, since_seq resume, slow-client
/// 1013 and WebSocket ingest.
final class ExternalWebSocketTests: XCTestCase {
    func testPythonWebsocketsClientAgainstTheServer() throws {
        let python = try ExternalScripts.python(importing: ["websockets"])
        // The script starts its own server (port 0, temporary cert and data folders), always stops
        // it, and has its own time limit.
        let result = try ExternalScripts.run(python, [ExternalScripts.root.appendingPathComponent("Tests/e2e/ws_e2e.py").path,
                                                      try ExternalScripts.binary()])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ws_e2e: 5 passed, 0 failed"), result.output)
    }
}
