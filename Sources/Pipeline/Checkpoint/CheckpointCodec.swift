import Contracts
import Foundation

/// Why a checkpoint could not be read: it is then ignored and the server says why.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Little-endian binary writer for the engine checkpoint and the input journal: doubles as their
/// bit patterns (a restored indicator is bit for bit the one that was saved), strings as a
/// length and UTF-8. A pure codec, no I/O.
public struct CheckpointWriter: Sendable {
    /// What was written (callers read it; writing goes through the methods).
    public var bytes: [UInt8] = []

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    @inlinable public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    // Inlinable: the input journal encodes a tick per call on the pipeline worker.
    @inlinable public mutating func u8(_ v: UInt8) { bytes.append(v) }
    @inlinable public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    @inlinable public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    @inlinable public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    @inlinable public mutating func int(_ v: Int) { i64(Int64(v)) }
    @inlinable public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    @inlinable public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u64(UInt64(utf8.count))
            bytes.append(contentsOf: UnsafeRawBufferPointer(utf8))
        }
    }
    @inlinable public mutating func f64(_ v: Double?) {
        bool(v != nil)
        if let v { f64(v) }
    }
    public mutating func i64(_ v: Int64?) {
        bool(v != nil)
        if let v { i64(v) }
    }
    public mutating func strings(_ list: [String]) {
        int(list.count)
        for s in list { string(s) }
    }
    /// A dictionary, keys sorted (the same state always gives the same bytes).
    public mutating func counts(_ map: [String: Int64]) {
        int(map.count)
        for key in map.keys.sorted() {
            string(key)
            i64(map[key]!)
        }
    }
}

/// Reads what `CheckpointWriter` wrote; any overrun or impossible value throws.
public struct CheckpointReader {
    let bytes: [UInt8]
    public private(set) var offset: Int
    /// An upper bound for counts read back (a damaged length must not allocate gigabytes).
    static let maxCount = 1 << 26

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var atEnd: Bool { offset == bytes.count }

