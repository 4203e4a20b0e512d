import Contracts
import Foundation
import Markets

/// Where the engine's outputs go, in the order they happen. Called on the engine's thread.
public protocol EngineSink: AnyObject {
    func engine(tick: Tick)
    func engine(bar: Bar)
    func engine(features: Features)
    func engine(signal: StrategySignal)
    func engine(opportunity: Opportunity)
    func engine(alert: RiskAlert)
    /// After the strategies ran on a bar close, with what they saw (research tools evaluate exit
    /// rules on it). Most sinks do not need it.
    func engine(evaluated context: StrategyContext)
    /// A signal's forward return became known at one horizon, with its strategy's scorecard now.
    func engine(outcome: SignalOutcome, score: LiveScore)
    /// Whether `engine(tick:)` does anything: asked once, when the engine is made (a research
    /// run's sink does not, and the engine then skips the call per tick).
    var takesTicks: Bool { get }
}

extension EngineSink {
    public var takesTicks: Bool { true }
    public func engine(evaluated context: StrategyContext) {}
    public func engine(outcome: SignalOutcome, score: LiveScore) {}
}

public struct EngineSettings: Sendable {
    public var interval: BarInterval
    public var aggregator = AggregatorSettings()
    public var risk = RiskSettings()
    public var scoring = ScoringSettings()
    /// Research runs (backtest, sweep): bars, features, strategies and signals only — no risk
    /// guard and no opportunities, which never change a signal.
    public var signalsOnly = false
    /// Each symbol's venue: sessions, bar buckets, time-based checks (`MarketDirectory.off`: UTC
    /// clock buckets around the clock, as before markets).
    public var markets = MarketDirectory.off

    public init(interval: BarInterval) {
        self.interval = interval
        // Signal-rate limits are for bars of 10 s or more; shorter bars give proportionally more
        // signals in a normal minute (1 s bars: 120 a symbol, 1200 over all).
        let scale = max(1, Int(10_000 / max(1, interval.milliseconds)))
        risk.maxSignalsPerSymbolPerMinute *= scale
        risk.maxSignalsPerMinute *= scale
    }
}

/// Counts of what the engine did (summaries, health, metrics).
public struct EngineCounters: Sendable, Equatable {
    public var ticks = 0
    public var outOfOrder = 0
    public var bars = 0
    public var signals = 0
    public var opportunities = 0
    public var alerts = 0
}

/// Ticks in, bars → features → signals → opportunities and alerts out, in market time.
///
/// One instance runs on one thread (the pipeline worker, or the replay command): the stages
/// run in order on each tick, so the output is a deterministic function of the input. Every
/// signal, opportunity and alert gets the next `seq` (one strictly increasing sequence).
public final class SignalEngine {
    final class SymbolPipeline {
        var builder: BarBuilder
        var calculator = FeatureCalculator()
        var previousFeatures: Features?
        /// What rules read on a bar close, refilled in place: the last closed bar (the one the
        /// rules saw last), the one before, the indicator values and the recent highs and lows.
        let frame: RuleFrame
        /// Whether a bar has closed (the frame's `bar` is a placeholder until one has).
        var hasBar = false
        /// The last closed bar.
        var previousBar: Bar? {
            get { hasBar ? frame.bar : nil }
            set {
                hasBar = newValue != nil
                if let newValue { frame.now = BarValues(newValue) }
            }
        }
        /// The frame's recent highs and lows, mutated in place (a get-and-set would copy both
        /// windows on every append).
        var recent: RecentBars {
            _read { yield frame.recent }
            _modify { yield &frame.recent }
        }
        var lastTs: Int64 = .min
        /// Wall-clock ms of this symbol's last tick (live feeds): the clock closes a bar only
        /// after the symbol has been quiet for the grace period too.
        var lastWallMs: Int64 = .min
        /// The parameterised indicators the rules in force call.
        var bank: IndicatorBank
        /// Daily price limits: the trading day of the last closed bar, its last close, and the
        /// previous trading day's (the reference data's before the feed has shown one).
        var limitDay: Int64 = .min
        var dayClose: Double?
        var previousClose: Double?
        /// The symbol's daily limit fraction (nil inside: none), looked up on its first bar: the
        /// venue lookup parses the symbol. And the last band made, with the close it came from.
        /// The risk guard's state of this symbol (looked up once; a restore makes new pipelines),
        /// unretained: the guard's table of symbols owns it and never lets one go.
        var risk: Unmanaged<RiskGuard.SymbolState>?
        var limitFraction: Double??
        var band: PriceBand?
        var bandFrom = Double.nan
        init(symbol: String, interval: BarInterval, profile: MarketProfile = .alwaysOpen, plan: IndicatorPlan = IndicatorPlan()) {
            builder = BarBuilder(symbol: symbol, interval: interval, profile: profile)
            bank = IndicatorBank(plan: plan)
            frame = RuleFrame(features: Features(symbol: symbol, interval: interval.label, ts: .min, close: 0), previous: nil,
                              bar: Bar(symbol: symbol, interval: interval.label, start: .min, open: 0, high: 0, low: 0, close: 0,
                                       volume: 0, vwap: 0, trades: 0),
                              previousBar: nil, slots: bank.table)
        }
    }

