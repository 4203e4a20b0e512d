import Contracts
import Foundation
import Glibc

/// Finds ticks that make any strategy of a registry fire on a fresh symbol (`dongfeng trigger`
/// for rules, and for built-ins whose parameters the hand-made `TriggerScenario` paths do not suit).
///
/// A candidate is a path of up to 120 bars around a price level, each bar a few ticks (open at
/// the previous close, a wick either side, the close; a mid tick when the bar moves far), run
/// through a fresh `SignalEngine` with the registry and bar interval the server runs. Bar moves
/// stay within ±2 % and wicks within 1 %, so no tick jumps the 5 % that blocks a symbol. It is
/// accepted only as the server would take it: the strategy's first signal, in its direction,
/// opens a `new` opportunity (the risk guard does not block the symbol) that no later signal of
/// that bar expires, and no other strategy signalled in that direction before it (whether their
/// opportunity would still be open or cooling down depends on the server's TTL and cool-down,
/// which the search does not know). The engine never looks ahead, so every bar of a candidate is
/// judged as if the path ended there: a path that fires on bar k is cut after it, and the tick
/// that opens bar k + 1 closes it.
///
/// The candidates are a fixed sequence per seed: a built-in's hand-made path first, then shapes
/// (ranges, trends, accelerating moves, V and inverted V, pullbacks, random walks and waves of
/// 24–120 bars, smooth or noisy, with or without a final move, wicks, a long wick and a volume
/// burst), then hill-climbing from the best few with random changes (the last bar's move, wick and
/// volume; a trend over the last bars or a stretch; the whole path's scale, smoothness, noise,
/// length, price level and volume). A bar's score is how near the condition is to *becoming* true
/// there — a comparison's margin in units of the recent spread of what it compares, `&&` the
/// least of its operands', `||` the most, `!` the opposite — less one for each signal that came
/// before in the strategy's direction. The search ends at the first accepted path or at the CPU
/// or candidate bound; the explanation then names the parts of the rule that were never met, with
/// the closest values seen, or what kept its signal from opening an opportunity.
public enum TriggerSearch {
    public struct Limits: Sendable {
        /// CPU time of the calling thread.
        public var cpuSeconds: Double
        public var candidates: Int
        public var seed: UInt64

        public init(cpuSeconds: Double = 3, candidates: Int = 50_000, seed: UInt64 = 1) {
            self.cpuSeconds = cpuSeconds
            self.candidates = candidates
            self.seed = seed
        }
    }

    public struct Found: Sendable {
        /// Placed with its first tick at 0; `placed(closingAt:)` moves it.
        public let scenario: TriggerScenario
        public let candidates: Int
        public let cpuSeconds: Double
        /// The built-in's hand-made path did it.
        public let handMade: Bool
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public let candidates: Int
        public let cpuSeconds: Double
        public var description: String { message }
    }

    /// A path that makes `strategy` (enabled in `registry`) fire on `symbol`, or why none was found.
    public static func find(strategy: String, symbol: String, registry: StrategyRegistry, interval: BarInterval,
                            limits: Limits = Limits()) -> Result<Found, Failure> {
        guard let entry = registry.entries.first(where: { $0.strategy.name == strategy }) else {
            return .failure(Failure(message: "no strategy \(strategy)", candidates: 0, cpuSeconds: 0))
        }
        guard entry.enabled else {
            return .failure(Failure(message: "\(strategy) is disabled", candidates: 0, cpuSeconds: 0))
        }
        var search = Search(goal: Goal(entry.strategy), symbol: symbol, registry: registry, interval: interval, limits: limits)
        return search.run()
    }
}

// MARK: - Goal

/// What the strategy needs on its last bar: a rule's condition, or a built-in's written as a rule
/// (for scoring and explanations only; acceptance is always the engine's own signal).
struct Goal {
    let strategy: String
    /// nil: either direction.
    let direction: Direction?
    let scored: ScoredTerm?
    let slots: Int
    /// The condition's top-level parts: the operands of its `&&` (or `||`) chain, else itself.
    let parts: [ScoredTerm]
    let conjunctive: Bool
    var condition: RuleTerm? { scored?.term }