    public mutating func u8() throws(CheckpointError) -> UInt8 {
        guard offset < bytes.count else { throw CheckpointError("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }
    public mutating func bool() throws(CheckpointError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        default: throw CheckpointError("invalid flag at byte \(offset - 1)")
        }
    }
    public mutating func u64() throws(CheckpointError) -> UInt64 {
        guard offset + 8 <= bytes.count else { throw CheckpointError("truncated at byte \(offset)") }
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }
    public mutating func i64() throws(CheckpointError) -> Int64 { Int64(bitPattern: try u64()) }
    public mutating func f64() throws(CheckpointError) -> Double { Double(bitPattern: try u64()) }
    public mutating func count() throws(CheckpointError) -> Int {
        let n = try i64()
        guard n >= 0, n <= Self.maxCount else { throw CheckpointError("impossible count \(n) at byte \(offset - 8)") }
        return Int(n)
    }
    public mutating func int() throws(CheckpointError) -> Int { Int(try i64()) }
    public mutating func string() throws(CheckpointError) -> String {
        let n = try count()
        guard offset + n <= bytes.count else { throw CheckpointError("truncated string at byte \(offset)") }
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }
    public mutating func byteArray() throws(CheckpointError) -> [UInt8] {
        let n = try count()
        guard offset + n <= bytes.count else { throw CheckpointError("truncated bytes at byte \(offset)") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }
    public mutating func optionalF64() throws(CheckpointError) -> Double? { try bool() ? try f64() : nil }
    public mutating func optionalI64() throws(CheckpointError) -> Int64? { try bool() ? try i64() : nil }
    public mutating func strings() throws(CheckpointError) -> [String] {
        var out: [String] = []
        for _ in 0..<(try count()) { out.append(try string()) }
        return out
    }
    public mutating func counts() throws(CheckpointError) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for _ in 0..<(try count()) {
            let key = try string()
            out[key] = try i64()
        }
        return out
    }
    public mutating func raw<T: RawRepresentable>(_ type: T.Type) throws(CheckpointError) -> T where T.RawValue == String {
        let s = try string()
        guard let v = T(rawValue: s) else { throw CheckpointError("unknown \(T.self) \(s)") }
        return v
    }
}

// MARK: - Contracts

extension Bar {
    public func write(_ w: inout CheckpointWriter) {
        w.string(symbol)
        w.string(interval)
        w.i64(start)
        for v in [open, high, low, close, volume, vwap] { w.f64(v) }
        w.int(trades)
    }

    public init(reading r: inout CheckpointReader) throws(CheckpointError) {
        self.init(symbol: try r.string(), interval: try r.string(), start: try r.i64(), open: try r.f64(), high: try r.f64(),
                  low: try r.f64(), close: try r.f64(), volume: try r.f64(), vwap: try r.f64(), trades: try r.int())
    }
}

extension Features {
    public func write(_ w: inout CheckpointWriter) {
        w.string(symbol)
        w.string(interval)
        w.i64(ts)
        w.f64(close)
        for field in fields { w.f64(field.value) }
        w.int(movedBars14)
    }

    public init(reading r: inout CheckpointReader) throws(CheckpointError) {
        self.init(symbol: try r.string(), interval: try r.string(), ts: try r.i64(), close: try r.f64())
        sma20 = try r.optionalF64()
        ema12 = try r.optionalF64()
        ema26 = try r.optionalF64()
        ema50 = try r.optionalF64()
        rsi14 = try r.optionalF64()
        macd = try r.optionalF64()
        macdSignal = try r.optionalF64()
        macdHist = try r.optionalF64()
        bbUpper = try r.optionalF64()
        bbMiddle = try r.optionalF64()
        bbLower = try r.optionalF64()
        atr14 = try r.optionalF64()
        stddev20 = try r.optionalF64()
        ret1 = try r.optionalF64()
        vwap20 = try r.optionalF64()
        volumeZ20 = try r.optionalF64()
        movedBars14 = try r.int()
    }
}

extension Opportunity {
    func write(_ w: inout CheckpointWriter) {
        w.u64(seq)
        w.string(id)
        w.string(symbol)
        w.string(direction.rawValue)
        w.string(status.rawValue)
        w.f64(confidence)
        w.f64(price)
        w.strings(strategies)
        w.int(signalCount)
        w.i64(createdTs)
        w.i64(updatedTs)
        w.i64(expiresTs)
        w.string(riskStatus.rawValue)
        w.strings(riskAlerts)
    }

    init(reading r: inout CheckpointReader) throws(CheckpointError) {
        self.init(seq: try r.u64(), id: try r.string(), symbol: try r.string(), direction: try r.raw(Direction.self),
                  status: try r.raw(OpportunityStatus.self), confidence: try r.f64(), price: try r.f64(),
                  strategies: try r.strings(), signalCount: try r.int(), createdTs: try r.i64(), updatedTs: try r.i64(),
                  expiresTs: try r.i64(), riskStatus: try r.raw(RiskStatus.self), riskAlerts: try r.strings())
    }
}

// MARK: - Indicators

extension MovingWindow {
    func write(_ w: inout CheckpointWriter) {
        w.int(size)
        w.int(next)
        w.int(count)
        for v in values { w.f64(v) }
    }

    init(reading r: inout CheckpointReader, size expected: Int? = nil) throws(CheckpointError) {
        let size = try r.count()
        guard size >= 1, expected == nil || expected == size else { throw CheckpointError("window of \(size), expected \(expected ?? 0)") }
        self.init(size: size)
        next = try r.int()
        count = try r.int()
        guard next >= 0, next < size, count >= 0, count <= size else { throw CheckpointError("window position out of range") }
        for i in 0..<size { values[i] = try r.f64() }
    }
}

extension SMA {
    func write(_ w: inout CheckpointWriter) {
        window.write(&w)
        w.f64(total)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        window = try MovingWindow(reading: &r, size: period)
        total = try r.f64()
    }
}

extension EMA {
    func write(_ w: inout CheckpointWriter) {
        w.int(seen)
        w.f64(seedTotal)
        w.f64(value)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        seen = try r.int()
        seedTotal = try r.f64()
        value = try r.optionalF64()
    }
}

extension RSI {
    func write(_ w: inout CheckpointWriter) {
        w.f64(previous)
        w.int(changes)
        w.f64(gain)
        w.f64(loss)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        previous = try r.optionalF64()
        changes = try r.int()
        gain = try r.f64()
        loss = try r.f64()
    }
}

extension MACD {
    func write(_ w: inout CheckpointWriter) {
        recent.write(&w)
        slowEMA.write(&w)
        w.bool(fastEMA != nil)
        fastEMA?.write(&w)
        signalEMA.write(&w)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        recent = try MovingWindow(reading: &r, size: fast)
        try slowEMA.read(&r)
        if try r.bool() {
            var ema = EMA(period: fast, seed: 0)
            try ema.read(&r)
            fastEMA = ema
        } else {
            fastEMA = nil
        }
        try signalEMA.read(&r)
    }
}

extension StdDev {
    func write(_ w: inout CheckpointWriter) { window.write(&w) }
    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) { window = try MovingWindow(reading: &r, size: period) }
}

extension BollingerBands {
    func write(_ w: inout CheckpointWriter) {
        sma.write(&w)
        deviation.write(&w)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        try sma.read(&r)
        try deviation.read(&r)
    }
}

extension ATR {
    func write(_ w: inout CheckpointWriter) {
        w.f64(previousClose)
        w.int(ranges)
        w.f64(total)
        w.f64(value)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        previousClose = try r.optionalF64()
        ranges = try r.int()
        total = try r.f64()
        value = try r.optionalF64()
    }
}

extension FeatureCalculator {
    func write(_ w: inout CheckpointWriter) {
        sma20.write(&w)
        ema12.write(&w)
        ema26.write(&w)
        ema50.write(&w)
        rsi14.write(&w)
        macd.write(&w)
        bands.write(&w)
        atr14.write(&w)
        stddev20.write(&w)
        volumeSMA.write(&w)
        volumeStdDev.write(&w)
        flow.write(&w)
        volumes.write(&w)
        w.f64(flowTotal)
        w.f64(volumeTotal)
        w.f64(previousClose)
        moves.write(&w)
        w.f64(moveCount)
    }

