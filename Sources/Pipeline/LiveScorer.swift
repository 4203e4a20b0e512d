import Contracts

/// Live signal scoring (docs/RESEARCH.md, "Live scoring"): at which horizons, over how many of
/// each strategy's latest scored signals.
public struct ScoringSettings: Sendable, Equatable {
    /// Forward-return horizons in bars of the signal's symbol, ascending.
    public var horizons = [1, 5, 20]
    /// A strategy's scorecard covers its last `window` signals scored at each horizon.
    public var window = 200
    /// Signals whose outcomes are kept for the query store (the newest).
    public var outcomes = 10_000
    public init() {}
}

/// A signal's forward return at one horizon: the close `bars` bars of its symbol after the
/// signal's bar over the signal's price, minus 1, sign turned for a short — the backtest
/// scorecard's definition, filled in as the bars close.
public struct SignalOutcome: Sendable, Equatable {
    public var seq: UInt64
    public var strategy: String
    public var bars: Int
    public var ret: Double
}

/// One strategy's live scorecard: per horizon, its last `window` forward returns.
public struct LiveScore: Sendable, Equatable {
    public struct Horizon: Sendable, Equatable {
        public var bars: Int
        /// The newest last, at most `window`.
        var returns: [Double] = []
        var next = 0
        public var count: Int { returns.count }
        public var hitRate: Double? { returns.isEmpty ? nil : Double(returns.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }) / Double(returns.count) }
        public var meanBps: Double? { returns.isEmpty ? nil : returns.reduce(0, +) / Double(returns.count) * 10_000 }

        mutating func add(_ r: Double, window: Int) {
            if returns.count < window {
                returns.append(r)
            } else {
                returns[next] = r
                next = (next + 1) % window
            }
        }
    }
    public var horizons: [Horizon]
    /// Signals scored at the longest horizon so far (all time).
    public var scored = 0

    /// What readers show of it (REST, metrics): the figures, without the windows — so the
    /// scorer's windows are never shared, and never copied when it scores the next signal.
    public var card: ScoreCard {
        ScoreCard(horizons: horizons.map { ScoreCard.Horizon(bars: $0.bars, count: $0.count, hitRate: $0.hitRate, meanBps: $0.meanBps) },
                  scored: scored)
    }
}

/// A live scorecard's figures per horizon, as the query store keeps them.
public struct ScoreCard: Sendable, Equatable {
    public struct Horizon: Sendable, Equatable {
        public var bars: Int
        public var count: Int
        public var hitRate: Double?
        public var meanBps: Double?
    }
    public var horizons: [Horizon]
    public var scored: Int
}

/// Scores every signal the engine emits, on the engine's thread and in market time, so a
/// checkpoint and the journal bring it back exactly after a restart.
struct LiveScorer {
    struct Pending {
        var seq: UInt64
        var strategy: String
        var direction: Direction
        var price: Double
        /// The symbol's closed-bar count when the signal fired (its bar is number `bar`).
        var bar: Int
        /// Index into the horizons of the next one to fill.
        var next = 0
    }

    var settings: ScoringSettings
    var bars: [String: Int] = [:]
    var pending: [String: [Pending]] = [:]
    var scores: [String: LiveScore] = [:]
    /// The newest signals' outcomes (nil: not known yet), oldest first, at most `settings.outcomes`.
    var outcomes: [(seq: UInt64, returns: [Double?])] = []
    var outcomeStart = 0

    init(settings: ScoringSettings) { self.settings = settings }

    /// A bar of `symbol` closed: the pending signals it completes a horizon for, scored.
    mutating func barClosed(_ symbol: String, close: Double, _ emit: (SignalOutcome, LiveScore) -> Void) {
        let n: Int
        if let at = bars.index(forKey: symbol) {
            bars.values[at] += 1
            n = bars.values[at]
        } else {
            bars[symbol] = 1
            n = 1
        }
        guard let slot = pending.index(forKey: symbol), !pending.values[slot].isEmpty else { return }
        // The list is taken out and put back (not copied out: a copy beside the dictionary's
        // would be copied again on the first write), and scores are changed in place.
        var list: [Pending] = []
        swap(&list, &pending.values[slot])
        defer { swap(&list, &pending.values[slot]) }
        var kept = 0
        for i in list.indices {
            var p = list[i]
            while p.next < settings.horizons.count, n - p.bar == settings.horizons[p.next] {
                let forward = close / p.price - 1
                let r = p.direction == .long ? forward : -forward
                let at = scores.index(forKey: p.strategy) ?? {
                    scores[p.strategy] = LiveScore(horizons: settings.horizons.map { LiveScore.Horizon(bars: $0) })
                    return scores.index(forKey: p.strategy)!
                }()
                scores.values[at].horizons[p.next].add(r, window: settings.window)
                if p.next == settings.horizons.count - 1 { scores.values[at].scored += 1 }
                setOutcome(p.seq, p.next, r)
                emit(SignalOutcome(seq: p.seq, strategy: p.strategy, bars: settings.horizons[p.next], ret: r), scores.values[at])
                p.next += 1
            }
            if p.next < settings.horizons.count {
                list[kept] = p
                kept += 1
            }
        }
        list.removeLast(list.count - kept)
    }