    init(_ strategy: any Strategy) {
        self.strategy = strategy.name
        var source: String?
        var direction: Direction?
        var condition: RuleTerm?
        switch strategy {
        case let s as RuleStrategy:
            condition = s.rule.term
            direction = s.direction
        case let s as RSIReversal:
            (source, direction) = ("rsi_14 >= \(s.oversold)", .long)
        case is MACDCross:
            (source, direction) = ("macd > macd_signal", .long)
        case let s as BollingerStrategy:
            (source, direction) = ("close > bb_upper", s.mode == .breakout ? .long : .short)
        case let s as VolumeSpike:
            (source, direction) = ("volume_z_20 >= \(s.threshold) && ret_1 < 0", .short)
        case let s as VWAPDeviation:
            (source, direction) = ("close <= vwap_20 * \(1 - s.threshold)", .long)
        default:
            break  // momentum_breakout (its N-bar high is no feature): either direction, no score
        }
        if let source { condition = try? RuleExpression(source).term }
        self.direction = direction
        var slots = 0
        scored = condition.map { ScoredTerm($0, next: &slots) }
        self.slots = slots
        let kind = condition?.kind
        conjunctive = kind != .or
        func flatten(_ t: ScoredTerm) -> [ScoredTerm] { t.term.kind == kind ? t.children.flatMap(flatten) : [t] }
        parts = scored.map { s in kind == .and || kind == .or ? flatten(s) : [s] } ?? []
    }
}

// MARK: - Running a candidate

/// What the engine made of a candidate, in order; `.bar` marks each bar close.
private final class Recorder: EngineSink {
    enum Event { case bar, signal(StrategySignal), opportunity(Opportunity) }
    var bars: [Bar] = []
    var features: [Features] = []
    var events: [Event] = []
    var critical: [String] = []
    var takesTicks: Bool { false }
    func engine(tick: Tick) {}
    func engine(bar: Bar) {
        bars.append(bar)
        events.append(.bar)
    }
    func engine(features: Features) { self.features.append(features) }
    func engine(signal: StrategySignal) { events.append(.signal(signal)) }
    func engine(opportunity: Opportunity) { events.append(.opportunity(opportunity)) }
    func engine(alert: RiskAlert) { if alert.severity == .critical { critical.append(alert.kind) } }
}

/// Why the strategy's first signal did not count.
enum Obstacle: Hashable {
    case wrongDirection
    /// Other strategies signalled in its direction before it. Their opportunity, still open or
    /// expired and cooling down, takes the signal; which one it is depends on the server's TTL
    /// and cool-down, which the search does not know, so none may come first.
    case preceded
    /// Its opportunity was not `new` for another reason.
    case notNew
    case blocked(String)
    case expiredOnTheSameBar
}

/// The condition as a tree with a slot per node, so one pass over a bar gives every part's margin.
struct ScoredTerm {
    let term: RuleTerm
    let children: [ScoredTerm]
    let slot: Int

    /// Numbers the nodes in pre-order from `next`.
    init(_ term: RuleTerm, next: inout Int) {
        self.term = term
        slot = next
        next += 1
        var children: [ScoredTerm] = []
        for operand in term.operands { children.append(ScoredTerm(operand, next: &next)) }
        self.children = children
    }
}

private struct Search {
    let goal: Goal
    let symbol: String
    let registry: StrategyRegistry
    let interval: BarInterval
    let limits: Limits
    var random: SearchRandom
    var candidates = 0
    let started: Double
    var explanation: Explanation
    /// Strategies before the goal's in the registry: they run first on a bar.
    let runsBefore: Set<String>

    typealias Limits = TriggerSearch.Limits

    init(goal: Goal, symbol: String, registry: StrategyRegistry, interval: BarInterval, limits: Limits) {
        self.goal = goal
        self.symbol = symbol
        self.registry = registry
        self.interval = interval
        self.limits = limits
        random = SearchRandom(seed: limits.seed)
        started = Self.cpuSeconds()
        explanation = Explanation(goal: goal)
        runsBefore = Set(registry.entries.prefix { $0.strategy.name != goal.strategy }.map(\.strategy.name))
    }

    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    var elapsed: Double { Self.cpuSeconds() - started }
    var exhausted: Bool { candidates >= limits.candidates || elapsed >= limits.cpuSeconds }

