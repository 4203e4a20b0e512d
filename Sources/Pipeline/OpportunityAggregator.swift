import Contracts

/// Aggregation settings (market time, milliseconds).
public struct AggregatorSettings: Sendable, Equatable {
    /// An episode expires this long after its last signal.
    public var ttlMs: Int64 = 300_000
    /// After an episode expires, signals for the same (symbol, direction) wait this long before
    /// opening a new one (they are still published as signals).
    public var cooldownMs: Int64 = 60_000

    public init(ttlMs: Int64 = 300_000, cooldownMs: Int64 = 60_000) {
        self.ttlMs = ttlMs
        self.cooldownMs = cooldownMs
    }
}

/// Merges signals into opportunity episodes, one per (symbol, direction).
///
/// - confidence = 1 − Π(1 − sᵢ) over the distinct strategies of the episode, sᵢ being each
///   strategy's strongest signal: independent, agreeing evidence raises confidence, one
///   strategy repeating itself does not.
/// - Lifecycle: `new` on the first signal, `updated` on each further signal, `expired` once
///   market time passes `expires_ts` (last signal + TTL) or when a signal of the opposite
///   direction arrives for the symbol; `blocked` instead of new/updated while the risk guard
///   blocks the symbol.
/// - `id` = "<symbol>-<direction>-<created_ts>": deterministic, so a replay gives the same ids.
public struct OpportunityAggregator: Sendable {
    struct Episode: Sendable {
        var opportunity: Opportunity
        var strengths: [String: Double]
    }

    public var settings: AggregatorSettings
    var open: [String: Episode] = [:]       // key: symbol + "|" + direction
    var cooldownUntil: [String: Int64] = [:]
    /// No open episode expires before this (a lower bound, kept as episodes are opened and
    /// updated; `Int64.min` = unknown, after `open` was replaced by a checkpoint): `expire`
    /// skips the scan — a sort of the keys — on the bars before it.
    var expiryFloor = Int64.min

    public init(settings: AggregatorSettings = AggregatorSettings()) { self.settings = settings }

    private static func key(_ symbol: String, _ direction: Direction) -> String { symbol + "|" + direction.rawValue }

    /// Open episodes (for queries and checkpoints).
    public var openOpportunities: [Opportunity] { open.values.map(\.opportunity).sorted { $0.id < $1.id } }

    /// Applies a signal; returns the opportunity events it causes, in order, without `seq`
    /// (the engine numbers them). `risk` is the symbol's risk state at this moment.
    /// `untradable`: "limit_up" / "limit_down" when the signal's price is at its daily limit.
    public mutating func add(_ signal: StrategySignal, risk: (status: RiskStatus, alerts: [String]),
                             untradable: String? = nil) -> [Opportunity] {
        var events: [Opportunity] = []
        // An opposite signal closes the other side's episode first.
        let oppositeKey = Self.key(signal.symbol, signal.direction.opposite)
        if let other = open.removeValue(forKey: oppositeKey) {
            events.append(close(other, at: signal.ts))
        }
        let key = Self.key(signal.symbol, signal.direction)
        if var episode = open[key] {
            let known = episode.strengths[signal.strategy]
            episode.strengths[signal.strategy] = max(known ?? 0, signal.strength)
            var o = episode.opportunity
            o.confidence = Self.confidence(episode.strengths)
            if known == nil { o.strategies = episode.strengths.keys.sorted() }
            o.signalCount += 1
            o.price = signal.price
            o.updatedTs = signal.ts
            o.expiresTs = signal.ts + settings.ttlMs
            o.riskStatus = risk.status
            o.riskAlerts = risk.alerts
            o.untradable = untradable
            o.status = risk.status == .blocked ? .blocked : .updated
            episode.opportunity = o
            open[key] = episode
            expiryFloor = min(expiryFloor, o.expiresTs)
            events.append(o)
            return events
        }
        if let until = cooldownUntil[key], signal.ts < until { return events }
        let strengths = [signal.strategy: signal.strength]
        let o = Opportunity(
            seq: 0, id: "\(signal.symbol)-\(signal.direction.rawValue)-\(signal.ts)", symbol: signal.symbol,
            direction: signal.direction, status: risk.status == .blocked ? .blocked : .new,
            confidence: Self.confidence(strengths), price: signal.price, strategies: [signal.strategy], signalCount: 1,
            createdTs: signal.ts, updatedTs: signal.ts, expiresTs: signal.ts + settings.ttlMs,
            riskStatus: risk.status, riskAlerts: risk.alerts, untradable: untradable)
        open[key] = Episode(opportunity: o, strengths: strengths)
        expiryFloor = min(expiryFloor, o.expiresTs)
        events.append(o)
        return events
    }

    /// Expires every episode whose `expires_ts` is before `marketTime`.
    public mutating func expire(before marketTime: Int64) -> [Opportunity] {
        guard !open.isEmpty, marketTime > expiryFloor else { return [] }
        var events: [Opportunity] = []
        var floor = Int64.max
        for key in open.keys.sorted() {
            guard let episode = open[key] else { continue }
            guard episode.opportunity.expiresTs < marketTime else {
                floor = min(floor, episode.opportunity.expiresTs)
                continue
            }
            open.removeValue(forKey: key)
            events.append(close(episode, at: episode.opportunity.expiresTs))
        }
        expiryFloor = floor
        return events
    }

    private mutating func close(_ episode: Episode, at ts: Int64) -> Opportunity {
        var o = episode.opportunity
        o.status = .expired
        o.updatedTs = max(o.updatedTs, ts)
        cooldownUntil[Self.key(o.symbol, o.direction)] = ts + settings.cooldownMs
        return o
    }

    static func confidence(_ strengths: [String: Double]) -> Double {
        // One strategy (the usual episode): the same product without sorting the keys.
        if strengths.count == 1, let only = strengths.first?.value { return 1 - 1.0 * (1 - min(1, max(0, only))) }
        var remaining = 1.0
        for strategy in strengths.keys.sorted() { remaining *= 1 - min(1, max(0, strengths[strategy] ?? 0)) }
        return 1 - remaining
    }
}