    /// A signal fired on the close of the symbol's latest bar.
    mutating func signal(_ s: StrategySignal) {
        guard !settings.horizons.isEmpty, s.price > 0 else { return }
        pending[s.symbol, default: []].append(Pending(seq: s.seq, strategy: s.strategy, direction: s.direction, price: s.price,
                                                      bar: bars[s.symbol, default: 0]))
        outcomes.append((s.seq, Array(repeating: nil, count: settings.horizons.count)))
        if outcomes.count - outcomeStart > settings.outcomes {
            outcomeStart += 1
            // Compact once the dropped head is as long as what is kept.
            if outcomeStart >= settings.outcomes {
                outcomes.removeFirst(outcomeStart)
                outcomeStart = 0
            }
        }
    }

    private mutating func setOutcome(_ seq: UInt64, _ horizon: Int, _ r: Double) {
        // Outcomes are in seq order: binary search the kept part.
        var lo = outcomeStart, hi = outcomes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if outcomes[mid].seq < seq { lo = mid + 1 } else { hi = mid }
        }
        if lo < outcomes.count, outcomes[lo].seq == seq { outcomes[lo].returns[horizon] = r }
    }

    /// The kept outcomes, oldest first.
    var recentOutcomes: ArraySlice<(seq: UInt64, returns: [Double?])> { outcomes[outcomeStart...] }
}

extension LiveScorer {
    func write(_ w: inout BinaryWriter) {
        w.int(settings.horizons.count)
        for h in settings.horizons { w.int(h) }
        w.int(settings.window)
        w.int(bars.count)
        for name in bars.keys.sorted() {
            w.string(name)
            w.int(bars[name]!)
        }
        w.int(pending.count)
        for name in pending.keys.sorted() {
            w.string(name)
            w.int(pending[name]!.count)
            for p in pending[name]! {
                w.u64(p.seq)
                w.string(p.strategy)
                w.bool(p.direction == .long)
                w.f64(p.price)
                w.int(p.bar)
                w.int(p.next)
            }
        }
        w.int(scores.count)
        for name in scores.keys.sorted() {
            let score = scores[name]!
            w.string(name)
            w.int(score.scored)
            for h in score.horizons {
                w.int(h.next)
                w.int(h.returns.count)
                for r in h.returns { w.f64(r) }
            }
        }
        let kept = recentOutcomes
        w.int(kept.count)
        for o in kept {
            w.u64(o.seq)
            for r in o.returns { w.f64(r) }
        }
    }

    /// Reads what `write` wrote. State scored at other horizons or over another window than
    /// `settings` is dropped (the configuration changed): scoring starts again.
    init(reading r: inout BinaryReader, settings: ScoringSettings) throws(CheckpointError) {
        self.init(settings: settings)
        var horizons: [Int] = []
        for _ in 0..<(try r.count()) { horizons.append(try r.int()) }
        let window = try r.int()
        var bars: [String: Int] = [:]
        for _ in 0..<(try r.count()) { bars[try r.string()] = try r.int() }
        var pending: [String: [Pending]] = [:]
        for _ in 0..<(try r.count()) {
            let name = try r.string()
            var list: [Pending] = []
            for _ in 0..<(try r.count()) {
                list.append(Pending(seq: try r.u64(), strategy: try r.string(), direction: try r.bool() ? .long : .short,
                                    price: try r.f64(), bar: try r.int(), next: try r.int()))
            }
            pending[name] = list
        }
        var scores: [String: LiveScore] = [:]
        for _ in 0..<(try r.count()) {
            let name = try r.string()
            var score = LiveScore(horizons: horizons.map { LiveScore.Horizon(bars: $0) }, scored: try r.int())
            for i in horizons.indices {
                score.horizons[i].next = try r.int()
                for _ in 0..<(try r.count()) { score.horizons[i].returns.append(try r.f64()) }
            }
            scores[name] = score
        }
        var outcomes: [(seq: UInt64, returns: [Double?])] = []
        for _ in 0..<(try r.count()) {
            let seq = try r.u64()
            var returns: [Double?] = []
            for _ in horizons { returns.append(try r.optionalF64()) }
            outcomes.append((seq, returns))
        }
        // The bar counts always carry over; what was scored only under the same settings.
        self.bars = bars
        guard horizons == settings.horizons, window == settings.window else { return }
        self.pending = pending
        self.scores = scores
        self.outcomes = Array(outcomes.suffix(settings.outcomes))
    }
}