    mutating func run() -> Result<TriggerSearch.Found, TriggerSearch.Failure> {
        func found(_ scenario: TriggerScenario, handMade: Bool) -> Result<TriggerSearch.Found, TriggerSearch.Failure> {
            .success(TriggerSearch.Found(scenario: scenario, candidates: candidates, cpuSeconds: elapsed, handMade: handMade))
        }
        if let scenario = TriggerScenario.make(strategy: goal.strategy, symbol: symbol, startTs: 0, intervalMs: interval.milliseconds) {
            let verdict = evaluate(scenario)
            if let bar = verdict.accepted, bar == verdict.bars - 1 {
                return found(scenario.named(verdict.direction), handMade: true)
            }
        }
        // The best few candidates so far (each cut after its best bar), best first.
        var pool: [(path: PricePath, score: Double)] = []
        func consider(_ path: PricePath) -> TriggerScenario? {
            let verdict = evaluate(scenario(path))
            if let bar = verdict.accepted {
                // The bars after the one that fired change nothing before it: cut them off and check.
                let cut = path.prefix(bar + 1)
                let again = evaluate(scenario(cut))
                if again.accepted == bar { return scenario(cut).named(again.direction) }
            }
            let at = pool.firstIndex { $0.score < verdict.score } ?? pool.count
            if at < 4 {
                pool.insert((path.prefix(verdict.best + 1), verdict.score), at: at)
                if pool.count > 4 { pool.removeLast() }
            }
            return nil
        }
        for _ in 0..<40 where !exhausted {
            if let s = consider(shape()) { return found(s, handMade: false) }
        }
        while !exhausted {
            var path: PricePath
            if pool.isEmpty || random.chance(0.1) {
                path = shape()
            } else {
                path = pool[random.int(0...(min(pool.count, random.chance(0.6) ? 1 : 4) - 1))].path
                for _ in 0..<random.int(1...2) { mutate(&path) }
            }
            if let s = consider(path) { return found(s, handMade: false) }
        }
        return .failure(TriggerSearch.Failure(message: explanation.message(candidates: candidates, cpuSeconds: elapsed),
                                              candidates: candidates, cpuSeconds: elapsed))
    }

    func scenario(_ path: PricePath) -> TriggerScenario {
        path.scenario(strategy: goal.strategy, symbol: symbol, intervalMs: interval.milliseconds, direction: goal.direction ?? .long)
    }

    /// A candidate judged on every bar, as if it ended there (the engine never looks ahead).
    struct Verdict {
        var bars = 0
        /// The bar whose close the strategy's first signal opened a new opportunity on.
        var accepted: Int?
        var direction: Direction = .long
        /// The bar that came nearest, and how near.
        var best = 0
        var score = -Double.infinity
    }

