import CLinux
import Contracts
import Foundation
import Histogram
import Pipeline
import Synchronization

/// Counts outputs and remembers whether the last tick produced an opportunity.
final class CountingSink: EngineSink {
    var opportunities = 0
    var lastTickMadeOpportunity = false
    func engine(tick: Tick) { lastTickMadeOpportunity = false }
    func engine(bar: Bar) {}
    func engine(features: Features) {}
    func engine(signal: StrategySignal) {}
    func engine(opportunity: Opportunity) { opportunities += 1; lastTickMadeOpportunity = true }
    func engine(alert: RiskAlert) {}
}

enum PipelineBench {
    static func simulatedTicks(_ n: Int) -> [Tick] {
        var simulator = MarketSimulator(ticksPerSecond: 2000, seed: 11, startMs: 1_732_500_000_000)
        return (0..<n).map { _ in simulator.next() }
    }

    /// Engine alone on one core: ticks/s with 1s bars and every strategy enabled.
    static func throughput(_ ticks: [Tick]) -> Double {
        let sink = CountingSink()
        let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: sink)
        let t0 = dfl_monotonic_ns()
        for t in ticks { engine.process(t) }
        engine.finish()
        return Double(ticks.count) / (Double(dfl_monotonic_ns() - t0) / 1e9)
    }

    struct Latency {
        var all = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        var toOpportunity = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        var offeredPerSecond = 0.0
    }

    /// A producer thread offers ticks at `rate` per second into an SPSC ring; the worker (this
    /// thread) drains and processes them. Latency = enqueue → processed, in ns; separately for
    /// ticks whose processing emitted an opportunity (tick → opportunity).
    static func latency(_ ticks: [Tick], rate: Double) -> Latency {
        let ring = SPSCRing<(Tick, Int64)>(capacity: 1 << 16)
        let bell = Doorbell(spins: 10_000)
        let done = Atomic<Bool>(false)
        let interval = 1e9 / rate
        let producer = Thread {
            let start = dfl_monotonic_ns()
            for (i, t) in ticks.enumerated() {
                let due = start + Int64(Double(i) * interval)
                while dfl_monotonic_ns() < due {}
                _ = ring.push((t, dfl_monotonic_ns()), policy: .block, doorbell: bell)
            }
            done.store(true, ordering: .releasing)
            bell.wakeAll()
        }
        let sink = CountingSink()
        let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: sink)
        var result = Latency()
        let t0 = dfl_monotonic_ns()
        producer.start()
        var processed = 0
        while processed < ticks.count {
            bell.wait(timeoutMs: 100) { !ring.isEmpty || done.load(ordering: .acquiring) }
            ring.drain { item, _ in
                engine.process(item.0)
                let latency = UInt64(max(0, dfl_monotonic_ns() - item.1))
                _ = result.all.record(latency)
                if sink.lastTickMadeOpportunity { _ = result.toOpportunity.record(latency) }
                processed += 1
            }
        }
        result.offeredPerSecond = Double(ticks.count) / (Double(dfl_monotonic_ns() - t0) / 1e9)
        return result
    }

    /// Median engine throughput of three passes, then the latency table: one line each, for
    /// scripts ("engine ticks/s N", "offered R ... p50 X p99 Y p99.9 Z").
    static func report(ticks count: Int) {
        let ticks = simulatedTicks(count)
        let rates = (0..<3).map { _ in throughput(ticks) }.sorted()
        print("engine ticks/s \(Int(rates[1])) (median of 3 passes over \(count) simulated ticks, 1s bars, all strategies)")
        reportLatency(Array(ticks.prefix(min(count, 1_000_000))))
    }

    static func reportLatency(_ ticks: [Tick]) {
        print("pipeline latency, producer thread → SPSC ring → engine (ns; hdrhistogram):")
        for rate in [100_000.0, 1_000_000.0] {
            let l = latency(ticks, rate: rate)
            func row(_ name: String, _ h: Histogram<UInt64>) -> String {
                "\(name) p50 \(h.valueAtPercentile(50)) p99 \(h.valueAtPercentile(99)) p99.9 \(h.valueAtPercentile(99.9)) (n=\(h.totalCount))"
            }
            print("offered \(Int(rate)) ticks/s (achieved \(Int(l.offeredPerSecond))):")
            print("  " + row("tick → processed", l.all))
            print("  " + row("tick → opportunity", l.toOpportunity))
        }
    }
}
