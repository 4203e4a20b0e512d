import CLinux
import Contracts
import Foundation
import Pipeline
import Store

/// What exact crash recovery costs (`dongfeng-bench recovery`, Benchmarks/recovery.sh):
/// - per tick: the pipeline worker with the event journal alone against the event journal plus
///   the input journal (journal.inputs), simulated ticks through a producer ring, all committed;
/// - per checkpoint: the capture on the worker thread, then encoding and the atomic write on the
///   background queue, for 8 and for 2,000 symbols;
/// - at start: reading, decoding and replaying journaled inputs.
enum RecoveryBench {
    static func worker(ticks: [Tick], inputs: Bool, dir: String) -> (ticksPerSecond: Double, inputBytes: Int) {
        var settings = JournalSettings(directory: dir + "/journal")
        settings.fsync = ProcessInfo.processInfo.environment["FSYNC"].flatMap(FsyncPolicy.init) ?? .interval
        var inputSettings = JournalSettings(directory: dir + "/inputs")
        inputSettings.fsync = settings.fsync
        guard let journal = try? Journal(settings: settings) else {
            print("cannot open the journal in \(dir)")
            return (0, 0)
        }
        let inputJournal: Journal? = inputs ? try? Journal(settings: inputSettings) : nil
        let store = EventStore(capacity: 10_000)
        let worker = PipelineWorker(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, store: store)
        worker.journal = JournalWriter(journal: journal, inputs: inputJournal)
        let input = worker.makeInput(name: "bench", capacity: 1 << 16, policy: .block)
        worker.start()
        let t0 = dfl_monotonic_ns()
        for t in ticks { input.submit(t) }
        while input.committed.load(ordering: .acquiring) < ticks.count { usleep(200) }
        let seconds = Double(dfl_monotonic_ns() - t0) / 1e9
        worker.stop()
        journal.close()
        inputJournal?.close()
        return (Double(ticks.count) / seconds, inputJournal?.stats.bytes.load(ordering: .relaxed) ?? 0)
    }

    static func run(count: Int) {
        let ticks = PipelineBench.simulatedTicks(count)
        print("recovery: \(count) simulated ticks (8 symbols), 1s bars, every strategy, journal fsync interval")
        var plain: [Double] = [], journaled: [Double] = []
        var bytes = 0
        for round in 0..<3 {
            for inputs in round % 2 == 0 ? [false, true] : [true, false] {
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-recovery-\(UUID().uuidString)").path
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let r = worker(ticks: ticks, inputs: inputs, dir: dir)
                if inputs { journaled.append(r.ticksPerSecond); bytes = r.inputBytes } else { plain.append(r.ticksPerSecond) }
            }
        }
        plain.sort()
        journaled.sort()
        let cost = 1e9 / journaled[1] - 1e9 / plain[1]
        print(String(format: "worker, events journaled:          %9.0f ticks/s (runs %@)", plain[1],
                     plain.map { String(format: "%.0f", $0) }.joined(separator: ", ")))
        print(String(format: "worker, events + inputs journaled: %9.0f ticks/s (runs %@)", journaled[1],
                     journaled.map { String(format: "%.0f", $0) }.joined(separator: ", ")))
        print(String(format: "input journal: %.1f bytes a tick, %.0f ns a tick (median against median)",
                     Double(bytes) / Double(count), cost))
        if ProcessInfo.processInfo.environment["RECOVERY_WORKER_ONLY"] != nil { return }

        for symbols in [8, 2_000] {
            let sink = CountingSink()
            let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: sink)
            var ts: Int64 = 1_732_500_000_000
            for i in 0..<(symbols * 120) {
                ts += 5
                engine.process(Tick(symbol: "S\(i % symbols)", ts: ts, price: 100 + Double(i % 97) * 0.01, volume: 100))
            }
            let c0 = dfl_monotonic_ns()
            let rounds = 20
            var checkpoint = engine.checkpoint()
            for _ in 1..<rounds { checkpoint = engine.checkpoint() }
            let capture = Double(dfl_monotonic_ns() - c0) / Double(rounds) / 1e3
            let e0 = dfl_monotonic_ns()
            let encoded = CheckpointFile.encode(checkpoint, history: [], takenMs: 0)
            let encode = Double(dfl_monotonic_ns() - e0) / 1e3
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-ckpt-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let w0 = dfl_monotonic_ns()
            try? CheckpointFile.write(encoded, to: dir, sync: true)
            let write = Double(dfl_monotonic_ns() - w0) / 1e3
            let r0 = dfl_monotonic_ns()
            let decoded = CheckpointFile.read(from: dir, settings: EngineSettings(interval: BarInterval("1s")!))
            let read = Double(dfl_monotonic_ns() - r0) / 1e3
            guard case .loaded = decoded else { print("checkpoint did not read back"); return }
            print(String(format: "checkpoint of %5d symbols: %8d bytes; capture on the worker %7.1f µs; encode %7.1f µs, write + fdatasync + rename %7.1f µs, read + decode %7.1f µs (background)",
                         symbols, encoded.count, capture, encode, write, read))
        }

        // Start-up: the inputs since the last checkpoint, read, decoded and replayed.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-replay-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = worker(ticks: ticks, inputs: true, dir: dir)
        let s0 = dfl_monotonic_ns()
        guard let inputs = try? Journal(settings: JournalSettings(directory: dir + "/inputs"), tailLimit: 0) else { return }
        let decoded = JournalWriter.inputs(in: inputs, after: 0).inputs
        let readMs = Double(dfl_monotonic_ns() - s0) / 1e6
        let sink = CountingSink()
        let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: sink)
        let p0 = dfl_monotonic_ns()
        for input in decoded { engine.replay(input) }
        let replayMs = Double(dfl_monotonic_ns() - p0) / 1e6
        print(String(format: "start-up: %d journaled inputs read + decoded in %.0f ms, replayed in %.0f ms (%.1fM inputs/s)",
                     decoded.count, readMs, replayMs, Double(decoded.count) / replayMs / 1e3))
        inputs.close()
    }
}
