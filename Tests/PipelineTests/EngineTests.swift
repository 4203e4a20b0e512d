import Contracts
import Foundation
import Pipeline
import XCTest

/// Collects engine output as NDJSON-like lines (the same encoder the replay command uses).
final class CollectingSink: EngineSink {
    var lines: [String] = []
    var seqs: [UInt64] = []
    var opportunities: [Opportunity] = []
    var alerts: [RiskAlert] = []
    var signals: [StrategySignal] = []
    var bars: [Bar] = []

    private func add(_ build: (inout JSONWriter) -> Void) {
        var w = JSONWriter()
        build(&w)
        lines.append(String(decoding: w.bytes, as: UTF8.self))
    }
    func engine(tick: Tick) {}
    func engine(bar: Bar) { bars.append(bar); add { EventEncoder.payload(bar, &$0) } }
    func engine(features: Features) { add { EventEncoder.payload(features, &$0) } }
    func engine(signal: StrategySignal) { signals.append(signal); seqs.append(signal.seq); add { EventEncoder.payload(signal, &$0) } }
    func engine(opportunity: Opportunity) { opportunities.append(opportunity); seqs.append(opportunity.seq); add { EventEncoder.payload(opportunity, &$0) } }
    func engine(alert: RiskAlert) { alerts.append(alert); seqs.append(alert.seq); add { EventEncoder.payload(alert, &$0) } }
    var outcomes: [SignalOutcome] = []
    func engine(outcome: SignalOutcome, score: LiveScore) {
        outcomes.append(outcome)
        lines.append("outcome \(outcome.seq) \(outcome.strategy) \(outcome.bars) \(outcome.ret)")
    }
}