    /// Runs a candidate through a fresh engine with the server's strategies and judges it.
    mutating func evaluate(_ scenario: TriggerScenario) -> Verdict {
        candidates += 1
        let recorder = Recorder()
        let engine = SignalEngine(settings: EngineSettings(interval: interval), strategies: registry, sink: recorder)
        for tick in scenario.setup { engine.process(tick) }
        engine.process(scenario.closing)
        let n = min(recorder.bars.count, recorder.features.count)
        var verdict = Verdict(bars: n)
        guard n > 0 else { return verdict }

        // The strategy's first signal, and what came of it on its bar.
        var first: (bar: Int, signal: StrategySignal)?
        var obstacles: [Obstacle] = []
        var bar = -1
        /// Per bar: other strategies' signals (those that run before ours first), and ours.
        var others: [[(strategy: String, direction: Direction, before: Bool)]] = Array(repeating: [], count: n)
        var ours: [Direction?] = Array(repeating: nil, count: n)
        var index = 0
        let events = recorder.events
        while index < events.count {
            switch events[index] {
            case .bar: bar += 1
            case .signal(let s) where s.strategy == goal.strategy && bar >= 0 && bar < n:
                ours[bar] = s.direction
                guard first == nil else { break }
                first = (bar, s)
                if let wanted = goal.direction, s.direction != wanted { obstacles.append(.wrongDirection) }
                // Its opportunity events come right after it; the rest of its bar must not expire it.
                var own: Opportunity?
                var j = index + 1
                while j < events.count, case .opportunity(let o) = events[j] {
                    if o.direction == s.direction && o.strategies.contains(goal.strategy) { own = o }
                    j += 1
                }
                switch own?.status {
                case .new?:
                    while j < events.count {
                        if case .bar = events[j] { break }
                        // (An expiry at its own ts is an opposite signal's; a TTL expiry of the
                        // next bar's close comes before that bar's marker.)
                        if case .opportunity(let o) = events[j], o.id == own?.id, o.status == .expired, o.updatedTs == s.ts {
                            obstacles.append(.expiredOnTheSameBar)
                        }
                        j += 1
                    }
                case .blocked?: obstacles.append(.blocked(own?.riskAlerts.joined(separator: ", ") ?? ""))
                default: obstacles.append(.notNew)
                }
            case .signal(let s) where bar >= 0 && bar < n:
                others[bar].append((s.strategy, s.direction, runsBefore.contains(s.strategy)))
            default: break
            }
            index += 1
        }
        if let first {
            verdict.direction = first.signal.direction
            let preceding = (others[..<first.bar].joined() + others[first.bar].filter(\.before))
                .filter { $0.direction == first.signal.direction }.map(\.strategy)
            if !preceding.isEmpty { obstacles.insert(.preceded, at: 0) }
            if obstacles.contains(.preceded) { obstacles.removeAll { $0 == .notNew } }
            if obstacles.isEmpty { verdict.accepted = first.bar }
            explanation.record(signalled: obstacles, critical: recorder.critical, interferers: preceding)
        }

        // Each bar's score: how near the condition is to becoming true there, less what would
        // stop the opportunity: our own earlier signals, other strategies' signals in our direction
        // before ours (they leave an episode open or cooling down), and the first signal's obstacles.
        let scales = goal.scored.map { spreads($0, recorder) } ?? []
        var margins = [Double](repeating: 0, count: goal.slots)
        var ahead = 0.0  // penalty carried from earlier bars
        for k in 0..<n {
            let direction = goal.direction ?? ours[k] ?? first?.signal.direction
            let input = RuleInput(features: recorder.features[k], previous: k > 0 ? recorder.features[k - 1] : nil,
                                  bar: recorder.bars[k], previousBar: k > 0 ? recorder.bars[k - 1] : nil)
            var margin: Double
            if let scored = goal.scored {
                margin = Self.margin(scored, input, scales, &margins)
                var becomes = true
                if k > 0 {
                    let previous = RuleInput(features: recorder.features[k - 1], previous: nil, bar: recorder.bars[k - 1], previousBar: nil)
                    var scratch = [Double](repeating: 0, count: goal.slots)
                    margin = min(margin, -Self.margin(scored, previous, scales, &scratch))
                    becomes = !scored.term.holds(previous)
                }
                explanation.record(bar: input, margins: margins, becameTrue: becomes && scored.term.holds(input))
            } else {
                margin = ours[k] != nil ? 1 : -1
            }
            let sameBar = others[k].filter { $0.before && $0.direction == direction }.count
            var penalty = ahead + Double(sameBar)
            if let first, first.bar == k { penalty += 2 * Double(obstacles.count) }
            if ours[k] == nil && margin > 0 { penalty += 1 }  // a built-in's stand-in condition is not all of it
            let squashed = margin < 0 ? -log1p(-margin) : log1p(margin)
            if squashed - penalty > verdict.score { (verdict.best, verdict.score) = (k, squashed - penalty) }
            ahead += Double(others[k].filter { $0.direction == direction }.count) + (ours[k] != nil ? 1 : 0)
        }
        return verdict
    }

