import Locks
import Contracts
import Synchronization

/// An event with its JSON payload, encoded once when it was stored: a list answer copies the
/// fragments instead of encoding every event for every request.
public struct Encoded<Event: Sendable>: Sendable {
    public let event: Event
    public let json: [UInt8]

    public init(event: Event, json: [UInt8]) {
        self.event = event
        self.json = json
    }
}

/// The in-memory query store REST reads: the last `capacity` signals, opportunity events and
/// alerts (in seq order), the latest state of each opportunity by id, and each symbol's latest
/// bar and features. Written by the pipeline worker, read by reactor threads: one mutex, held
/// for a copy-in or a bounded scan, never across I/O.
public final class EventStore: Sendable {
    struct State {
        var signals: BoundedLog<StrategySignal>
        var opportunities: BoundedLog<Encoded<Opportunity>>
        var alerts: BoundedLog<Encoded<RiskAlert>>
        var opportunityByID: [String: Opportunity] = [:]
        var idOrder: BoundedLog<String>
        /// Each symbol's recent bars and features (the newest of each is its latest): one
        /// lookup per event.
        var symbols: [String: SymbolHistory] = [:]
        var lastSeq: UInt64 = 0
        /// Moves whenever a list answer could change: a sequenced event or an outcome recorded.
        var generation: UInt64 = 0
        /// Live scoring: each strategy's scorecard, and the newest signals' forward returns by
        /// seq and horizon (bars).
        var scores: [String: ScoreCard] = [:]
        var outcomes: OutcomeTable
    }

    struct SymbolHistory {
        var bars: BoundedLog<Bar>
        var features: BoundedLog<Features>
        init(_ capacity: Int) {
            bars = BoundedLog(capacity: capacity)
            features = BoundedLog(capacity: capacity)
        }
    }

    public let capacity: Int
    public let perSymbolHistory: Int
    /// The live scoring horizons (bars) outcomes are given at.
    public let scoringHorizons: [Int]
    private let state: PThreadLocked<State>

    public init(capacity: Int = 10_000, perSymbolHistory: Int = 500, scoringHorizons: [Int] = ScoringSettings().horizons) {
        self.scoringHorizons = scoringHorizons
        self.capacity = capacity
        self.perSymbolHistory = perSymbolHistory
        state = PThreadLocked(State(signals: BoundedLog(capacity: capacity), opportunities: BoundedLog(capacity: capacity),
                            alerts: BoundedLog(capacity: capacity), idOrder: BoundedLog(capacity: capacity),
                            outcomes: OutcomeTable(capacity: capacity, horizons: scoringHorizons)))
    }

    /// Records `event`; `payload` is an opportunity's or alert's payload JSON when the caller
    /// has it already (the pipeline encodes it once for the journal), else it is encoded here.
    public func record(_ event: PipelineEvent, payload: [UInt8] = []) {
        let history = perSymbolHistory
        // Encoded on the writer's thread, outside the lock.
        let fragment = payload.isEmpty ? Self.fragment(of: event) : payload
        state.withLock { s in Self.apply(event, fragment, to: &s, history: history) }
    }

    /// The pipeline worker's batch, in order, under one lock (a batch of ticks at 1 ms bars is
    /// a few events per tick); ticks are not stored. An opportunity's or alert's payload is
    /// the part of the envelope the worker encoded.
    func record(_ batch: [StampedEvent]) {
        let history = perSymbolHistory
        state.withLock { s in
            for item in batch {
                switch item.event {
                case .tick: continue
                case .opportunity, .alert:
                    let fragment = item.envelope.isEmpty ? Self.fragment(of: item.event) : Array(item.envelope[item.payload])
                    Self.apply(item.event, fragment, to: &s, history: history)
                default: Self.apply(item.event, [], to: &s, history: history)
                }
            }
        }
    }

    private static func fragment(of event: PipelineEvent) -> [UInt8] {
        switch event {
        case .opportunity(let o): fragment { EventEncoder.payload(o, &$0) }
        case .alert(let a): fragment { EventEncoder.payload(a, &$0) }
        default: []
        }
    }

    private static func apply(_ event: PipelineEvent, _ fragment: [UInt8], to s: inout State, history: Int) {
        switch event {
        case .tick: break
        case .bar(let b): s.symbols[b.symbol, default: SymbolHistory(history)].bars.append(b)
        case .features(let f): s.symbols[f.symbol, default: SymbolHistory(history)].features.append(f)
        case .signal(let x):
            s.generation &+= 1
            s.signals.append(x)
            s.lastSeq = max(s.lastSeq, x.seq)
        case .opportunity(let o):
            s.generation &+= 1
            s.opportunities.append(Encoded(event: o, json: fragment))
            if s.opportunityByID[o.id] == nil {
                if let evicted = s.idOrder.append(o.id) { s.opportunityByID[evicted] = nil }
            }
            s.opportunityByID[o.id] = o
            s.lastSeq = max(s.lastSeq, o.seq)
        case .alert(let a):
            s.generation &+= 1
            s.alerts.append(Encoded(event: a, json: fragment))
            s.lastSeq = max(s.lastSeq, a.seq)
        }
    }

