import CLinux
import Contracts
import Foundation
import Pipeline
import Store
import Synchronization

/// The pipeline worker in the end-to-end benchmark's shape, without sockets
/// (`dongfeng-bench worker [ticks]`): 1 ms bars, the one zig-zag rule of
/// Benchmarks/e2e-strategies.json (a signal and an opportunity update every other tick), the
/// event and input journals (fsync interval), the query store, and one consumer ring drained by
/// another thread that — like a reactor loop whose clients read opportunities only — takes
/// sequenced events. Ticks go in bursts of 32 (a POST's worth at 50k ticks/s), each burst waiting
/// for its commit (the 202). Prints the worker's cost per tick: the figure that sets the batch
/// size, and so the latency, of the end-to-end run.
enum WorkerBench {
    static func ticks(_ n: Int) -> [Tick] {
        (0..<n).map { i in
            Tick(symbol: "BENCH", ts: 1_732_500_000_000 + Int64(i), price: 100 + Double(i % 2) + Double(i) * 0.0001, volume: 100)
        }
    }

    static func once(_ ticks: [Tick], strategies: StrategyRegistry, dir: String) -> Double {
        let journal = try! Journal(settings: JournalSettings(directory: dir + "/journal"))
        let inputs = try! Journal(settings: JournalSettings(directory: dir + "/inputs"))
        let store = EventStore(capacity: 10_000)
        var settings = EngineSettings(interval: BarInterval("1ms")!)
        settings.aggregator = AggregatorSettings(cooldownMs: 0)
        let worker = PipelineWorker(settings: settings, strategies: strategies, store: store)
        worker.journal = JournalWriter(journal: journal, inputs: inputs)
        let input = worker.makeInput(name: "bench", capacity: 1 << 14, policy: .block)
        let bell = Doorbell(spins: 100)
        let output = worker.addOutput { bell.wakeAll() }
        output.want(lossy: [])
        let running = Atomic<Bool>(true)
        let consumer = Thread {
            var seen = 0
            while running.load(ordering: .acquiring) {
                bell.wait(timeoutMs: 10) { output.depth > 0 || !running.load(ordering: .relaxed) }
                output.drain { event, _, envelope in seen &+= envelope.count }
            }
            _ = seen
        }
        consumer.start()
        worker.start()
        let t0 = dfl_monotonic_ns()
        var sent = 0
        while sent < ticks.count {
            let end = min(ticks.count, sent + 32)
            input.submit(contentsOf: ticks[sent..<end])
            sent = end
            let committed = DispatchSemaphore(value: 0)
            input.whenCommitted { _ in committed.signal() }
            committed.wait()
        }
        let seconds = Double(dfl_monotonic_ns() - t0) / 1e9
        worker.stop()
        running.store(false, ordering: .releasing)
        bell.wakeAll()
        journal.close()
        inputs.close()
        return Double(ticks.count) / seconds
    }

    static func run(count: Int) {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("e2e-strategies.json")
        guard let data = FileManager.default.contents(atPath: path.path), let strategies = try? StrategyRegistry.parse(data) else {
            print("cannot read \(path.path)")
            exit(1)
        }
        let ticks = ticks(count)
        var rates: [Double] = []
        for _ in 0..<5 {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-worker-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            rates.append(once(ticks, strategies: strategies, dir: dir))
        }
        let median = rates.sorted()[2]
        print(String(format: "worker, e2e shape (1 ms bars, one rule, journals, bursts of 32): %.0f ticks/s, %.2f µs a tick (median of 5: %@)",
                     median, 1e6 / median, rates.map { String(format: "%.0f", $0) }.joined(separator: ", ")))
    }
}