    /// Per comparison and cross node: the spread of what it compares over the candidate's last
    /// 40 bars, the unit its margins are counted in (so `rsi_14 < 40` and `ema_12 > ema_26` weigh alike).
    private func spreads(_ root: ScoredTerm, _ r: Recorder) -> [Double] {
        var out = [Double](repeating: 1, count: goal.slots)
        let n = min(r.bars.count, r.features.count)
        let inputs = (max(0, n - 40)..<n).map {
            RuleInput(features: r.features[$0], previous: nil, bar: r.bars[$0], previousBar: nil)
        }
        func walk(_ node: ScoredTerm) {
            switch node.term.kind {
            case .comparison, .cross:
                let a = node.term.operands[0], b = node.term.operands[1]
                var sum = 0.0, squares = 0.0, count = 0.0, size = 0.0
                for input in inputs {
                    guard let p = a.value(input), let q = b.value(input) else { continue }
                    sum += p - q
                    squares += (p - q) * (p - q)
                    size = max(size, abs(p), abs(q))
                    count += 1
                }
                let deviation = count > 1 ? max(0, squares / count - (sum / count) * (sum / count)).squareRoot() : 0
                out[node.slot] = max(deviation, 1e-9 * size, 1e-12)
            default: break
            }
            node.children.forEach(walk)
        }
        walk(root)
        return out
    }

    /// How far a node is from holding on a bar, in its units: > 0 holds. Fills every node's slot.
    static func margin(_ node: ScoredTerm, _ input: RuleInput, _ scales: [Double], _ out: inout [Double]) -> Double {
        let missing = -1e6  // worse than any interference: the bars come first
        var m = missing
        let term = node.term
        if let value = term.value(input) {
            switch term.kind {
            case .and, .or:
                let children = node.children.map { margin($0, input, scales, &out) }
                m = (term.kind == .and ? children.min() : children.max()) ?? missing
            case .not:
                m = -margin(node.children[0], input, scales, &out)
            case .comparison(let op):
                if let x = term.operands[0].value(input), let y = term.operands[1].value(input) {
                    let d = (x - y) / scales[node.slot]
                    switch op {
                    case "<", "<=": m = -d
                    case ">", ">=": m = d
                    case "==": m = -abs(d)
                    default: m = abs(d)
                    }
                }
            case .cross(let above):
                let a = term.operands[0], b = term.operands[1]
                if let before = input.before {
                    if let a0 = a.value(before), let b0 = b.value(before), let a1 = a.value(input), let b1 = b.value(input) {
                        let s = scales[node.slot]
                        m = above ? min((b0 - a0) / s, (a1 - b1) / s) : min((a0 - b0) / s, (b1 - a1) / s)
                    }
                }
            default:
                m = value != 0 ? 1 : -1
            }
        }
        out[node.slot] = m
        return m
    }

    // MARK: Candidates

    /// A fresh path of one of the shapes.
    mutating func shape() -> PricePath {
        let n = random.pick([24, 30, 40, 55, 70, 90, 120])
        // Smooth paths are quiet (no strategy fires on them by chance); noisy ones reach further.
        let noise = random.chance(0.4) ? 0 : exp(random.uniform(log(0.0003), log(0.003)))
        let slope = random.uniform(-0.004, 0.004)
        var moves = [Double](repeating: 0, count: n)
        let kind = random.int(0...7)
        let turn = random.int(n / 3...(n * 9 / 10))
        let pullback = random.int(1...8)
        let period = Double(random.int(6...40))
        for i in 0..<n {
            let alternate = i % 2 == 0 ? noise : -noise
            let t = Double(i) / Double(n)
            switch kind {
            case 0: moves[i] = alternate                                              // range
            case 1: moves[i] = slope + alternate / 2                                  // trend
            case 2: moves[i] = 2 * slope * t + alternate / 2                          // accelerating
            case 3: moves[i] = (i < turn ? -abs(slope) : abs(slope)) + alternate / 2  // V
            case 4: moves[i] = (i < turn ? abs(slope) : -abs(slope)) + alternate / 2  // inverted V
            case 5: moves[i] = (i < n - pullback ? slope : -2.5 * slope) + alternate / 2  // pullback after a trend
            case 6: moves[i] = slope / 2 + random.normal(noise)                       // random walk
            default: moves[i] = 8 * noise * (sin(2 * .pi * Double(i + 1) / period) - sin(2 * .pi * Double(i) / period))  // wave
            }
        }
        if random.chance(0.5) { moves[n - 1] += random.normal(0.006) }
        let wick = random.chance(0.25) ? 0 : random.uniform(0.0005, 0.004)
        var volumes = (0..<n).map { i in 100 * (1 + (i % 3 == 0 ? 0.1 : -0.05)) }
        if random.chance(0.33) { volumes[n - 1] *= random.uniform(2, 10) }
        var wicks = [Double](repeating: wick, count: n)
        if random.chance(0.3) { wicks[random.int(max(0, n - 20)...(n - 1))] = random.uniform(0.003, PricePath.maxWick) }
        var path = PricePath(moves: moves, wicks: wicks, volumes: volumes)
        path.clamp()
        return path
    }

