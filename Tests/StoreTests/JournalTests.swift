import Contracts
import Foundation
import Pipeline
import Store
import XCTest

final class JournalTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-journal-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func settings(_ policy: FsyncPolicy = .never, segmentBytes: Int = 64 << 20) -> JournalSettings {
        var s = JournalSettings(directory: directory)
        s.fsync = policy
        s.segmentBytes = segmentBytes
        return s
    }

    private func write(_ journal: Journal, seqs: ClosedRange<UInt64>, perCommit: Int = 7) {
        for seq in seqs {
            let payload = Array("{\"event\":\(seq),\"pad\":\"\(String(repeating: "x", count: Int(seq % 50)))\"}".utf8)
            payload.withUnsafeBytes { journal.append(seq: seq, payload: $0) }
            if seq % UInt64(perCommit) == 0 { journal.commit() }
        }
        journal.commit()
    }

    func testRecordsRoundTripAndEveryTornTailIsCut() throws {
        let journal = try Journal(settings: settings())
        write(journal, seqs: 1...20)
        journal.close()
        let path = try XCTUnwrap(Journal.segments(in: directory).last)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // The last record starts where the 19th ends.
        var offsets: [Int] = [0]
        whole.withUnsafeBytes { bytes in
            while case .record(_, _, let next) = JournalRecord.decode(bytes, at: offsets.last!) { offsets.append(next) }
        }
        XCTAssertEqual(offsets.count, 21)
        XCTAssertEqual(offsets.last, whole.count)
        let lastStart = offsets[19]
        // Cut the file inside the last record at every byte: recovery keeps exactly 19 records.
        for cut in lastStart..<whole.count {
            try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
            let reopened = try Journal(settings: settings())
            XCTAssertEqual(reopened.lastSeq, 19, "cut at \(cut)")
            XCTAssertEqual(reopened.recoveredTail.map(\.seq), Array(1...19))
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)).count, lastStart, "the torn bytes are gone")
            XCTAssertEqual(reopened.stats.truncatedBytes.load(ordering: .relaxed), cut - lastStart)
            // Appending after recovery continues the sequence in the same segment.
            write(reopened, seqs: 20...21)
            reopened.close()
            XCTAssertEqual(try Journal(settings: settings()).lastSeq, 21)
            try whole.write(to: URL(fileURLWithPath: path))
        }
    }

    func testChecksumMismatchIsDetected() throws {
        let journal = try Journal(settings: settings())
        write(journal, seqs: 1...10)
        journal.close()
        let path = try XCTUnwrap(Journal.segments(in: directory).last)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 3] ^= 0x20  // a flipped bit inside record 10's payload
        try bytes.write(to: URL(fileURLWithPath: path))
        let reopened = try Journal(settings: settings())
        XCTAssertEqual(reopened.lastSeq, 9)
        XCTAssertEqual(reopened.stats.corruptRecords.load(ordering: .relaxed), 1)
        XCTAssertTrue(reopened.recoveryReport.contains("damaged"), reopened.recoveryReport)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            var n = 0
            while case .record(_, _, let next) = JournalRecord.decode(raw, at: offset) { offset = next; n += 1 }
            XCTAssertEqual(n, 9)
            XCTAssertEqual(JournalRecord.decode(raw, at: offset), .corrupt)
        }
    }

    func testSegmentsRollAndRetentionDeletesTheOldest() throws {
        var s = settings(segmentBytes: 2_000)
        s.retentionBytes = 6_000
        let journal = try Journal(settings: s)
        write(journal, seqs: 1...400, perCommit: 5)
        journal.close()
        let segments = Journal.segments(in: directory)
        XCTAssertGreaterThan(segments.count, 1)
        let total = segments.compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.reduce(0, +)
        XCTAssertLessThanOrEqual(total, 6_000 + 2_500, "retention keeps the journal near its size limit")
        XCTAssertFalse(segments.first!.hasSuffix(Journal.segmentName(firstSeq: 1)), "the oldest segment was deleted")
        let reopened = try Journal(settings: s, tailLimit: 50)
        XCTAssertEqual(reopened.lastSeq, 400)
        XCTAssertEqual(reopened.recoveredTail.map(\.seq), Array(351...400), "the newest records, across segments, in order")
    }

    func testFsyncPolicies() throws {
        for policy in FsyncPolicy.allCases {
            try? FileManager.default.removeItem(atPath: directory)
            var s = settings(policy)
            s.fsyncIntervalMs = 5
            let journal = try Journal(settings: s)
            write(journal, seqs: 1...30, perCommit: 10)
            let deadline = Date().addingTimeInterval(2)
            while policy == .interval && journal.stats.fsyncs.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(1_000) }
            let fsyncs = journal.stats.fsyncs.load(ordering: .relaxed)
            switch policy {
            case .always: XCTAssertGreaterThanOrEqual(fsyncs, 3, "one sync per commit")
            case .interval: XCTAssertGreaterThanOrEqual(fsyncs, 1, "group commit syncs within the interval")
            case .never: XCTAssertEqual(fsyncs, 0)
            }
            journal.close()
            XCTAssertEqual(try Journal(settings: s).lastSeq, 30, "\(policy)")
        }
    }

    func testEventsRoundTripThroughTheJournal() throws {
        let events: [PipelineEvent] = [
            .signal(StrategySignal(seq: 1, ts: 1_732_500_000_000, symbol: "600519.SH", strategy: "rsi_reversal",
                                   direction: .long, strength: 0.7, price: 1688.5, reason: "rsi 28 → 31")),
            .opportunity(Opportunity(seq: 2, id: "600519.SH-long-1", symbol: "600519.SH", direction: .long, status: .new,
                                     confidence: 0.7, price: 1688.5, strategies: ["rsi_reversal"], signalCount: 1,
                                     createdTs: 1, updatedTs: 2, expiresTs: 3, riskStatus: .warn, riskAlerts: ["wide_spread"])),
            .alert(RiskAlert(seq: 3, ts: 5, symbol: nil, kind: "signal_rate", severity: .warning, message: "too many",
                             value: 121, threshold: 120)),
        ]
        let journal = try Journal(settings: settings())
        let writer = JournalWriter(journal: journal)
        for e in events { writer.append(e) }
        writer.commit()
        journal.close()
        let decoded = try Journal(settings: settings()).recoveredTail.compactMap { EventDecoder.decode($0.payload)?.event }
        XCTAssertEqual(decoded.count, 3)
        for (a, b) in zip(decoded, events) {
            switch (a, b) {
            case (.signal(let x), .signal(let y)): XCTAssertEqual(x, y)
            case (.opportunity(let x), .opportunity(let y)): XCTAssertEqual(x, y)
            case (.alert(let x), .alert(let y)): XCTAssertEqual(x, y)
            default: XCTFail("\(a) is not \(b)")
            }
        }
    }
}
