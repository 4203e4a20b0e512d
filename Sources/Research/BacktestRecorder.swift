import Contracts
import Pipeline

/// What a strategy said on one bar of one symbol.
public struct RecordedSignal: Sendable, Equatable {
    /// Index into the recorder's `strategies`.
    public var strategy: Int
    /// Index into the recorder's `symbols`.
    public var symbol: Int
    /// Index of the bar among its symbol's bars (the bar on whose close it fired).
    public var bar: Int
    public var direction: Direction
    public var strength: Double

    public init(strategy: Int, symbol: Int, bar: Int, direction: Direction, strength: Double) {
        self.strategy = strategy
        self.symbol = symbol
        self.bar = bar
        self.direction = direction
        self.strength = strength
    }
}

/// The engine's output a backtest needs, kept as it happens: each symbol's closed bars, every
/// signal of the strategies under test, and whether each strategy's exit rule held on each bar.
/// The engine is the live one (same bars, indicators and strategies), so live equals backtest.
public final class BacktestRecorder: EngineSink {
    /// The strategies under test, in the registry's order.
    public let strategies: [String]
    /// Each tested strategy's exit rule (`exit_when`, `hold_bars`, `stop_pct`, `take_pct`).
    public let exits: [RuleExit]
    public private(set) var symbols: [String] = []
    /// Per symbol, its closed bars in time order.
    public private(set) var bars: [[Bar]] = []
    /// Per symbol, how many bars closed.
    public private(set) var barCounts: [Int] = []
    /// Off when the caller has the bars already (an OHLCV file): `adoptBars` gives them after
    /// the run, and the engine's copies are not kept.
    public var keepsBars = true
    public private(set) var signals: [RecordedSignal] = []
    /// Per symbol, per strategy with an `exit_when`: the rule's value on each bar (else empty).
    public var exitHolds: [[[Bool]]] {
        (0..<symbols.count).map { m in
            var perStrategy = [[Bool]](repeating: [], count: strategies.count)
            for (j, rule) in exitRules.enumerated() { perStrategy[rule.strategy] = holdColumns[m * exitRules.count + j] }
            return perStrategy
        }
    }
    /// The exit rules' values, one column per (symbol, exit rule) at `symbol * exitRules.count + j`.
    private var holdColumns: [[Bool]] = []

    private var strategyIndex: [String: Int] = [:]
    private var symbolIndex: [String: Int] = [:]
    private var lastSymbol = ""
    private var lastIndex = -1
    private var lastFrame: ObjectIdentifier?
    private var lastFrameBase = 0
    /// The tested strategies with an `exit_when`, and the rule as a closure (called per bar:
    /// no copy of the rule's value each time).
    private let exitRules: [(strategy: Int, evaluate: @Sendable (RuleInput) -> Double?)]

    public init(registry: StrategyRegistry) {
        let tested = registry.entries.filter(\.enabled).map(\.strategy)
        strategies = tested.map(\.name)
        exits = tested.map { ($0 as? RuleStrategy)?.exit ?? RuleExit() }
        exitRules = exits.enumerated().compactMap { i, e in e.when.map { (i, $0.evaluation) } }
        for (i, name) in strategies.enumerated() { strategyIndex[name] = i }
    }

    /// Room for this many bars of each symbol to come (saves regrowing long series).
    public var expectedBarsPerSymbol = 0

    private func index(of symbol: String) -> Int {
        if symbol == lastSymbol { return lastIndex }
        let i: Int
        if let known = symbolIndex[symbol] {
            i = known
        } else {
            i = symbols.count
            symbolIndex[symbol] = i
            symbols.append(symbol)
            var room: [Bar] = []
            if keepsBars { room.reserveCapacity(expectedBarsPerSymbol) }
            bars.append(room)
            barCounts.append(0)
            for _ in exitRules {
                var column: [Bool] = []
                column.reserveCapacity(expectedBarsPerSymbol)
                holdColumns.append(column)
            }
        }
        lastSymbol = symbol
        lastIndex = i
        return i
    }

    public func engine(bar: Bar) {
        let sym = index(of: bar.symbol)
        barCounts[sym] += 1
        if keepsBars { bars[sym].append(bar) }
    }

    /// The bars the engine was given (in time order across symbols), as each symbol's series:
    /// a file of one symbol is used as it is, without a copy.
    public func adoptBars(_ input: [Bar]) {
        if symbols.count == 1, input.count == barCounts[0] {
            bars = [input]
            return
        }
        var grouped = barCounts.map { n -> [Bar] in
            var series: [Bar] = []
            series.reserveCapacity(n)
            return series
        }
        for bar in input { if let i = symbolIndex[bar.symbol] { grouped[i].append(bar) } }
        bars = grouped
    }

    public func engine(signal: StrategySignal) {
        guard let s = strategyIndex[signal.strategy] else { return }
        let sym = index(of: signal.symbol)
        signals.append(RecordedSignal(strategy: s, symbol: sym, bar: barCounts[sym] - 1, direction: signal.direction,
                                      strength: signal.strength))
    }

    public func engine(evaluated context: StrategyContext) {
        guard !exitRules.isEmpty else { return }
        // One frame per symbol: the last frame seen names the symbol without reading its name.
        let frame = context.input.frame
        if ObjectIdentifier(frame) != lastFrame {
            lastFrame = ObjectIdentifier(frame)
            lastFrameBase = index(of: frame.symbol) * exitRules.count
        }
        let base = lastFrameBase
        exitRules.withUnsafeBufferPointer { rules in
            for j in rules.indices { holdColumns[base + j].append((rules[j].evaluate(context.input) ?? 0) != 0) }
        }
    }

    public var takesTicks: Bool { false }
    public func engine(tick: Tick) {}
    public func engine(features: Features) {}
    public func engine(opportunity: Opportunity) {}
    public func engine(alert: RiskAlert) {}
}