    /// One random change.
    mutating func mutate(_ p: inout PricePath) {
        let n = p.moves.count
        switch random.int(0...13) {
        case 0: p.moves[n - 1] += random.normal(random.chance(0.5) ? 0.001 : 0.005)
        case 1:
            let k = random.int(1...min(10, n))
            let d = random.normal(0.002)
            for i in (n - k)..<n { p.moves[i] += d }
        case 2:
            let i = random.int(0...(n - 1)), j = random.int(i...(n - 1))
            let d = random.normal(0.0015)
            for x in i...j { p.moves[x] += d }
        case 3:
            let f = exp(random.normal(0.3))
            p.moves = p.moves.map { $0 * f }
        case 4: p.volumes[n - 1] *= exp(random.normal(0.8))
        case 5:
            let k = random.int(1...n)
            let f = exp(random.normal(0.5))
            for i in (n - k)..<n { p.volumes[i] *= f }
        case 6: p.wicks[n - 1] += random.normal(0.002)
        case 7:
            let f = exp(random.normal(0.5))
            p.wicks = p.wicks.map { max($0, 0.0005) * f }
        case 8:
            // Shorter or longer: bars leave or join at the start (the last bars are the point).
            if random.chance(0.5), n > 2 {
                let k = random.int(1...max(1, min(n - 2, n / 4)))
                p.moves.removeFirst(k)
                p.wicks.removeFirst(k)
                p.volumes.removeFirst(k)
            } else {
                let k = random.int(1...max(1, n / 4))
                let alternate = 0.001 * (random.chance(0.5) ? 1 : -1)
                p.moves.insert(contentsOf: (0..<k).map { $0 % 2 == 0 ? alternate : -alternate }, at: 0)
                p.wicks.insert(contentsOf: [Double](repeating: p.wicks[0], count: k), at: 0)
                p.volumes.insert(contentsOf: [Double](repeating: p.volumes[0], count: k), at: 0)
            }
        case 9: p.base *= exp(random.normal(0.7))
        case 10:
            let f = exp(random.normal(1))
            p.volumes = p.volumes.map { $0 * f }
        case 11:
            // Smoother: each move the mean of its neighbours'.
            let m = p.moves
            for i in 1..<max(1, n - 1) { p.moves[i] = (m[i - 1] + m[i] + m[i + 1]) / 3 }
        case 12:
            // One long wick among the recent bars raises the N-bar high and low out of reach.
            p.wicks[random.int(max(0, n - 20)...(n - 1))] = random.uniform(0.003, PricePath.maxWick)
        default:
            let s = random.chance(0.5) ? 0.0003 : 0.001
            p.moves = p.moves.map { $0 + random.normal(s) }
        }
        p.clamp()
    }
}

extension TriggerScenario {
    fileprivate func named(_ direction: Direction) -> TriggerScenario {
        TriggerScenario(strategy: strategy, setup: setup, closing: closing, expectedDirection: direction)
    }
}

// MARK: - Explaining a failure

/// What the candidates came to, kept as they run, for the message when none was accepted.
struct Explanation {
    typealias Closest = (margin: Double, values: [(String, Double?)])
    let goal: Goal
    /// Per part: ever held on a bar; the best margin with the values it read, overall and (for
    /// `&&`) while every other part held.
    var held: [Bool]
    var best: [Closest?]
    var bestWithOthers: [Closest?]
    var heldWhole = false, becameTrue = false, signalled = 0
    var obstacles: [Obstacle: Int] = [:]
    var interferers: [String: Int] = [:]
    var critical: Set<String> = []

    init(goal: Goal) {
        self.goal = goal
        held = goal.parts.map { _ in false }
        best = goal.parts.map { _ in nil }
        bestWithOthers = best
    }