    public let settings: EngineSettings
    /// Replacing the strategies keeps every symbol's indicator instances whose calls are still
    /// used; new ones are warmed on the symbol's held bars (`history`).
    public var strategies: StrategyRegistry {
        didSet {
            adoptStrategies()
            if strategies.plan != oldValue.plan { lastWarmUpBars = adoptPlan() }
        }
    }
    /// What a bar close reads of `strategies`, kept apart so the hot path copies nothing: each
    /// enabled strategy's name and evaluation, and whether any reads the features / recent bars.
    private var evaluators: [(name: String, evaluate: (StrategyContext) -> StrategyVerdict?)] = []
    private var readsFeatures = false
    private var readsRecentBars = false
    /// A symbol's closed bars the server still holds, oldest first (the worker's query store);
    /// nil: none (replay starts every indicator with the data).
    public var history: ((String) -> [Bar])?
    /// How many held bars new indicator instances saw at the last strategies change (the most
    /// over the symbols).
    public private(set) var lastWarmUpBars = 0
    public internal(set) var seq: UInt64
    public internal(set) var counters = EngineCounters()
    /// The latest market time seen (max tick ts).
    public internal(set) var marketTime: Int64 = .min
    var symbols: [String: SymbolPipeline] = [:]
    var aggregator: OpportunityAggregator
    var risk: RiskGuard
    var scorer: LiveScorer
    /// The sink owns the engine (or outlives it): no reference count traffic per output.
    private unowned(unsafe) let sink: EngineSink
    private let sinkTakesTicks: Bool
    // Read on every bar (copies of settings fields, so the hot path does not copy the struct).
    private let intervalMs: Int64
    private let signalsOnly: Bool

    public init(settings: EngineSettings, strategies: StrategyRegistry, sink: EngineSink, lastSeq: UInt64 = 0) {
        self.settings = settings
        intervalMs = settings.interval.milliseconds
        signalsOnly = settings.signalsOnly
        self.strategies = strategies
        self.sink = sink
        sinkTakesTicks = sink.takesTicks
        self.seq = lastSeq
        aggregator = OpportunityAggregator(settings: settings.aggregator)
        risk = RiskGuard(settings: settings.risk)
        scorer = LiveScorer(settings: settings.scoring)
        adoptStrategies()
    }

    private func adoptStrategies() {
        evaluators = strategies.enabled.map { strategy in (strategy.name, { strategy.evaluate($0) }) }
        readsFeatures = strategies.readsFeatures
        readsRecentBars = strategies.readsRecentBars
    }

    public enum TickOutcome: Equatable { case accepted, outOfOrder(lastTs: Int64) }

    /// Processes one valid tick. A tick older than its symbol's last accepted tick is refused
    /// as out of order (never reordered) and reported through an `out_of_order` alert.
    @discardableResult
    public func process(_ tick: Tick, wallMs: Int64? = nil) -> TickOutcome {
        // The pipeline by a guaranteed reference: `symbols` owns it, and nothing on a tick's
        // path replaces `symbols` (only `restore`, before any input).
        pipeline(for: tick.symbol)._withUnsafeGuaranteedRef { process(tick, wallMs: wallMs, state: $0) }
    }