    init(reading r: inout CheckpointReader) throws(CheckpointError) {
        self.init()
        try sma20.read(&r)
        try ema12.read(&r)
        try ema26.read(&r)
        try ema50.read(&r)
        try rsi14.read(&r)
        try macd.read(&r)
        try bands.read(&r)
        try atr14.read(&r)
        try stddev20.read(&r)
        try volumeSMA.read(&r)
        try volumeStdDev.read(&r)
        flow = try MovingWindow(reading: &r, size: flow.size)
        volumes = try MovingWindow(reading: &r, size: volumes.size)
        flowTotal = try r.f64()
        volumeTotal = try r.f64()
        previousClose = try r.optionalF64()
        moves = try MovingWindow(reading: &r, size: moves.size)
        moveCount = try r.f64()
    }
}

extension RecentBars {
    func write(_ w: inout CheckpointWriter) {
        highs.write(&w)
        lows.write(&w)
    }

    init(reading r: inout CheckpointReader) throws(CheckpointError) {
        self.init()
        highs = try MovingWindow(reading: &r, size: Self.size)
        lows = try MovingWindow(reading: &r, size: Self.size)
    }
}

extension BarBuilder {
    func write(_ w: inout CheckpointWriter) {
        w.bool(open != nil)
        open?.write(&w)
        w.f64(flow)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        open = try r.bool() ? try Bar(reading: &r) : nil
        flow = try r.f64()
    }
}

// MARK: - Aggregator and risk guard

extension OpportunityAggregator {
    func write(_ w: inout CheckpointWriter) {
        w.int(open.count)
        for key in open.keys.sorted() {
            let episode = open[key]!
            w.string(key)
            episode.opportunity.write(&w)
            w.int(episode.strengths.count)
            for name in episode.strengths.keys.sorted() {
                w.string(name)
                w.f64(episode.strengths[name]!)
            }
        }
        w.counts(cooldownUntil)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        open = [:]
        for _ in 0..<(try r.count()) {
            let key = try r.string()
            let opportunity = try Opportunity(reading: &r)
            var strengths: [String: Double] = [:]
            for _ in 0..<(try r.count()) {
                let name = try r.string()
                strengths[name] = try r.f64()
            }
            open[key] = Episode(opportunity: opportunity, strengths: strengths)
        }
        cooldownUntil = try r.counts()
    }
}

extension ReturnStats {
    func write(_ w: inout CheckpointWriter) {
        window.write(&w)
        w.f64(total)
        w.f64(squares)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        window = try MovingWindow(reading: &r, size: window.size)
        total = try r.f64()
        squares = try r.f64()
    }
}

extension RiskGuard.SymbolState {
    func write(_ w: inout CheckpointWriter) {
        w.f64(lastPrice)
        returns.write(&w)
        barReturns.write(&w)
        w.f64(lastBarClose)
        signalTimes.write(&w)
        w.counts(lastAlert)
        w.i64(warnUntil)
        w.i64(blockUntil)
        w.counts(activeKinds)
        w.i64(lastTickWallMs)
    }

    func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        lastPrice = try r.optionalF64()
        try returns.read(&r)
        barReturns = try MovingWindow(reading: &r, size: barReturns.size)
        lastBarClose = try r.optionalF64()
        signalTimes = try MovingWindow(reading: &r, size: signalTimes.size)
        lastAlert = try r.counts()
        warnUntil = try r.i64()
        blockUntil = try r.i64()
        activeKinds = try r.counts()
        lastTickWallMs = try r.optionalI64()
    }