    /// One bar of a candidate, with every node's margin.
    mutating func record(bar input: RuleInput, margins: [Double], becameTrue became: Bool) {
        let holds = goal.parts.map { $0.term.holds(input) }
        for (i, h) in holds.enumerated() where h { held[i] = true }
        if let whole = goal.condition, whole.holds(input) { heldWhole = true }
        if became { becameTrue = true }
        guard !becameTrue else { return }  // past that, only the signals' fate matters
        for (i, part) in goal.parts.enumerated() {
            let m = margins[part.slot]
            func values() -> [(String, Double?)] { part.term.names.map { ($0, RuleExpression.accessor($0)?(input)) } }
            if m > best[i]?.margin ?? -.infinity { best[i] = (m, values()) }
            if holds.indices.allSatisfy({ $0 == i || holds[$0] }), m > bestWithOthers[i]?.margin ?? -.infinity {
                bestWithOthers[i] = (m, values())
            }
        }
    }

    /// A candidate's first signal of the strategy and what stopped it.
    mutating func record(signalled obstacles: [Obstacle], critical kinds: [String], interferers names: [String]) {
        signalled += 1
        for o in Set(obstacles) { self.obstacles[o, default: 0] += 1 }
        for name in Set(names) { interferers[name, default: 0] += 1 }
        critical.formUnion(kinds)
    }

    static func show(_ values: [(String, Double?)]) -> String {
        values.map { "\($0.0) = \($0.1.map { String(format: "%.6g", $0) } ?? "missing (not enough bars)")" }.joined(separator: ", ")
    }

    func message(candidates: Int, cpuSeconds: Double) -> String {
        let what = goal.condition.map { "`\($0.text)`" + (goal.direction.map { " (\($0.rawValue))" } ?? "") } ?? "its signal"
        var lines = ["no tick path made \(goal.strategy) fire: \(candidates) candidates in \(String(format: "%.1f", cpuSeconds)) s of CPU; \(what)"]
        let parts = goal.parts
        if !parts.isEmpty && !heldWhole {
            // Parts never true at all say it all; else, for `&&`, the parts that never joined the rest.
            let never = parts.indices.filter { !held[$0] }
            for i in never {
                lines.append("`\(parts[i].term.text)` was never true" + (best[i].map { "; closest: \(Self.show($0.values))" } ?? ""))
            }
            for (i, part) in parts.enumerated() where never.isEmpty && goal.conjunctive {
                guard let closest = bestWithOthers[i] else { continue }  // the others never held together either
                let others = parts.indices.filter { $0 != i }.map { "`\(parts[$0].term.text)`" }.joined(separator: " and ")
                lines.append("`\(part.term.text)` was never true while \(others) held; closest: \(Self.show(closest.values))")
            }
            if lines.count == 1 { lines.append("its parts were each true at times, never all on one bar") }
        } else if !parts.isEmpty && !becameTrue {
            lines.append("the rule only held where it already held on the bar before (a rule signals when it becomes true)")
        } else if signalled == 0 {
            lines.append("the strategy never signalled")
        } else {
            let reasons = obstacles.map { obstacle, count -> (String, Int) in
                let text = switch obstacle {
                case .wrongDirection: "it signalled \(goal.direction == .long ? "short" : "long"), not \(goal.direction?.rawValue ?? "")"
                case .preceded:
                    "other strategies signalled \(goal.direction?.rawValue ?? "in its direction") before it ("
                        + interferers.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3).map { "\($0.key) \($0.value)×" }
                        .joined(separator: ", ") + ")"
                case .notNew: "its opportunity was not new"
                case .blocked(let kinds): "the risk guard blocked the symbol (\(kinds.isEmpty ? critical.sorted().joined(separator: ", ") : kinds))"
                case .expiredOnTheSameBar: "an opposite signal on the same bar expired the opportunity"
                }
                return (text, count)
            }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }.map { "\($0.0) (\($0.1)×)" }
            lines.append("it signalled \(signalled)×, never first to open a new opportunity: " + reasons.joined(separator: "; "))
        }
        return lines.joined(separator: "\n  ")
    }
}