    /// One event's payload as the list endpoints write it.
    public static func fragment(_ encode: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 320)
        encode(&w)
        return w.bytes
    }

    public var lastSeq: UInt64 { state.withLock { $0.lastSeq } }
    /// Changes whenever what the list endpoints answer could (response caches key on it).
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// The first seq from which the in-memory history is complete for every sequenced channel;
    /// nil when nothing has been evicted yet (complete since the start).
    public var historyStartsAt: UInt64? {
        state.withLock { s in
            var start: UInt64?
            func consider(_ count: Int, _ capacity: Int, _ first: UInt64?) {
                guard count == capacity, let first else { return }
                start = max(start ?? 0, first)
            }
            consider(s.signals.count, s.signals.capacity, s.signals.first?.seq)
            consider(s.opportunities.count, s.opportunities.capacity, s.opportunities.first?.event.seq)
            consider(s.alerts.count, s.alerts.capacity, s.alerts.first?.event.seq)
            return start
        }
    }

    /// Opportunity events after `sinceSeq` matching `filter`, oldest first, at most `limit`.
    public func opportunities(sinceSeq: UInt64 = 0, limit: Int, where filter: @Sendable (Opportunity) -> Bool = { _ in true }) -> [Opportunity] {
        encodedOpportunities(sinceSeq: sinceSeq, limit: limit, where: filter).map(\.event)
    }

    /// The same, each with its JSON payload.
    public func encodedOpportunities(sinceSeq: UInt64 = 0, limit: Int,
                                     where filter: @Sendable (Opportunity) -> Bool = { _ in true }) -> [Encoded<Opportunity>] {
        state.withLock { $0.opportunities.after(sinceSeq, limit: limit, seq: \.event.seq) { filter($0.event) } }
    }

    public func signals(sinceSeq: UInt64 = 0, limit: Int, where filter: @Sendable (StrategySignal) -> Bool = { _ in true }) -> [StrategySignal] {
        state.withLock { $0.signals.after(sinceSeq, limit: limit, seq: \.seq, filter) }
    }

    public func alerts(sinceSeq: UInt64 = 0, limit: Int, where filter: @Sendable (RiskAlert) -> Bool = { _ in true }) -> [RiskAlert] {
        encodedAlerts(sinceSeq: sinceSeq, limit: limit, where: filter).map(\.event)
    }

    public func encodedAlerts(sinceSeq: UInt64 = 0, limit: Int,
                              where filter: @Sendable (RiskAlert) -> Bool = { _ in true }) -> [Encoded<RiskAlert>] {
        state.withLock { $0.alerts.after(sinceSeq, limit: limit, seq: \.event.seq) { filter($0.event) } }
    }

    /// The newest `limit` opportunity events matching `filter`, oldest first.
    public func latestOpportunities(limit: Int, where filter: @Sendable (Opportunity) -> Bool = { _ in true }) -> [Opportunity] {
        latestEncodedOpportunities(limit: limit, where: filter).map(\.event)
    }

    public func latestEncodedOpportunities(limit: Int, where filter: @Sendable (Opportunity) -> Bool = { _ in true })
        -> [Encoded<Opportunity>] {
        state.withLock { $0.opportunities.newest(limit) { filter($0.event) } }
    }

    public func latestSignals(limit: Int, where filter: @Sendable (StrategySignal) -> Bool = { _ in true }) -> [StrategySignal] {
        state.withLock { $0.signals.newest(limit, filter) }
    }

    public func latestAlerts(limit: Int, where filter: @Sendable (RiskAlert) -> Bool = { _ in true }) -> [RiskAlert] {
        latestEncodedAlerts(limit: limit, where: filter).map(\.event)
    }

    public func latestEncodedAlerts(limit: Int, where filter: @Sendable (RiskAlert) -> Bool = { _ in true }) -> [Encoded<RiskAlert>] {
        state.withLock { $0.alerts.newest(limit) { filter($0.event) } }
    }

    public func opportunity(id: String) -> Opportunity? { state.withLock { $0.opportunityByID[id] } }
    public var symbols: [String] { state.withLock { s in s.symbols.filter { $0.value.bars.count > 0 }.map(\.key).sorted() } }
    public func latestBar(_ symbol: String) -> Bar? { state.withLock { $0.symbols[symbol]?.bars.newestElement } }
    public func latestFeatures(_ symbol: String) -> Features? { state.withLock { $0.symbols[symbol]?.features.newestElement } }
    /// The most bars held for one symbol (what a new indicator can warm up on).
    /// A signal's forward return at a horizon became known (the engine's live scorer).
    /// A batch's signal outcomes, and the scores of the strategies they changed as they stand
    /// at the batch's end.
    public func record(outcomes: [SignalOutcome], scores: [(strategy: String, card: ScoreCard)]) {
        state.withLock { s in
            s.generation &+= 1
            for (strategy, card) in scores { s.scores[strategy] = card }
            for o in outcomes { s.outcomes.set(o.seq, bars: o.bars, o.ret) }
        }
    }

    /// After a restart: the scorer's state as the checkpoint and the replayed inputs left it.
    public func restoreScores(_ scores: [String: LiveScore], outcomes: ArraySlice<(seq: UInt64, returns: [Double?])>,
                              horizons: [Int]) {
        state.withLock { s in
            s.generation &+= 1
            s.scores = scores.mapValues(\.card)
            for o in outcomes {
                for (h, r) in zip(horizons, o.returns) { if let r { s.outcomes.set(o.seq, bars: h, r) } }
            }
        }
    }

    public var liveScores: [String: ScoreCard] { state.withLock { $0.scores } }

    /// A signal's known forward returns by horizon (bars); empty when none is known.
    public func outcome(_ seq: UInt64) -> [Int: Double] { state.withLock { $0.outcomes.returns(seq) } }

    public var mostBarsHeld: Int { state.withLock { $0.symbols.values.map(\.bars.count).max() ?? 0 } }
    public func bars(_ symbol: String, limit: Int) -> [Bar] { state.withLock { $0.symbols[symbol]?.bars.last(limit) ?? [] } }
    public func features(_ symbol: String, limit: Int) -> [Features] { state.withLock { $0.symbols[symbol]?.features.last(limit) ?? [] } }
}

