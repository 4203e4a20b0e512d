import Contracts
import Foundation
import Research
import XCTest

/// The tick `--cache` codec: every tick comes back as written (bid and ask present or not, long
/// and short symbols), with what the parse refused, and only from a whole file under its own key.
final class TickCacheTests: XCTestCase {
    private func ticks() -> [Tick] {
        (0..<5_000).map { i in
            let symbol = ["600519.SH", "A-VERY-LONG-SYMBOL-NAME.XNYS", "BTC-USDT", "X"][i % 4]
            let p = 0.000_123 + Double(i % 97) * 1e3
            return Tick(symbol: symbol, ts: 1_700_000_000_000 + Int64(i) * 7, price: p, volume: Double(i % 5),
                        bid: i % 3 == 0 ? p * 0.999 : nil, ask: i % 5 == 0 ? p * 1.001 : nil)
        }
    }

    private func written(_ ticks: [Tick], key: String) throws -> (path: String, bytes: [UInt8]) {
        let path = NSTemporaryDirectory() + "tickcache-\(UUID().uuidString).dfcache"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let writer = try XCTUnwrap(TickCache.Writer(path: path, key: key))
        for t in ticks { writer.add(t) }
        XCTAssertTrue(writer.finish(rejectedCount: 3, rejectedLines: ["rejected tick 7: price: line 9: must be a number"]))
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func testRoundTripKeepsEveryTickAndWhatTheParseSaid() throws {
        let original = ticks()
        let file = try written(original, key: "size=1|mtime=2|ticks")
        var back: [Tick] = []
        let summary = try XCTUnwrap(file.bytes.withUnsafeBytes { TickCache.read($0, key: "size=1|mtime=2|ticks") { back.append($0) } })
        XCTAssertEqual(back, original)
        XCTAssertEqual(summary.ticks, original.count)
        XCTAssertEqual(summary.rejectedCount, 3)
        XCTAssertEqual(summary.rejectedLines, ["rejected tick 7: price: line 9: must be a number"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path + ".\(getpid()).tmp"), "the temporary file is renamed")
    }

    func testAnotherKeyOrADamagedFileIsNoCache() throws {
        let file = try written(ticks(), key: "k1")
        var fed = 0
        XCTAssertNil(file.bytes.withUnsafeBytes { TickCache.read($0, key: "k2") { _ in fed += 1 } })
        for cut in [0, 8, 30, 1_000, file.bytes.count - 9, file.bytes.count - 1] {
            XCTAssertNil(Array(file.bytes.prefix(cut)).withUnsafeBytes { TickCache.read($0, key: "k1") { _ in fed += 1 } }, "cut at \(cut)")
        }
        var flipped = file.bytes
        flipped[8 + 8 + 2 + 28] = 0xff  // the first record's flags
        XCTAssertNil(flipped.withUnsafeBytes { TickCache.read($0, key: "k1") { _ in fed += 1 } })
        var wrongTrailer = file.bytes
        for k in 1...8 { wrongTrailer[wrongTrailer.count - k] = 0xff }
        XCTAssertNil(wrongTrailer.withUnsafeBytes { TickCache.read($0, key: "k1") { _ in fed += 1 } })
        XCTAssertEqual(fed, 0, "no tick is handed over from a file that is not whole")
    }

    func testAnUnfinishedWriterLeavesNoFile() throws {
        let path = NSTemporaryDirectory() + "tickcache-\(UUID().uuidString).dfcache"
        do {
            let writer = try XCTUnwrap(TickCache.Writer(path: path, key: "k"))
            writer.add(ticks()[0])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".\(getpid()).tmp"))
    }
}
