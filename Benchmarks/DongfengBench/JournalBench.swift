import CLinux
import Contracts
import Foundation
import Histogram
import Pipeline
import Store

/// Journal figures: append throughput and commit latency per fsync policy (batches of 64
/// opportunity records, as the worker commits a batch), and recovery time for 1M records.
enum JournalBench {
    static func payload() -> [UInt8] {
        let o = Opportunity(seq: 1, id: "600519.SH-long-1732500000000", symbol: "600519.SH", direction: .long,
                            status: .updated, confidence: 0.8236, price: 1688.52, strategies: ["rsi_reversal", "macd_cross"],
                            signalCount: 3, createdTs: 1_732_500_000_000, updatedTs: 1_732_500_060_000,
                            expiresTs: 1_732_500_360_000, riskStatus: .ok, riskAlerts: [])
        var w = JSONWriter()
        EventEncoder.sequencedEnvelope(type: "opportunity", seq: 1, &w) { EventEncoder.payload(o, &$0, key: "payload") }
        return w.bytes
    }

    static func run() {
        let record = payload()
        print("journal: \(record.count)-byte opportunity records, committed in batches of 64")
        print("\("policy".padding(toLength: 10, withPad: " ", startingAt: 0)) \("records/s".padding(toLength: 12, withPad: " ", startingAt: 0)) \("MB/s".padding(toLength: 8, withPad: " ", startingAt: 0)) commit p50 / p99 / p99.9 (µs)")
        for (policy, count) in [(FsyncPolicy.never, 1_000_000), (.interval, 1_000_000), (.always, 100_000)] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-journal-bench-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var settings = JournalSettings(directory: dir)
            settings.fsync = policy
            guard let journal = try? Journal(settings: settings) else { print("cannot open \(dir)"); return }
            var commits = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
            let t0 = dfl_monotonic_ns()
            record.withUnsafeBytes { bytes in
                for seq in 1...count {
                    journal.append(seq: UInt64(seq), payload: bytes)
                    if seq % 64 == 0 || seq == count {
                        let c0 = dfl_monotonic_ns()
                        journal.commit()
                        commits.record(UInt64(dfl_monotonic_ns() - c0))
                    }
                }
            }
            let seconds = Double(dfl_monotonic_ns() - t0) / 1e9
            journal.close()
            func us(_ q: Double) -> String { String(format: "%.1f", Double(commits.valueAtPercentile(q)) / 1000) }
            print("\(policy.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(Int(Double(count) / seconds)).padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(format: "%.0f", Double(count * (record.count + 16)) / seconds / 1e6).padding(toLength: 8, withPad: " ", startingAt: 0)) \(us(50)) / \(us(99)) / \(us(99.9))  (fsyncs \(journal.stats.fsyncs.load(ordering: .relaxed)))")
            if policy == .never {
                // Recovery of this 1M-record journal, as the server does it: scan, cut, decode the tail.
                let r0 = dfl_monotonic_ns()
                guard let reopened = try? Journal(settings: settings) else { return }
                let events = reopened.recoveredTail.compactMap { EventDecoder.decode($0.payload)?.event }
                let ms = Double(dfl_monotonic_ns() - r0) / 1e6
                print(String(format: "recovery of %d records (%.0f MB, %d segments): %.0f ms, last seq %llu, %d newest decoded",
                             count, Double(count * (record.count + 16)) / 1e6, Journal.segments(in: dir).count, ms,
                             reopened.lastSeq, events.count))
                reopened.close()
            }
        }
    }
}