/// The newest `capacity` signals' forward returns, by seq and horizon: one row of doubles per
/// signal (NaN = not known yet) in a ring, found through a seq → row index. A return comes in
/// at every bar close, so this stays flat: no per-signal dictionary to allocate, grow and free.
/// A horizon other than the store's (none comes from the live scorer) goes to `others`.
struct OutcomeTable {
    let horizons: [Int]
    private var rowOf: [UInt64: Int] = [:]
    private var seqs: [UInt64]
    private var values: [Double]
    private var next = 0
    private var used = 0
    private var others: [UInt64: [Int: Double]] = [:]

    init(capacity: Int, horizons: [Int]) {
        self.horizons = horizons
        let rows = max(1, capacity)
        seqs = Array(repeating: 0, count: rows)
        values = Array(repeating: .nan, count: rows * max(1, horizons.count))
        rowOf.reserveCapacity(rows)
    }

    private var stride: Int { max(1, horizons.count) }

    mutating func set(_ seq: UInt64, bars: Int, _ ret: Double) {
        let row: Int
        if let r = rowOf[seq] {
            row = r
        } else {
            row = next
            next = (next + 1) % seqs.count
            if used == seqs.count {
                let evicted = seqs[row]
                rowOf[evicted] = nil
                if !others.isEmpty { others[evicted] = nil }
            } else {
                used += 1
            }
            seqs[row] = seq
            rowOf[seq] = row
            for i in row * stride..<(row + 1) * stride { values[i] = .nan }
        }
        if let h = horizons.firstIndex(of: bars) {
            values[row * stride + h] = ret
        } else {
            others[seq, default: [:]][bars] = ret
        }
    }

    func returns(_ seq: UInt64) -> [Int: Double] {
        guard let row = rowOf[seq] else { return [:] }
        var out = others[seq] ?? [:]
        for (h, bars) in horizons.enumerated() where !values[row * stride + h].isNaN {
            out[bars] = values[row * stride + h]
        }
        return out
    }
}

/// A fixed-capacity log that drops its oldest entry when full.
struct BoundedLog<Element> {
    private var items: [Element] = []
    private var start = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { items.count }

    /// Appends; returns the evicted element when full.
    @discardableResult
    mutating func append(_ e: Element) -> Element? {
        if items.count < capacity {
            items.append(e)
            return nil
        }
        let old = items[start]
        items[start] = e
        start = (start + 1) % capacity
        return old
    }

    func element(_ i: Int) -> Element { items[(start + i) % items.count] }

    var first: Element? { items.isEmpty ? nil : element(0) }
    var newestElement: Element? { items.isEmpty ? nil : element(items.count - 1) }

    func last(_ n: Int) -> [Element] {
        let k = min(n, items.count)
        return (items.count - k..<items.count).map(element)
    }

    /// The newest `limit` elements passing `filter`, oldest first.
    func newest(_ limit: Int, _ filter: (Element) -> Bool) -> [Element] {
        var out: [Element] = []
        var i = items.count - 1
        while i >= 0 && out.count < limit {
            let e = element(i)
            if filter(e) { out.append(e) }
            i -= 1
        }
        return out.reversed()
    }

    /// Elements with seq > `since` passing `filter`, oldest first, up to `limit` (binary search
    /// for the start: the log is in seq order).
    func after(_ since: UInt64, limit: Int, seq: KeyPath<Element, UInt64>, _ filter: (Element) -> Bool) -> [Element] {
        var lo = 0, hi = items.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if element(mid)[keyPath: seq] <= since { lo = mid + 1 } else { hi = mid }
        }
        var out: [Element] = []
        var i = lo
        while i < items.count && out.count < limit {
            let e = element(i)
            if filter(e) { out.append(e) }
            i += 1
        }
        return out
    }
}