    private func process(_ tick: Tick, wallMs: Int64?, state: SymbolPipeline) -> TickOutcome {
        if tick.ts < state.lastTs {
            counters.outOfOrder += 1
            publish(risk.outOfOrder(tick, lastTs: state.lastTs))
            return .outOfOrder(lastTs: state.lastTs)
        }
        state.lastTs = tick.ts
        if let wallMs { state.lastWallMs = wallMs }
        counters.ticks += 1
        if tick.ts > marketTime { marketTime = tick.ts }
        if sinkTakesTicks { sink.engine(tick: tick) }
        if state.builder.isOffSession(tick.ts) {
            // Outside every session of its venue: flagged, and not in bars unless the venue keeps them.
            if !signalsOnly { publish(risk.offSession(tick, venue: state.builder.clock.profile.venue)) }
            guard state.builder.clock.profile.offSession == .keep else { return .accepted }
        }
        if !signalsOnly {
            if state.risk == nil { state.risk = Unmanaged.passUnretained(risk.symbolState(tick.symbol)) }
            publish(state.risk.unsafelyUnwrapped._withUnsafeGuaranteedRef { risk.tick(tick, wallMs: wallMs, state: $0) })
        }
        if let bar = state.builder.add(tick) { closed(bar, state, closeTime: state.builder.closedEnd, day: state.builder.closedDay) }
        return .accepted
    }

    /// A bar closed elsewhere (an OHLCV file): straight to the indicators and strategies, without
    /// the bar builder. A bar that does not start after its symbol's last one is refused.
    @discardableResult
    public func process(bar: Bar) -> TickOutcome {
        let state = pipeline(for: bar.symbol).takeUnretainedValue()
        guard bar.start > state.lastTs else {
            counters.outOfOrder += 1
            return .outOfOrder(lastTs: state.lastTs)
        }
        state.lastTs = bar.start
        let closeTime = bar.start + intervalMs
        if closeTime > marketTime { marketTime = closeTime }
        // The trading day matters to daily price limits only (a live engine's).
        let day = signalsOnly ? 0 : (settings.markets.enabled ? state.builder.clock.slot(bar.start)?.tradingDay : nil)
            ?? CivilDate.floorDivide(bar.start, 86_400_000).quotient
        closed(bar, state, closeTime: closeTime, day: day)
        return .accepted
    }

    /// Closed bars in time order (an OHLCV file's, in a research run): what `process(bar:)` does
    /// with each, in one loop. A research engine (`signalsOnly`) runs each stretch of one
    /// symbol's bars with that symbol's state held in locals: the same indicator, rule and sink
    /// calls, without looking the state up and counting references to it on every bar.
    public func process(bars: UnsafeBufferPointer<Bar>) {
        guard signalsOnly else {
            for i in bars.indices { process(bar: bars[i]) }
            return
        }
        var i = 0
        while i < bars.count {
            let state = pipeline(for: bars[i].symbol).takeUnretainedValue()
            var end = i + 1
            while end < bars.count, bars[end].symbol == state.frame.symbol { end += 1 }
            research(UnsafeBufferPointer(rebasing: bars[i..<end]), state)
            i = end
        }
    }

    /// One symbol's stretch of closed bars in a research run (no risk guard, opportunities or
    /// scoring: `closed` with `full` false, step for step — kept as its own loop because sharing
    /// a helper with `closed` measured 15% slower; a change to one belongs in both).
    private func research(_ bars: UnsafeBufferPointer<Bar>, _ state: SymbolPipeline) {
        let frame = state.frame, bank = state.bank, sink = self.sink
        let evaluators = self.evaluators
        let withFeatures = readsFeatures, withRecent = readsRecentBars
        if frame.slots !== bank.table { frame.slots = bank.table }
        let context = StrategyContext(input: RuleInput(frame: frame))
        var lastTs = state.lastTs
        defer { state.lastTs = lastTs }
        for i in bars.indices {
            let start = bars[i].start
            guard start > lastTs else {
                counters.outOfOrder += 1
                continue
            }
            lastTs = start
            let closeTime = start + intervalMs
            if closeTime > marketTime { marketTime = closeTime }
            counters.bars += 1
            sink.engine(bar: bars[i])
            if withFeatures {
                frame.previous = state.previousFeatures
                frame.features = state.calculator.update(bars[i])
                sink.engine(features: frame.features)
            }
            let values = BarValues(bars[i])
            bank.update(values)
            frame.advance(to: values, hadBar: state.hasBar)
            state.hasBar = true
            for k in evaluators.indices {
                guard let verdict = evaluators[k].evaluate(context) else { continue }
                emit(verdict, evaluators[k].name, bars[i], closeTime: closeTime, atUp: false, atDown: false)
            }
            sink.engine(evaluated: context)
            if withRecent { state.recent.append(bars[i]) }
            if withFeatures { state.previousFeatures = frame.features }
        }
    }

