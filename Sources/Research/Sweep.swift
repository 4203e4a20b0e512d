import Contracts
import Dispatch
import Foundation
import Pipeline
import Synchronization

/// One swept parameter and the values it takes.
public struct SweepParameter: Sendable, Equatable {
    public var name: String
    public var values: [Double]

    /// `name=start:stop:step` (stop included), `name=a,b,c` or `name=value`.
    public init(_ text: String) throws(SweepError) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw SweepError("--param \(text.debugDescription): write name=start:stop:step, name=a,b,c or name=value")
        }
        name = String(text[..<eq])
        let spec = text[text.index(after: eq)...]
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 3 {
            guard let start = Double(parts[0]), let stop = Double(parts[1]), let step = Double(parts[2]),
                  start.isFinite, stop.isFinite, step.isFinite else {
                throw SweepError("--param \(text.debugDescription): start, stop and step must be numbers")
            }
            guard step > 0, start <= stop else {
                throw SweepError("--param \(name): the range \(spec) is empty (it needs start ≤ stop and a step > 0)")
            }
            let count = ((stop - start) / step + 1e-9).rounded(.down) + 1
            guard count <= 10_000 else { throw SweepError("--param \(name): \(spec) has over 10,000 values") }
            values = (0..<Int(count)).map { start + Double($0) * step }
        } else if parts.count == 1 {
            let items = spec.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !items.isEmpty, items.allSatisfy({ $0?.isFinite == true }) else {
                throw SweepError("--param \(text.debugDescription): values must be numbers (name=a,b,c)")
            }
            values = items.map { $0! }
        } else {
            throw SweepError("--param \(text.debugDescription): write name=start:stop:step, name=a,b,c or name=value")
        }
        // Steps like 0.1 accumulate binary error: keep 12 significant digits.
        values = values.map { v in v == v.rounded() ? v : (v * 1e12).rounded() / 1e12 }
        var seen = Set<Double>()
        values = values.filter { seen.insert($0).inserted }
    }
}

public struct SweepError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a sweep ranks by, on the training part.
public enum SweepMetric: String, Sendable, CaseIterable {
    case sharpe, sortino, totalReturn = "total_return", cagr, profitFactor = "profit_factor", winRate = "win_rate"
    case maxDrawdown = "max_drawdown"

    public func value(_ m: Metrics) -> Double? {
        switch self {
        case .sharpe: return m.sharpe
        case .sortino: return m.sortino
        case .totalReturn: return m.totalReturn
        case .cagr: return m.cagr
        case .profitFactor: return m.profitFactor
        case .winRate: return m.winRate
        case .maxDrawdown: return m.maxDrawdown
        }
    }

    public var higherIsBetter: Bool { self != .maxDrawdown }
}

/// A combination's figures on one part of the data, averaged over the symbols (trades summed).
public struct SweepFigures: Sendable, Equatable {
    public var score: Double?
    public var totalReturn: Double
    public var sharpe: Double?
    public var maxDrawdown: Double
    public var trades: Int

    init(_ metrics: [Metrics], _ metric: SweepMetric) {
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        score = metrics.count == metrics.compactMap(metric.value).count ? mean(metrics.compactMap(metric.value)) : nil
        totalReturn = mean(metrics.map(\.totalReturn)) ?? 0
        sharpe = metrics.count == metrics.compactMap(\.sharpe).count ? mean(metrics.compactMap(\.sharpe)) : nil
        maxDrawdown = metrics.map(\.maxDrawdown).max() ?? 0
        trades = metrics.reduce(0) { $0 + $1.trades }
    }
}

public struct SweepRow: Sendable {
    /// Values in the order of the sweep's parameters.
    public var values: [Double]
    public var train: SweepFigures
    /// The held-out tail (nil when training on everything).
    public var test: SweepFigures?
    /// Per walk-forward fold: (training, test) on that fold's parts.
    public var folds: [(train: SweepFigures, test: SweepFigures)]
    /// In-sample winner that falls apart out of sample: the test score is not positive while the
    /// training score is, or under half of it.
    public var fallsApart: Bool {
        guard let a = train.score, let b = test?.score else { return false }
        return a > 0 && (b <= 0 || b < a / 2)
    }
}

public struct SweepSettings: Sendable {
    public var metric = SweepMetric.sharpe
    /// Share of each symbol's bars the ranking sees (the rest is the held-out tail).
    public var trainFraction = 1.0
    /// Walk-forward folds (0: none): the bars cut into K+1 equal parts, fold k trains on part
    /// k-1 and tests on part k.
    public var walkForward = 0
    public var jobs = 1
    public var backtest = BacktestSettings()
    public init() {}
}

