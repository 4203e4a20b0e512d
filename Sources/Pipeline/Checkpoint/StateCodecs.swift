import Contracts

// The indicators', the aggregator's and the risk guard's state in the checkpoint format
// (`BinaryWriter` / `BinaryReader`): every stored property, doubles as bit patterns.

// MARK: - Indicators

extension MovingWindow {
    func write(_ w: inout BinaryWriter) {
        w.int(size)
        w.int(next)
        w.int(count)
        for v in values { w.f64(v) }
    }

    init(reading r: inout BinaryReader, size expected: Int? = nil) throws(CheckpointError) {
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
    func write(_ w: inout BinaryWriter) {
        window.write(&w)
        w.f64(total)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        window = try MovingWindow(reading: &r, size: period)
        total = try r.f64()
    }
}

extension EMA {
    func write(_ w: inout BinaryWriter) {
        w.int(seen)
        w.f64(seedTotal)
        w.f64(value)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        seen = try r.int()
        seedTotal = try r.f64()
        value = try r.optionalF64()
    }
}

extension RSI {
    func write(_ w: inout BinaryWriter) {
        w.f64(previous)
        w.int(changes)
        w.f64(gain)
        w.f64(loss)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        previous = try r.optionalF64()
        changes = try r.int()
        gain = try r.f64()
        loss = try r.f64()
    }
}

extension MACD {
    func write(_ w: inout BinaryWriter) {
        recent.write(&w)
        slowEMA.write(&w)
        w.bool(fastEMA != nil)
        fastEMA?.write(&w)
        signalEMA.write(&w)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
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
    func write(_ w: inout BinaryWriter) {
        window.write(&w)
        w.f64(pivot)
        w.f64(sum)
        w.f64(squares)
        w.int(sinceExact)
        w.int(run)
        w.f64(last)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        window = try MovingWindow(reading: &r, size: period)
        guard r.formatVersion >= 4 else {
            // Engine state version 2 and 3 kept the window only: the sums are made from it.
            if window.isFull { _ = exact() } else {
                pivot = 0
                sum = 0
                squares = 0
                for i in 0..<window.count { sum += window[oldest: i]; squares += window[oldest: i] * window[oldest: i] }
            }
            run = 0
            last = .nan
            for i in stride(from: window.count - 1, through: 0, by: -1) {
                if run == 0 { last = window[oldest: i] }
                guard window[oldest: i] == last else { break }
                run += 1
            }
            return
        }
        pivot = try r.f64()
        sum = try r.f64()
        squares = try r.f64()
        sinceExact = try r.int()
        run = try r.int()
        last = try r.f64()
    }
}

extension BollingerBands {
    func write(_ w: inout BinaryWriter) {
        sma.write(&w)
        deviation.write(&w)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        try sma.read(&r)
        try deviation.read(&r)
    }
}

extension ATR {
    func write(_ w: inout BinaryWriter) {
        w.f64(previousClose)
        w.int(ranges)
        w.f64(total)
        w.f64(value)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        previousClose = try r.optionalF64()
        ranges = try r.int()
        total = try r.f64()
        value = try r.optionalF64()
    }
}

extension FeatureCalculator {
    func write(_ w: inout BinaryWriter) {
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

    init(reading r: inout BinaryReader) throws(CheckpointError) {
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
    func write(_ w: inout BinaryWriter) {
        highs.write(&w)
        lows.write(&w)
    }

    init(reading r: inout BinaryReader) throws(CheckpointError) {
        self.init()
        highs = try MovingWindow(reading: &r, size: Self.size)
        lows = try MovingWindow(reading: &r, size: Self.size)
    }
}

extension BarBuilder {
    func write(_ w: inout BinaryWriter) {
        w.bool(open != nil)
        open?.write(&w)
        w.f64(flow)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        open = try r.bool() ? try Bar(reading: &r) : nil
        flow = try r.f64()
        restoreOpenEnd()
    }
}

// MARK: - Aggregator and risk guard

extension OpportunityAggregator {
    func write(_ w: inout BinaryWriter) {
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

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
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
        expiryFloor = Int64.min
    }
}

extension ReturnStats {
    func write(_ w: inout BinaryWriter) {
        window.write(&w)
        w.f64(total)
        w.f64(squares)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        window = try MovingWindow(reading: &r, size: window.size)
        total = try r.f64()
        squares = try r.f64()
    }
}

extension RiskGuard.SymbolState {
    func write(_ w: inout BinaryWriter) {
        w.f64(lastPrice)
        returns.write(&w)
        barReturns.write(&w)
        w.f64(lastBarClose)
        signalTimes.window.write(&w)
        w.counts(lastAlert)
        w.i64(warnUntil)
        w.i64(blockUntil)
        w.counts(activeKinds)
        w.i64(lastTickWallMs)
    }

    func read(_ r: inout BinaryReader) throws(CheckpointError) {
        lastPrice = try r.optionalF64()
        try returns.read(&r)
        barReturns = try MovingWindow(reading: &r, size: barReturns.size)
        lastBarClose = try r.optionalF64()
        signalTimes = SignalTimes(try MovingWindow(reading: &r, size: signalTimes.size))
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
    func write(_ w: inout BinaryWriter) {
        w.int(symbols.count)
        for symbol in symbols.keys.sorted() {
            w.string(symbol)
            symbols[symbol]!.write(&w)
        }
        globalSignals.window.write(&w)
        w.i64(globalLastAlert)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        symbols = [:]
        for _ in 0..<(try r.count()) {
            let symbol = try r.string()
            let state = SymbolState()
            try state.read(&r)
            symbols[symbol] = state
        }
        globalSignals = SignalTimes(try MovingWindow(reading: &r, size: globalSignals.size))
        globalLastAlert = try r.i64()
    }

    /// A copy that shares no per-symbol state with this one.
    func detached() -> RiskGuard {
        var c = self
        c.symbols = symbols.mapValues { $0.copy() }
        return c
    }
}