    /// End of input: closes every open bar (replay).
    public func finish() {
        for symbol in symbols.keys.sorted() {
            guard let state = symbols[symbol], let bar = state.builder.flush() else { continue }
            closed(bar, state, closeTime: state.builder.closedEnd, day: state.builder.closedDay)
        }
    }

    /// Live feeds: closes bars whose end + grace has passed on the wall clock and whose symbol has
    /// had no tick for the grace period either (so a batch of past-dated ticks — history posted
    /// over REST — is never cut mid-way by a clock close between two of its parts), and reports
    /// stale feeds.
    /// Returns whether the step changed anything (closed a bar or found a stale feed): only such
    /// steps are engine inputs worth journaling.
    @discardableResult
    public func tickClock(wallMs: Int64, graceMs: Int64) -> Bool {
        var acted = false
        for symbol in symbols.keys.sorted() {
            guard let state = symbols[symbol], state.lastWallMs == .min || wallMs - state.lastWallMs >= graceMs,
                  let bar = state.builder.closeIfDue(nowMs: wallMs, graceMs: graceMs) else { continue }
            acted = true
            closed(bar, state, closeTime: state.builder.closedEnd, day: state.builder.closedDay)
        }
        // A feed is stale only while its venue is in session.
        let stale = risk.staleFeeds(wallMs: wallMs, marketMs: marketTime, found: &acted) { symbol, ms in
            self.symbols[symbol]?.builder.isOffSession(ms) == false
        }
        publish(stale)
        return acted
    }

    /// Feeds one journaled input again (recovery): exactly what the worker did with it.
    public func replay(_ input: EngineInput) {
        switch input {
        case .tick(let tick, let wallMs): process(tick, wallMs: wallMs)
        case .clock(let wallMs, let graceMs): tickClock(wallMs: wallMs, graceMs: graceMs)
        case .strategies(let json): if let registry = try? StrategyRegistry.parse(Data(json)) { strategies = registry }
        case .resume(let wallMs, let holdMs): resume(wallMs: wallMs, holdMs: holdMs)
        }
    }

    /// The bar being built for a symbol (queries).
    public func currentBar(_ symbol: String) -> Bar? { symbols[symbol]?.builder.current }
    public func latestFeatures(_ symbol: String) -> Features? { symbols[symbol]?.previousFeatures }
    public var knownSymbols: [String] { symbols.keys.sorted() }
    /// Each strategy's live scorecard (strategies that have had a signal scored).
    public var liveScores: [String: LiveScore] { scorer.scores }
    /// The newest signals' forward returns per horizon (nil: not known yet), oldest first.
    public var recentOutcomes: ArraySlice<(seq: UInt64, returns: [Double?])> { scorer.recentOutcomes }

    /// The last symbol looked up and its pipeline: consecutive bars and ticks of one symbol
    /// (a file of one symbol, a burst) skip the hash.
    var lastSymbol = ""
    var lastState: Unmanaged<SymbolPipeline>?
    /// The per-tick lookup (emptied when `symbols` is replaced; refilled from it). It and
    /// `lastState` hold pipelines unretained: `symbols` owns them.
    var slots = SymbolSlots<SymbolPipeline>()

    private func pipeline(for symbol: String) -> Unmanaged<SymbolPipeline> {
        if let lastState, symbol == lastSymbol { return lastState }
        // No `??` closures on this path: a closure's context retains what it captures.
        let state: Unmanaged<SymbolPipeline>
        if let found = slots.find(symbol) {
            state = found
        } else {
            state = Unmanaged.passUnretained(newPipeline(symbol))
        }
        lastSymbol = symbol
        lastState = state
        return state
    }

    /// A symbol's pipeline, made on its first tick or bar (or found in `symbols` after a restore).
    private func newPipeline(_ symbol: String) -> SymbolPipeline {
        let state = symbols[symbol] ?? {
            let state = SymbolPipeline(symbol: symbol, interval: settings.interval, profile: settings.markets.profile(for: symbol),
                                       plan: strategies.plan)
            symbols[symbol] = state
            return state
        }()
        slots.insert(symbol, state)
        return state
    }

    private func adoptPlan() -> Int {
        var most = 0
        for symbol in symbols.keys.sorted() {
            most = max(most, symbols[symbol]!.bank.adopt(strategies.plan, history: history?(symbol) ?? []))
        }
        return most
    }

