import Foundation
import TestSupport
import XCTest

/// The page in `Public/` in a real browser: Tests/e2e/dashboard_test.py drives Debian's headless
/// chromium through Selenium (`/usr/bin/chromedriver`, selenium in `.venv-tests`, both installed
/// by Tests/run.sh) against the built `dongfeng` with the simulator: connection indicator,
/// opportunity rows within 30 s, risk alerts, the chart, the language switch, a forced disconnect
/// resumed by `since_seq` with no gap (compared with `/api/v1/opportunities`), and a burst over
/// 1,000 events/s. Screenshots are kept in a temporary folder whose path is printed.
final class DashboardBrowserTests: XCTestCase {
    func testDashboardInHeadlessChromium() throws {
        let python = try ExternalScripts.python(importing: ["selenium", "websockets"])
        let fm = FileManager.default
        if !["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains(where: fm.isExecutableFile(atPath:)) {
            try ExternalScripts.missing("chromium (Debian package chromium)")
        }
        if !fm.isExecutableFile(atPath: "/usr/bin/chromedriver") {
            try ExternalScripts.missing("/usr/bin/chromedriver (Debian package chromium-driver)")
        }
        let output = fm.temporaryDirectory.appendingPathComponent("dongfeng-dashboard-\(UUID().uuidString)")
        try fm.createDirectory(at: output, withIntermediateDirectories: true)
        print("dashboard screenshots: \(output.path)")
        // The script starts its own servers (port 0, temporary cert and data folders), always stops
        // them, and has its own time limit.
        let result = try ExternalScripts.run(python, [ExternalScripts.root.appendingPathComponent("Tests/e2e/dashboard_test.py").path,
                                                      try ExternalScripts.binary(), output.path])
        print(result.output)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains(" passed, 0 failed"), result.output)
    }
}
