import Contracts
import Feeds
import Foundation
import XCTest

/// A tick file read in chunks (mapped, cut at line ends, CSV rows decoded beside the header)
/// gives what decoding the whole document at once gives: the same ticks in order, and the same
/// rejections with the same line numbers, wherever the chunks fall.
final class ChunkedFileTests: XCTestCase {
    private func write(_ text: String, _ ext: String) throws -> String {
        let path = NSTemporaryDirectory() + "chunked-\(UUID().uuidString).\(ext)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func chunked(_ path: String, _ format: TickFormat, chunkSize: Int) throws -> (ticks: [Tick], rejected: [String], error: String?) {
        let file = try XCTUnwrap(ChunkedFile(path: path, chunkSize: chunkSize))
        var ticks: [Tick] = []
        var rejected: [String] = []
        var error: String?
        file.forEachDecoded(format: format) { result in
            ticks += result.ticks
            rejected += result.rejected.map(\.message)
            error = result.documentError
            return true
        }
        return (ticks, rejected, error)
    }

    func testCSVChunksDecodeAsTheWholeDocument() throws {
        var lines = ["", "\r", "ts,symbol,price,volume,bid,ask\r"]  // blank lines before the header, CRLF
        for i in 0..<300 {
            switch i % 37 {
            case 5: lines.append("\(1_700_000_000_000 + i),BAD SYMBOL,1.5,100,,\r")
            case 9: lines.append("")
            case 11: lines.append("\(1_700_000_000_000 + i),\"Q.\(i)\",\"2.5\",100,,\r")  // quoted cells
            case 20: lines.append("\(1_700_000_000_000 + i),A,abc,100,,\r")
            default: lines.append("\(1_700_000_000_000 + i),S\(i % 4),\(10 + Double(i) / 8),\(i),\(9 + Double(i) / 8),\(11 + Double(i) / 8)\r")
            }
        }
        let text = lines.joined(separator: "\n") + "\n"
        let path = try write(text, "csv")
        let whole = TickDecoder.decode(Array(text.utf8), format: .csv)
        XCTAssertGreaterThan(whole.ticks.count, 250)
        XCTAssertEqual(whole.rejected.count, 16)
        for size in [1, 7, 64, 100, 1_000, 1 << 20] {
            let got = try chunked(path, .csv, chunkSize: size)
            XCTAssertEqual(got.ticks, whole.ticks, "chunks of \(size) bytes")
            XCTAssertEqual(got.rejected, whole.rejected.map(\.message), "chunks of \(size) bytes")
            XCTAssertNil(got.error)
        }
    }

    func testNDJSONChunksAndALineLongerThanAChunk() throws {
        var lines: [String] = []
        for i in 0..<120 {
            lines.append(i == 50 ? "{\"symbol\":\"A\",\"ts\":-1,\"price\":1,\"volume\":1}"
                         : "{\"symbol\":\"S\(i % 3)\",\"ts\":\(1_700_000_000_000 + i),\"price\":\(1 + Double(i) / 4),\"volume\":\(i),\"note\":\"\(String(repeating: "x", count: i))\"}")
        }
        let text = lines.joined(separator: "\n")  // no line end at the end of the file
        let path = try write(text, "ndjson")
        let whole = TickDecoder.decode(Array(text.utf8), format: .ndjson)
        XCTAssertEqual(whole.ticks.count, 119)
        for size in [16, 150, 4_096] {
            let got = try chunked(path, .ndjson, chunkSize: size)
            XCTAssertEqual(got.ticks, whole.ticks, "chunks of \(size) bytes")
            XCTAssertEqual(got.rejected, whole.rejected.map(\.message))
        }
    }

    func testAnEmptyOrHeaderlessCSVIsADocumentError() throws {
        XCTAssertNotNil(try chunked(try write("", "csv"), .csv, chunkSize: 64).error)
        let headerless = try chunked(try write("1,A,2,3\n", "csv"), .csv, chunkSize: 64)
        XCTAssertTrue(headerless.ticks.isEmpty)
        XCTAssertNotNil(headerless.error)
        XCTAssertNil(ChunkedFile(path: NSTemporaryDirectory()), "a folder is not a tick file")
    }
}
