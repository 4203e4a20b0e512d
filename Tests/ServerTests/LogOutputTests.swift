import Foundation
import Logging
import XCTest
@testable import Gateway

/// The log line formats: one line per record whatever the message holds, values quoted only
/// when they must be, JSON that parses.
final class LogOutputTests: XCTestCase {
    private let when = Date(timeIntervalSince1970: 1_795_600_000.123)

    func testLogfmtQuotesOnlyWhatNeedsItAndNeverBreaksTheLine() {
        let line = StructuredLogHandler.format(.logfmt, ts: when, level: .info, label: "dongfeng",
                                               message: "listening on https://127.0.0.1:8443",
                                               metadata: ["status": "200", "path": "/a b", "evil": "x\ny=\"1\"", "empty": ""])
        XCTAssertEqual(line, #"ts=2026-11-25T09:46:40.123Z level=info logger=dongfeng msg="listening on https://127.0.0.1:8443" empty="" evil="x\ny=\"1\"" path="/a b" status=200"# + "\n")
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
    }

    func testJSONLinesParseAndKeepTheirFields() throws {
        let line = StructuredLogHandler.format(.json, ts: when, level: .warning, label: "dongfeng",
                                               message: "tab\there \"quoted\" 东风破 \u{1}",
                                               metadata: ["request_id": "abc", "msg": "not overriding"])
        XCTAssertTrue(line.hasSuffix("}\n"))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        XCTAssertEqual(object["msg"], "tab\there \"quoted\" 东风破 \u{1}")
        XCTAssertEqual(object["level"], "warning")
        XCTAssertEqual(object["request_id"], "abc")
        XCTAssertEqual(object["ts"], "2026-11-25T09:46:40.123Z")
    }

    func testTheLevelIsSharedByEveryHandlerOfAControl() {
        let control = LogControl()
        var a = StructuredLogHandler(label: "a", control: control)
        let b = StructuredLogHandler(label: "b", control: control)
        a.logLevel = .error
        XCTAssertEqual(b.logLevel, .error)
        control.level = .trace
        XCTAssertEqual(a.logLevel, .trace)
    }
}
