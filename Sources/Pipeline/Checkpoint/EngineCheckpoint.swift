import Contracts
import Foundation

/// Everything `SignalEngine` needs to go on exactly where it was: every symbol's open bar,
/// indicators, recent highs and lows and previous bar and features, the aggregator's episodes and
/// cool-downs, the risk guard's windows, holds and active alerts, the seq and the market time.
/// Taken between two batches (`SignalEngine.checkpoint()`, detached copies, so it can be encoded
/// on another thread while the worker goes on); restored before the worker starts.
public struct EngineCheckpoint: @unchecked Sendable {
    public static let version: UInt64 = 5
    public let interval: String
    public let seq: UInt64
    public let marketTime: Int64
    let counters: EngineCounters
    let symbols: [(name: String, state: SignalEngine.SymbolPipeline)]
    let aggregator: OpportunityAggregator
    let risk: RiskGuard
    let scorer: LiveScorer
    /// The strategies in force, in the strategies file's form.
    let strategies: [UInt8]
    /// The last engine input (the input journal's seq) this state includes; 0 = none.
    public var inputSeq: UInt64 = 0

    /// The symbols it knows, sorted.
    public var symbolNames: [String] { symbols.map(\.name) }
    /// Each symbol's last traded price (the open bar's close, else the last closed bar's).
    public var lastPrices: [String: Double] {
        var out: [String: Double] = [:]
        for (name, state) in symbols { out[name] = state.builder.current?.close ?? state.previousBar?.close }
        return out
    }
    /// The start of each symbol's last closed bar (what the query store may hold up to).
    public var lastClosedBar: [String: Int64] {
        var out: [String: Int64] = [:]
        for (name, state) in symbols { if let bar = state.previousBar { out[name] = bar.start } }
        return out
    }
    /// Symbols the risk guard holds blocked at the checkpoint's market time.
    public var blockedSymbols: [String] {
        risk.symbols.keys.sorted().filter { risk.status($0, at: marketTime).status == .blocked }
    }
    public var openOpportunities: [Opportunity] { aggregator.openOpportunities }

    public func write(_ w: inout BinaryWriter) {
        w.u64(Self.version)
        w.string(interval)
        w.u64(seq)
        w.i64(marketTime)
        w.u64(inputSeq)
        for c in [counters.ticks, counters.outOfOrder, counters.bars, counters.signals, counters.opportunities, counters.alerts] {
            w.int(c)
        }
        w.int(symbols.count)
        for (name, state) in symbols {
            w.string(name)
            state.builder.write(&w)
            state.calculator.write(&w)
            state.recent.write(&w)
            w.bool(state.previousFeatures != nil)
            state.previousFeatures?.write(&w)
            w.bool(state.previousBar != nil)
            state.previousBar?.write(&w)
            w.i64(state.lastTs)
            w.i64(state.lastWallMs)
            state.bank.write(&w)
            w.i64(state.limitDay)
            w.f64(state.dayClose)
            w.f64(state.previousClose)
        }
        aggregator.write(&w)
        risk.write(&w)
        w.u64(UInt64(strategies.count))
        w.bytes.append(contentsOf: strategies)
        scorer.write(&w)
    }

    /// Reads a checkpoint for an engine running `interval` bars with these aggregator and risk
    /// settings (settings come from the configuration, never from the file).
    public init(reading r: inout BinaryReader, settings: EngineSettings) throws(CheckpointError) {
        let version = try r.u64()
        // Version 2 is version 3 without live scoring (which then starts empty); version 3 is
        // version 4 with standard deviations kept as windows only (their sums are made again);
        // version 4 is version 5 without daily price-limit state and untradable opportunities.
        guard (2...Self.version).contains(version) else {
            throw CheckpointError("engine state version \(version), this server reads \(Self.version)")
        }
        r.formatVersion = version
        interval = try r.string()
        guard interval == settings.interval.description else {
            throw CheckpointError("it holds \(interval) bars, the pipeline runs \(settings.interval) bars")
        }
        seq = try r.u64()
        marketTime = try r.i64()
        inputSeq = try r.u64()
        var c = EngineCounters()
        c.ticks = try r.int()
        c.outOfOrder = try r.int()
        c.bars = try r.int()
        c.signals = try r.int()
        c.opportunities = try r.int()
        c.alerts = try r.int()
        counters = c
        var symbols: [(name: String, state: SignalEngine.SymbolPipeline)] = []
        for _ in 0..<(try r.count()) {
            let name = try r.string()
            let state = SignalEngine.SymbolPipeline(symbol: name, interval: settings.interval, profile: settings.markets.profile(for: name))
            try state.builder.read(&r)
            state.calculator = try FeatureCalculator(reading: &r)
            state.recent = try RecentBars(reading: &r)
            state.previousFeatures = try r.bool() ? try Features(reading: &r) : nil
            state.previousBar = try r.bool() ? try Bar(reading: &r) : nil
            state.lastTs = try r.i64()
            state.lastWallMs = try r.i64()
            state.bank = try IndicatorBank(reading: &r)
            if r.formatVersion >= 5 {
                state.limitDay = try r.i64()
                state.dayClose = try r.optionalF64()
                state.previousClose = try r.optionalF64()
            }
            symbols.append((name, state))
        }
        self.symbols = symbols
        var aggregator = OpportunityAggregator(settings: settings.aggregator)
        try aggregator.read(&r)
        self.aggregator = aggregator
        var risk = RiskGuard(settings: settings.risk)
        try risk.read(&r)
        self.risk = risk
        strategies = try r.byteArray()
        scorer = version >= 3 ? try LiveScorer(reading: &r, settings: settings.scoring) : LiveScorer(settings: settings.scoring)
    }