final class EngineTests: XCTestCase {
    /// A deterministic tick stream with trends, reversals, a jump and wide spreads.
    static func ticks(count: Int, seed: UInt64 = 3) -> [Tick] {
        var state = seed
        func next(_ n: UInt64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % n)
        }
        var prices: [String: Int64] = ["600519.SH": 168_850, "000001.SZ": 1_052]
        let names = prices.keys.sorted()
        var ts: Int64 = 1_732_500_000_000
        var out: [Tick] = []
        for i in 0..<count {
            ts += 200 + next(800)
            let symbol = names[Int(next(2))]
            var cents = prices[symbol]!
            let regime: Int64 = (i / 3000) % 2 == 0 ? 1 : -1
            cents = max(100, cents + (next(41) - 20) * cents / 20_000 + regime * cents / 40_000)
            if i == count / 2 { cents = cents * 108 / 100 }  // an 8% jump
            prices[symbol] = cents
            let price = Double(cents) / 100
            let spread = i % 997 == 0 ? price * 0.01 : price * 0.0002
            out.append(Tick(symbol: symbol, ts: ts, price: price, volume: Double(100 * (1 + next(40)) * (i % 401 == 0 ? 20 : 1)),
                            bid: price - spread / 2, ask: price + spread / 2))
        }
        return out
    }

    private func run(_ ticks: [Tick], interval: String = "1m") -> (CollectingSink, SignalEngine) {
        let sink = CollectingSink()
        let engine = SignalEngine(settings: EngineSettings(interval: BarInterval(interval)!), strategies: .defaults, sink: sink)
        for t in ticks { engine.process(t) }
        engine.finish()
        return (sink, engine)
    }

    /// A stuck feed (the price unchanged for hundreds of bars, after a move or from the first bar)
    /// must not make RSI a false "oversold": no rsi_reversal signal when the price moves again.
    func testAFlatStretchIsNotAnRSIReversal() {
        func ticks(_ closes: [Double]) -> [Tick] {
            closes.enumerated().map { i, p in Tick(symbol: "STUCK.SZ", ts: 1_732_500_000_000 + Int64(i) * 60_000, price: p, volume: 100) }
        }
        // Up 20 bars, down 10 (RSI mid-range, ~60), 600 flat bars at the last price, then a small
        // move up. TA-Lib's RSI holds ~60 through the flat stretch: no oversold, no reversal.
        var afterMove: [Double] = []
        for i in 0..<20 { afterMove.append(100 + Double(i) * 0.1) }
        for i in 0..<10 { afterMove.append(101.9 - Double(i) * 0.12) }
        let last = afterMove[afterMove.count - 1]
        afterMove += [Double](repeating: last, count: 600)
        afterMove += [last + 0.05, last + 0.1, last + 0.1]
        // Flat from the very first bar, then a move.
        let fromStart: [Double] = [Double](repeating: 50, count: 300) + [50.02, 50.05, 50.05]
        let cases: [(String, [Double], flatFrom: Int)] = [("after a move", afterMove, 30), ("from the first bar", fromStart, 0)]
        for (name, closes, flatFrom) in cases {
            let (sink, _) = run(ticks(closes))
            let flatStart = 1_732_500_000_000 + Int64(flatFrom) * 60_000
            let reasons: [String] = sink.signals.filter { $0.strategy == "rsi_reversal" && $0.ts > flatStart }.map { $0.reason }
            XCTAssertEqual(reasons, [], "flat \(name): no RSI reversal on the move after it")
        }
    }

    /// History posted live (past-dated ticks) may reach the worker in parts; the wall clock must
    /// not close a past bar between two parts, only once the symbol has been quiet for the grace.
    func testTheClockDoesNotCutABatchOfPastDatedTicks() {
        let sink = CollectingSink()
        let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: sink)
        let wall: Int64 = 1_800_000_000_000
        let start = wall - 60_000  // a minute ago
        // Bar [start, start+1s) gets its first half, then the clock ticks, then the second half.
        engine.process(Tick(symbol: "H", ts: start + 100, price: 10, volume: 1), wallMs: wall)
        engine.tickClock(wallMs: wall + 5, graceMs: 250)
        XCTAssertTrue(sink.bars.isEmpty, "a bar whose ticks are still arriving stays open")
        engine.process(Tick(symbol: "H", ts: start + 900, price: 12, volume: 1), wallMs: wall + 6)
        engine.process(Tick(symbol: "H", ts: start + 1_000, price: 11, volume: 1), wallMs: wall + 7)
        XCTAssertEqual(sink.bars.count, 1)
        XCTAssertEqual(sink.bars.first?.high, 12, "the bar has both parts")
        XCTAssertEqual(sink.bars.first?.trades, 2)
        // Quiet for the grace: the clock closes the last bar.
        engine.tickClock(wallMs: wall + 100, graceMs: 250)
        XCTAssertEqual(sink.bars.count, 1)
        engine.tickClock(wallMs: wall + 300, graceMs: 250)
        XCTAssertEqual(sink.bars.count, 2)
        // A live symbol still closes at bar end + grace.
        engine.process(Tick(symbol: "L", ts: wall + 400, price: 5, volume: 1), wallMs: wall + 400)
        engine.tickClock(wallMs: wall + 1_100, graceMs: 250)
        XCTAssertEqual(sink.bars.count, 2)
        engine.tickClock(wallMs: wall + 1_250, graceMs: 250)
        XCTAssertEqual(sink.bars.last?.symbol, "L")
    }

    func testDeterministicAndSequenced() {
        let ticks = Self.ticks(count: 40_000)
        let (a, engineA) = run(ticks)
        let (b, _) = run(ticks)
        XCTAssertEqual(a.lines, b.lines, "two runs over the same input must be identical")
        XCTAssertFalse(a.seqs.isEmpty)
        XCTAssertEqual(a.seqs, Array(1...UInt64(a.seqs.count)), "seq is gap-free and strictly increasing")
        XCTAssertEqual(engineA.seq, UInt64(a.seqs.count))
        XCTAssertGreaterThan(engineA.counters.bars, 100)
        XCTAssertEqual(Set(a.signals.map(\.strategy)).count >= 4, true, "several strategies fire: \(Set(a.signals.map(\.strategy)))")
        let kinds = Set(a.alerts.map(\.kind))
        XCTAssertTrue(kinds.contains("price_jump"), "\(kinds)")
        XCTAssertTrue(kinds.contains("wide_spread"), "\(kinds)")
    }

    func testOutOfOrderTicksAreRefusedAndReported() {
        let sink = CollectingSink()
        let engine = SignalEngine(settings: EngineSettings(interval: BarInterval("1s")!), strategies: .defaults, sink: sink)
        XCTAssertEqual(engine.process(Tick(symbol: "A", ts: 2000, price: 10, volume: 1)), .accepted)
        XCTAssertEqual(engine.process(Tick(symbol: "A", ts: 1999, price: 10, volume: 1)), .outOfOrder(lastTs: 2000))
        XCTAssertEqual(engine.process(Tick(symbol: "B", ts: 1000, price: 10, volume: 1)), .accepted, "per symbol")
        XCTAssertEqual(engine.process(Tick(symbol: "A", ts: 2000, price: 10.01, volume: 1)), .accepted, "equal ts is in order")
        XCTAssertEqual(sink.alerts.map(\.kind), ["out_of_order"])
        XCTAssertEqual(engine.counters.outOfOrder, 1)
    }

    func testOpportunityLifecycle() {
        var aggregator = OpportunityAggregator(settings: AggregatorSettings(ttlMs: 1000, cooldownMs: 500))
        func signal(_ ts: Int64, _ strategy: String, _ d: Direction, _ s: Double) -> StrategySignal {
            StrategySignal(ts: ts, symbol: "A", strategy: strategy, direction: d, strength: s, price: 10, reason: "")
        }
        let ok: (status: RiskStatus, alerts: [String]) = (.ok, [])
        let first = aggregator.add(signal(0, "x", .long, 0.5), risk: ok)
        XCTAssertEqual(first.map(\.status), [.new])
        XCTAssertEqual(first[0].id, "A-long-0")
        let second = aggregator.add(signal(100, "y", .long, 0.5), risk: ok)
        XCTAssertEqual(second.map(\.status), [.updated])
        XCTAssertEqual(second[0].confidence, 0.75, accuracy: 1e-12, "1 − (1−0.5)(1−0.5)")
        XCTAssertEqual(second[0].strategies, ["x", "y"])
        let repeatX = aggregator.add(signal(200, "x", .long, 0.4), risk: ok)
        XCTAssertEqual(repeatX[0].confidence, 0.75, accuracy: 1e-12, "a repeating strategy adds nothing")
        XCTAssertEqual(repeatX[0].signalCount, 3)
        let flip = aggregator.add(signal(300, "z", .short, 0.6), risk: (.blocked, ["price_jump"]))
        XCTAssertEqual(flip.map(\.status), [.expired, .blocked], "the opposite signal closes the episode")
        XCTAssertEqual(flip[1].riskAlerts, ["price_jump"])
        XCTAssertEqual(aggregator.expire(before: 1200).count, 0)
        XCTAssertEqual(aggregator.expire(before: 1301).map(\.status), [.expired])
        XCTAssertTrue(aggregator.add(signal(1400, "z", .short, 0.6), risk: ok).isEmpty, "cool-down after expiry")
        XCTAssertEqual(aggregator.add(signal(1900, "z", .short, 0.6), risk: ok).map(\.status), [.new])
    }

    /// `expire` skips its scan on bars before the earliest expiry it knows of: whatever the
    /// signals (symbols, directions, times out of order, a checkpoint round trip), it expires
    /// exactly the open episodes whose `expires_ts` is before the time given, no more, no fewer.
    func testExpiryExpiresExactlyTheEpisodesDue() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<50 {
            var aggregator = OpportunityAggregator(settings: AggregatorSettings(ttlMs: Int64.random(in: 50...500, using: &rng),
                                                                                 cooldownMs: Int64.random(in: 0...200, using: &rng)))
            var now: Int64 = 1_000
            for step in 0..<400 {
                now += Int64.random(in: -20...60, using: &rng)
                if Int.random(in: 0..<4, using: &rng) > 0 {
                    let signal = StrategySignal(ts: now, symbol: ["A", "B", "C"].randomElement(using: &rng)!,
                                                strategy: ["x", "y"].randomElement(using: &rng)!,
                                                direction: Bool.random(using: &rng) ? .long : .short,
                                                strength: 0.5, price: 10, reason: "")
                    _ = aggregator.add(signal, risk: (.ok, []))
                } else {
                    let due = Set(aggregator.openOpportunities.filter { $0.expiresTs < now }.map(\.id))
                    let expired = aggregator.expire(before: now)
                    XCTAssertEqual(Set(expired.map(\.id)), due, "round \(round), step \(step)")
                    XCTAssertTrue(expired.allSatisfy { $0.status == .expired })
                    XCTAssertTrue(aggregator.openOpportunities.allSatisfy { $0.expiresTs >= now })
                }
            }
        }
    }
}