    /// A bar of trading day `day` closed at `closeTime` (its bucket's end: a session's close may
    /// come before start + interval).
    private func closed(_ bar: Bar, _ state: SymbolPipeline, closeTime: Int64, day: Int64) {
        counters.bars += 1
        let full = !signalsOnly
        if full { for o in aggregator.expire(before: max(marketTime, closeTime)) { publish(o) } }
        sink.engine(bar: bar)
        if full { publish(risk.bar(bar)) }
        var atUp = false, atDown = false
        if full, let band = limitBand(bar, state, day: day) {
            atUp = band.nearUp(bar.close, near: settings.risk.limitNear)
            atDown = band.nearDown(bar.close, near: settings.risk.limitNear)
            if atUp || atDown { publish(risk.priceLimit(bar, band: band, up: atUp, closeTime: closeTime)) }
        }
        let frame = state.frame
        // A research run computes the fixed features only when a strategy under test reads them.
        let withFeatures = full || readsFeatures
        if withFeatures {
            frame.previous = state.previousFeatures
            frame.features = state.calculator.update(bar)
            sink.engine(features: frame.features)
        }
        if full { scorer.barClosed(bar.symbol, close: bar.close) { sink.engine(outcome: $0, score: $1) } }
        let values = BarValues(bar)
        state.bank.update(values)
        if frame.slots !== state.bank.table { frame.slots = state.bank.table }
        // The frame's bar moves to `previousBar`: the last closed bar is kept once, in the frame.
        frame.advance(to: values, hadBar: state.hasBar)
        state.hasBar = true
        let context = StrategyContext(input: RuleInput(frame: frame))
        for i in evaluators.indices {
            guard let verdict = evaluators[i].evaluate(context) else { continue }
            emit(verdict, evaluators[i].name, bar, closeTime: closeTime, atUp: atUp, atDown: atDown)
        }
        sink.engine(evaluated: context)
        if full || readsRecentBars { state.recent.append(bar) }
        if withFeatures { state.previousFeatures = frame.features }
    }

    /// A strategy's verdict on a bar: its signal, and in a live run what follows from it.
    private func emit(_ verdict: StrategyVerdict, _ strategy: String, _ bar: Bar, closeTime: Int64, atUp: Bool, atDown: Bool) {
        seq += 1
        counters.signals += 1
        let signal = StrategySignal(seq: seq, ts: closeTime, symbol: bar.symbol, strategy: strategy,
                                    direction: verdict.direction, strength: verdict.strength, price: bar.close,
                                    reason: verdict.reason)
        sink.engine(signal: signal)
        guard !signalsOnly else { return }
        scorer.signal(signal)
        publish(risk.signal(signal))
        // A long at the up-limit (a short at the down-limit) could not be filled.
        let untradable = verdict.direction == .long ? (atUp ? "limit_up" : nil) : (atDown ? "limit_down" : nil)
        for o in aggregator.add(signal, risk: risk.status(bar.symbol, at: closeTime), untradable: untradable) { publish(o) }
    }

    /// The day's price band of a symbol whose venue has daily limits (nil otherwise), from the
    /// previous trading day's last close; tracks the days as bars close.
    private func limitBand(_ bar: Bar, _ state: SymbolPipeline, day: Int64) -> PriceBand? {
        guard settings.markets.enabled else { return nil }
        if state.limitFraction == nil { state.limitFraction = .some(settings.markets.limitFraction(bar.symbol)) }
        guard case .some(.some) = state.limitFraction else { return nil }
        if day != state.limitDay {
            if state.limitDay != .min, let close = state.dayClose { state.previousClose = close }
            state.limitDay = day
        }
        state.dayClose = bar.close
        guard let previous = state.previousClose ?? settings.markets.reference[bar.symbol]?.previousClose else { return nil }
        // The band changes with the previous close only: once a trading day, not once a bar.
        if previous != state.bandFrom {
            state.band = settings.markets.band(bar.symbol, previousClose: previous)
            state.bandFrom = previous
        }
        return state.band
    }

    private func publish(_ alerts: [RiskAlert]) {
        for var alert in alerts {
            seq += 1
            counters.alerts += 1
            alert.seq = seq
            sink.engine(alert: alert)
        }
    }

    private func publish(_ opportunity: Opportunity) {
        var o = opportunity
        seq += 1
        counters.opportunities += 1
        o.seq = seq
        sink.engine(opportunity: o)
    }
}