    init(interval: String, seq: UInt64, marketTime: Int64, counters: EngineCounters,
         symbols: [(name: String, state: SignalEngine.SymbolPipeline)], aggregator: OpportunityAggregator, risk: RiskGuard,
         scorer: LiveScorer, strategies: [UInt8]) {
        self.scorer = scorer
        self.strategies = strategies
        self.interval = interval
        self.seq = seq
        self.marketTime = marketTime
        self.counters = counters
        self.symbols = symbols
        self.aggregator = aggregator
        self.risk = risk
    }
}

extension SignalEngine.SymbolPipeline {
    func copy() -> SignalEngine.SymbolPipeline {
        let c = SignalEngine.SymbolPipeline(symbol: builder.symbol, interval: builder.interval, profile: builder.clock.profile)
        c.builder = builder
        c.calculator = calculator
        c.recent = recent
        c.previousFeatures = previousFeatures
        c.previousBar = previousBar
        c.lastTs = lastTs
        c.lastWallMs = lastWallMs
        c.bank = bank.detached()
        c.limitDay = limitDay
        c.dayClose = dayClose
        c.previousClose = previousClose
        return c
    }
}

extension SignalEngine {
    /// The engine's whole state, detached from it (call between batches, on the engine's thread).
    /// Costs one copy of each symbol's small structs; their windows are shared until the engine
    /// next writes them.
    public func checkpoint() -> EngineCheckpoint {
        EngineCheckpoint(interval: settings.interval.description, seq: seq, marketTime: marketTime, counters: counters,
                         symbols: symbols.keys.sorted().map { ($0, symbols[$0]!.copy()) },
                         aggregator: aggregator, risk: risk.detached(), scorer: scorer, strategies: strategies.fileJSON)
    }

    /// Puts the engine back where a checkpoint left it (before any input; replaces all state).
    public func restore(_ c: EngineCheckpoint) {
        seq = c.seq
        marketTime = c.marketTime
        counters = c.counters
        symbols = [:]
        lastState = nil
        slots = SymbolSlots()
        for (name, state) in c.symbols { symbols[name] = state.copy() }
        aggregator = c.aggregator
        risk = c.risk.detached()
        scorer = c.scorer
        // The strategies that were running: the inputs after the checkpoint ran under them.
        if let registry = try? StrategyRegistry.parse(Data(c.strategies)) { strategies = registry }
    }

    /// After a restart, wall-clock bookkeeping starts again from `wallMs`: each symbol's feed gets
    /// `holdMs` to come back before the clock closes its open bar or flags it stale (the process
    /// was down, not the feeds). Market-time state is untouched.
    public func resume(wallMs: Int64, holdMs: Int64) {
        for state in symbols.values where state.lastWallMs != .min { state.lastWallMs = wallMs + holdMs }
        risk.resume(wallMs: wallMs + holdMs - risk.settings.staleFeedMs)
    }

    /// Continues the seq after `lastSeq` when the journal is ahead of the engine (a seq is never reused).
    public func advanceSeq(to lastSeq: UInt64) { seq = max(seq, lastSeq) }
}

extension RiskGuard {
    /// Stale-feed clocks restart at `wallMs` for every symbol that had a live tick.
    mutating func resume(wallMs: Int64) {
        for state in symbols.values where state.lastTickWallMs != nil { state.lastTickWallMs = wallMs }
    }
}
