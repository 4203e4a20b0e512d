import Dispatch
import Contracts
import Markets
import Pipeline

public struct BacktestSettings: Sendable, Equatable {
    /// Forward-return horizons of the scorecard, in bars.
    public var horizons = [1, 5, 20]
    public var trade = TradeSettings()
    /// Bars a year for annualised figures; nil: each symbol's bar count over the years it spans.
    public var periodsPerYear: Double?
    public init() {}
}

/// One strategy on one symbol.
public struct StrategyRun: Sendable {
    public var strategy: Int
    public var symbol: Int
    public var simulation: Simulation
    public var metrics: Metrics
}

public struct BacktestResult: Sendable {
    public var strategies: [String]
    public var symbols: [String]
    public var bars: [[Bar]]
    public var signals: [RecordedSignal]
    /// Strategy-major: every symbol of the first strategy, then the next…
    public var runs: [StrategyRun]
    /// Per symbol: buying at the first close and holding to the last.
    public var buyAndHold: [Metrics]
    public var buyAndHoldEquity: [[Double]]
    /// Per strategy over all symbols, then per strategy and symbol.
    public var scorecards: [Scorecard]
    public var intervalMs: Int64
    public var settings: BacktestSettings

    public var trades: [Trade] { runs.flatMap(\.simulation.trades) }

    /// Signals per (strategy, symbol), at `strategy * symbols.count + symbol`.
    public var signalCounts: [Int] {
        var counts = [Int](repeating: 0, count: strategies.count * symbols.count)
        for s in signals { counts[s.strategy * symbols.count + s.symbol] += 1 }
        return counts
    }
}

/// A backtest on the live engine (docs/RESEARCH.md): bars or ticks go through `SignalEngine`
/// exactly as in the server; the recorded signals are then scored and traded.
public enum Backtest {
    public static let msPerYear = 365.25 * 86_400_000

    /// Runs closed bars (an OHLCV file's) through the engine, in time order across symbols.
    public static func run(bars: [Bar], registry: StrategyRegistry, interval: BarInterval,
                           settings: BacktestSettings) -> BacktestResult {
        evaluate(record(bars: bars, registry: registry, interval: interval), intervalMs: interval.milliseconds, settings: settings)
    }

    /// The engine's run over the bars, kept for `evaluate`.
    public static func record(bars: [Bar], registry: StrategyRegistry, interval: BarInterval) -> BacktestRecorder {
        let recorder = BacktestRecorder(registry: registry)
        recorder.keepsBars = false
        recorder.expectedBarsPerSymbol = bars.first?.symbol == bars.last?.symbol ? bars.count : 0
        let engine = SignalEngine(settings: researchSettings(interval), strategies: registry, sink: recorder)
        bars.withUnsafeBufferPointer { engine.process(bars: $0) }
        recorder.adoptBars(bars)
        return recorder
    }

    /// The engine of a research run: the live one without risk guard and opportunities, its
    /// bars (from ticks) on `markets`' venue clocks.
    public static func researchSettings(_ interval: BarInterval, markets: MarketDirectory = .off) -> EngineSettings {
        var settings = EngineSettings(interval: interval)
        settings.signalsOnly = true
        settings.markets = markets
        return settings
    }

    /// Scores and trades what a recorder kept.
    public static func evaluate(_ recorder: BacktestRecorder, intervalMs: Int64, settings: BacktestSettings) -> BacktestResult {
        let symbols = recorder.symbols
        let strategies = recorder.strategies
        // Signals per (strategy, symbol), in bar order (they were recorded in time order).
        var groups = [[RecordedSignal]](repeating: [], count: strategies.count * symbols.count)
        for s in recorder.signals { groups[s.strategy * symbols.count + s.symbol].append(s) }
        let years = recorder.bars.map { bars in bars.isEmpty ? 0 : Double(bars.last!.start - bars.first!.start + intervalMs) / msPerYear }
        let perYear = zip(recorder.bars, years).map { bars, span in
            settings.periodsPerYear ?? (span > 0 ? Double(bars.count) / span : 252)
        }
        // The trades and their metrics on one core; buy-and-hold and the scorecards on the other.
        nonisolated(unsafe) var runs: [StrategyRun] = []
        nonisolated(unsafe) var holdEquity: [[Double]] = []
        nonisolated(unsafe) var hold: [Metrics] = []
        nonisolated(unsafe) var cards: [Scorecard] = []
        nonisolated(unsafe) let recorder = recorder, grouped = groups
        let exitHolds = recorder.exitHolds
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                for k in strategies.indices {
                    for (m, bars) in recorder.bars.enumerated() {
                        let sim = TradeSimulator.run(bars: bars[...], signals: grouped[k * symbols.count + m][...], exit: recorder.exits[k],
                                                     exitHolds: exitHolds[m][k][...], strategy: k, symbol: m,
                                                     settings: settings.trade)
                        let metrics = Metrics(equity: sim.equity, trades: sim.trades.map(\.ret), barsInMarket: sim.barsInMarket,
                                              years: years[m], periodsPerYear: perYear[m])
                        runs.append(StrategyRun(strategy: k, symbol: m, simulation: sim, metrics: metrics))
                    }
                }
            } else {
                for (m, bars) in recorder.bars.enumerated() {
                    let first = bars.first?.close ?? 1
                    let equity = bars.map { $0.close / first }
                    holdEquity.append(equity)
                    hold.append(Metrics(equity: equity, trades: [], barsInMarket: bars.count, years: years[m], periodsPerYear: perYear[m]))
                }
                cards = scorecards(recorder, grouped: grouped, horizons: settings.horizons)
            }
        }
        return BacktestResult(strategies: strategies, symbols: symbols, bars: recorder.bars, signals: recorder.signals,
                              runs: runs, buyAndHold: hold, buyAndHoldEquity: holdEquity, scorecards: cards,
                              intervalMs: intervalMs, settings: settings)
    }

    static func scorecards(_ r: BacktestRecorder, grouped: [[RecordedSignal]], horizons: [Int]) -> [Scorecard] {
        let n = r.symbols.count
        func samples(_ signals: [RecordedSignal], _ h: Int) -> [(strength: Double, ret: Double)] {
            signals.compactMap { s in
                let bars = r.bars[s.symbol]
                guard s.bar + h < bars.count else { return nil }
                let forward = bars[s.bar + h].close / bars[s.bar].close - 1
                return (s.strength, s.direction == .long ? forward : -forward)
            }
        }
        func card(_ k: Int, _ symbol: Int?) -> Scorecard {
            let signals = symbol.map { grouped[k * n + $0] } ?? (0..<n).flatMap { grouped[k * n + $0] }
            return Scorecard(strategy: r.strategies[k], symbol: symbol.map { r.symbols[$0] }, signals: signals.count,
                             horizons: horizons.map { HorizonScore(bars: $0, samples: samples(signals, $0)) })
        }
        var cards: [Scorecard] = []
        for k in r.strategies.indices {
            cards.append(card(k, nil))
            for m in 0..<n { cards.append(card(k, m)) }
        }
        return cards
    }
}