public struct SweepResult: Sendable {
    public var strategy: String
    public var parameters: [String]
    /// Ranked by the training score, best first; combinations without one last.
    public var rows: [SweepRow]
    /// Combinations the strategy refused, with why.
    public var invalid: [(values: [Double], message: String)]
    public var settings: SweepSettings
    public var bars: Int
    /// Per walk-forward fold: the best training combination's row index in `rows`.
    public var foldWinners: [Int]
}

/// A parameter grid over one strategy on the live engine (docs/RESEARCH.md, "Sweep"). The input is
/// parsed once; the grid is cut into `jobs` parts run on their own threads. A rule's
/// combinations run as rules of one engine per part, so the bars, the fixed features and every
/// indicator call two combinations share are computed once; a built-in's run one engine each.
public enum Sweep {
    public static let maxCombinations = 10_000

    public static func run(bars: [Bar], interval: BarInterval, registry: StrategyRegistry, strategy name: String,
                           grid: [SweepParameter], settings: SweepSettings,
                           progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(SweepError) -> SweepResult {
        guard let entry = registry.entries.first(where: { $0.strategy.name == name }) else {
            throw SweepError("--strategy: no strategy \(name) (have: \(registry.entries.map(\.strategy.name).joined(separator: ", ")))")
        }
        let isRule = !StrategyRegistry.builtinNames.contains(name)
        let known: [String]
        if isRule, case .object(let params)? = entry.settings["params"] {
            known = params.keys.sorted()
        } else {
            known = entry.settings.keys.filter { $0 != "mode" && $0 != "enabled" }.sorted()
        }
        for p in grid where !known.contains(p.name) {
            throw SweepError("--param \(p.name): \(name) has no parameter \(p.name) (it has: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        guard Set(grid.map(\.name)).count == grid.count else { throw SweepError("--param: a parameter is given twice") }
        let total = grid.reduce(1.0) { $0 * Double($1.values.count) }
        guard total <= Double(maxCombinations) else {
            throw SweepError("the grid has \(Int(total)) combinations, over the limit of \(maxCombinations): use fewer values")
        }
        // Every combination, checked by the strategy's own validation.
        var combos: [[Double]] = [[]]
        for p in grid { combos = combos.flatMap { c in p.values.map { c + [$0] } } }
        var valid: [(values: [Double], registry: StrategyRegistry)] = []
        var invalid: [(values: [Double], message: String)] = []
        var base = registry
        for other in registry.entries.map(\.strategy.name) {
            try? base.update(other, with: ["enabled": .bool(other == name)])
        }
        for values in combos {
            var settingsUpdate: [String: JSONValue] = [:]
            let named = Dictionary(uniqueKeysWithValues: zip(grid.map(\.name), values.map(number)))
            if isRule { settingsUpdate["params"] = .object(named) } else { settingsUpdate = named }
            var r = base
            do {
                try r.update(name, with: settingsUpdate)
                valid.append((values, r))
            } catch {
                invalid.append((values, "\(error)"))
            }
        }
        guard !valid.isEmpty else {
            throw SweepError("no combination is valid for \(name): \(invalid.first.map { "\($0.message)" } ?? "")")
        }
        let jobs = max(1, min(settings.jobs, valid.count))
        // Contiguous parts, one per job.
        let parts = (0..<jobs).map { j in (valid.count * j / jobs)..<(valid.count * (j + 1) / jobs) }
        let workTotal = isRule ? bars.count * jobs : bars.count * valid.count
        let done = Atomic<Int>(0)
        let rows = Mutex<[Int: SweepRow]>([:])
        let validValues = valid.map(\.values)
        let registries = valid.map(\.registry)
        DispatchQueue.concurrentPerform(iterations: jobs) { j in
            var partRows: [Int: SweepRow] = [:]
            let report: @Sendable (Int) -> Void = { n in
                let now = done.add(n, ordering: .relaxed).newValue
                progress(now, workTotal)
            }
            if isRule {
                let combined = combinedRegistry(registries, Array(parts[j]), rule: name)
                let recorder = record(bars, interval: interval, registry: combined, report: report)
                for (k, index) in parts[j].enumerated() {
                    partRows[index] = evaluate(recorder, strategy: k, values: validValues[index], settings: settings)
                }
            } else {
                for index in parts[j] {
                    let recorder = record(bars, interval: interval, registry: registries[index], report: report)
                    partRows[index] = evaluate(recorder, strategy: 0, values: validValues[index], settings: settings)
                }
            }
            rows.withLock { all in for (k, v) in partRows { all[k] = v } }
        }
        var ranked = rows.withLock { all in (0..<valid.count).compactMap { all[$0] } }
        ranked.sort { better($0.train.score, $1.train.score, settings.metric) }
        var winners: [Int] = []
        for fold in 0..<settings.walkForward {
            let best = ranked.indices.min { better(ranked[$0].folds[fold].train.score, ranked[$1].folds[fold].train.score, settings.metric) }
            if let best { winners.append(best) }
        }
        return SweepResult(strategy: name, parameters: grid.map(\.name), rows: ranked, invalid: invalid, settings: settings,
                           bars: bars.count, foldWinners: winners)
    }

    static func number(_ v: Double) -> JSONValue { v == v.rounded() && abs(v) < 1e15 ? .int(Int(v)) : .double(v) }

    /// Whether score a ranks before b (nil last; ties keep grid order through the stable sort).
    static func better(_ a: Double?, _ b: Double?, _ metric: SweepMetric) -> Bool {
        guard let a else { return false }
        guard let b else { return true }
        return metric.higherIsBetter ? a > b : a < b
    }

    /// One registry holding the rule once per combination of `indexes` (as rules c0, c1, …), nothing else enabled.
    static func combinedRegistry(_ registries: [StrategyRegistry], _ indexes: [Int], rule: String) -> StrategyRegistry {
        var rules: [JSONValue] = []
        for (k, index) in indexes.enumerated() {
            guard var settings = registries[index].entries.first(where: { $0.strategy.name == rule })?.settings else { continue }
            settings["name"] = .string("c\(k)")
            settings["enabled"] = .bool(true)
            rules.append(.object(settings))
        }
        let off = JSONValue.object(Dictionary(uniqueKeysWithValues: StrategyRegistry.builtinNames.map { ($0, JSONValue.object(["enabled": .bool(false)])) }))
        var w = JSONWriter(capacity: 4096)
        w.value(nil, .object(["strategies": off, "rules": .array(rules)]))
        // Every combination was checked alone; together they compile the same.
        return (try? StrategyRegistry.parse(Data(w.bytes))) ?? StrategyRegistry()
    }

    static func record(_ bars: [Bar], interval: BarInterval, registry: StrategyRegistry,
                       report: (Int) -> Void) -> BacktestRecorder {
        let recorder = BacktestRecorder(registry: registry)
        recorder.keepsBars = false
        recorder.expectedBarsPerSymbol = bars.first?.symbol == bars.last?.symbol ? bars.count : 0
        let engine = SignalEngine(settings: Backtest.researchSettings(interval), strategies: registry, sink: recorder)
        bars.withUnsafeBufferPointer { bars in
            for start in stride(from: 0, to: bars.count, by: 16_384) {
                let end = min(start + 16_384, bars.count)
                engine.process(bars: UnsafeBufferPointer(rebasing: bars[start..<end]))
                report(end - start)
            }
        }
        recorder.adoptBars(bars)
        return recorder
    }

    /// One combination's figures on the training part, the held-out tail and each fold.
    static func evaluate(_ r: BacktestRecorder, strategy k: Int, values: [Double], settings: SweepSettings) -> SweepRow {
        let signals = r.signals.filter { $0.strategy == k }
        var bySymbol = [[RecordedSignal]](repeating: [], count: r.symbols.count)
        for s in signals { bySymbol[s.symbol].append(s) }
        let intervalMs = r.bars.first.flatMap { $0.first }.flatMap { BarInterval($0.interval)?.milliseconds } ?? 86_400_000
        let exitHolds = r.exitHolds
        func figures(_ range: (Int) -> Range<Int>) -> SweepFigures {
            var metrics: [Metrics] = []
            for m in r.symbols.indices {
                let bars = r.bars[m]
                let part = range(bars.count)
                guard !part.isEmpty else { continue }
                let holds = exitHolds[m][k]
                let sim = TradeSimulator.run(bars: bars[part], signals: bySymbol[m][...], exit: r.exits[k],
                                             exitHolds: holds.isEmpty ? [] : holds[part], strategy: k, symbol: m,
                                             settings: settings.backtest.trade)
                let years = Double(bars[part.upperBound - 1].start - bars[part.lowerBound].start + intervalMs) / Backtest.msPerYear
                let perYear = settings.backtest.periodsPerYear
                    ?? Double(bars.count) / (Double(bars.last!.start - bars[0].start + intervalMs) / Backtest.msPerYear)
                metrics.append(Metrics(equity: sim.equity, trades: sim.trades.map(\.ret), barsInMarket: sim.barsInMarket,
                                       years: years, periodsPerYear: perYear))
            }
            return SweepFigures(metrics, settings.metric)
        }
        let f = settings.trainFraction
        let train = figures { n in 0..<max(1, Int((Double(n) * f).rounded())) }
        let test: SweepFigures? = f < 1 ? figures { n in max(1, Int((Double(n) * f).rounded()))..<n } : nil
        let k1 = settings.walkForward + 1
        let folds = (0..<settings.walkForward).map { fold in
            (train: figures { n in (n * fold / k1)..<(n * (fold + 1) / k1) },
             test: figures { n in (n * (fold + 1) / k1)..<(n * (fold + 2) / k1) })
        }
        return SweepRow(values: values, train: train, test: test, folds: folds)
    }
}