    /// An independent copy (its windows are copied on write), for a checkpoint taken while the
    /// worker goes on.
    func copy() -> RiskGuard.SymbolState {
        let c = RiskGuard.SymbolState()
        c.lastPrice = lastPrice
        c.returns = returns
        c.barReturns = barReturns
        c.lastBarClose = lastBarClose
        c.signalTimes = signalTimes
        c.lastAlert = lastAlert
        c.warnUntil = warnUntil
        c.blockUntil = blockUntil
        c.activeKinds = activeKinds
        c.lastTickWallMs = lastTickWallMs
        return c
    }
}

extension RiskGuard {
    func write(_ w: inout CheckpointWriter) {
        w.int(symbols.count)
        for symbol in symbols.keys.sorted() {
            w.string(symbol)
            symbols[symbol]!.write(&w)
        }
        globalSignals.write(&w)
        w.i64(globalLastAlert)
    }

    mutating func read(_ r: inout CheckpointReader) throws(CheckpointError) {
        symbols = [:]
        for _ in 0..<(try r.count()) {
            let symbol = try r.string()
            let state = SymbolState()
            try state.read(&r)
            symbols[symbol] = state
        }
        globalSignals = try MovingWindow(reading: &r, size: globalSignals.size)
        globalLastAlert = try r.i64()
    }

    /// A copy that shares no per-symbol state with this one.
    func detached() -> RiskGuard {
        var c = self
        c.symbols = symbols.mapValues { $0.copy() }
        return c
    }
}

// MARK: - The engine

/// Everything `SignalEngine` needs to go on exactly where it was: every symbol's open bar,
/// indicators, recent highs and lows and previous bar and features, the aggregator's episodes and
/// cool-downs, the risk guard's windows, holds and active alerts, the seq and the market time.
/// Taken between two batches (`SignalEngine.checkpoint()`, detached copies, so it can be encoded
/// on another thread while the worker goes on); restored before the worker starts.
public struct EngineCheckpoint: @unchecked Sendable {
    public static let version: UInt64 = 1
    public let interval: String
    public let seq: UInt64
    public let marketTime: Int64
    let counters: EngineCounters
    let symbols: [(name: String, state: SignalEngine.SymbolPipeline)]
    let aggregator: OpportunityAggregator
    let risk: RiskGuard
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

    public func write(_ w: inout CheckpointWriter) {
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
        }
        aggregator.write(&w)
        risk.write(&w)
        w.u64(UInt64(strategies.count))
        w.bytes.append(contentsOf: strategies)
    }

    /// Reads a checkpoint for an engine running `interval` bars with these aggregator and risk
    /// settings (settings come from the configuration, never from the file).
    public init(reading r: inout CheckpointReader, settings: EngineSettings) throws(CheckpointError) {
        let version = try r.u64()
        guard version == Self.version else { throw CheckpointError("engine state version \(version), this server reads \(Self.version)") }
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
            let state = SignalEngine.SymbolPipeline(symbol: name, interval: settings.interval)
            try state.builder.read(&r)
            state.calculator = try FeatureCalculator(reading: &r)
            state.recent = try RecentBars(reading: &r)
            state.previousFeatures = try r.bool() ? try Features(reading: &r) : nil
            state.previousBar = try r.bool() ? try Bar(reading: &r) : nil
            state.lastTs = try r.i64()
            state.lastWallMs = try r.i64()
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
    }

    init(interval: String, seq: UInt64, marketTime: Int64, counters: EngineCounters,
         symbols: [(name: String, state: SignalEngine.SymbolPipeline)], aggregator: OpportunityAggregator, risk: RiskGuard,
         strategies: [UInt8]) {
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
        let c = SignalEngine.SymbolPipeline(symbol: builder.symbol, interval: builder.interval)
        c.builder = builder
        c.calculator = calculator
        c.recent = recent
        c.previousFeatures = previousFeatures
        c.previousBar = previousBar
        c.lastTs = lastTs
        c.lastWallMs = lastWallMs
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
                         aggregator: aggregator, risk: risk.detached(), strategies: strategies.fileJSON)
    }

    /// Puts the engine back where a checkpoint left it (before any input; replaces all state).
    public func restore(_ c: EngineCheckpoint) {
        seq = c.seq
        marketTime = c.marketTime
        counters = c.counters
        symbols = [:]
        for (name, state) in c.symbols { symbols[name] = state.copy() }
        aggregator = c.aggregator
        risk = c.risk.detached()
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
