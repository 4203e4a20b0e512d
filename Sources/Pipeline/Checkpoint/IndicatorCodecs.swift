import Contracts

// The parameterised indicators' state in the checkpoint format: every symbol's `IndicatorBank`
// with its plan (calls by canonical text), slot values and each instance's rings and sums, so a
// restart goes on exactly (doubles as bit patterns).

extension IndicatorCall {
    /// A call from its canonical text (`sma(close,10)`), as `description` writes it.
    public init(text: String) throws(IndicatorCallError) {
        guard let open = text.firstIndex(of: "("), text.last == ")" else {
            throw IndicatorCallError(argument: nil, message: "\(text) is not a call")
        }
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
        let arguments: [IndicatorArgument] = inside.split(separator: ",").map { part in
            Double(part).map(IndicatorArgument.number) ?? .field(String(part))
        }
        try self.init(String(text[..<open]), arguments)
    }
}

extension IndicatorBank {
    func write(_ w: inout BinaryWriter) {
        w.strings(plan.slots.map(\.description))
        w.int(runners.count)
        for (runner, n) in zip(runners, seen) {
            w.int(n)
            runner.state().write(&w)
        }
        for v in values { w.f64(v) }
        for v in previous { w.f64(v) }
    }

    convenience init(reading r: inout BinaryReader) throws(CheckpointError) {
        var plan = IndicatorPlan()
        for text in try r.strings() {
            do {
                _ = plan.slot(for: try IndicatorCall(text: text))
            } catch {
                throw CheckpointError("indicator \(text): \(error.message)")
            }
        }
        self.init(plan: plan)
        guard try r.count() == runners.count else { throw CheckpointError("indicator bank does not match its plan") }
        for (i, call) in plan.instances.enumerated() {
            seen[i] = try r.int()
            var state = IndicatorState(call)
            try state.read(&r)
            runners[i] = IndicatorRunner(state)
        }
        for i in values.indices { values[i] = try r.optionalF64() }
        for i in previous.indices { previous[i] = try r.optionalF64() }
    }
}

extension IndicatorState {
    func write(_ w: inout BinaryWriter) {
        switch self {
        case .sma(let s, _): s.write(&w)
        case .ema(let s, _): s.write(&w)
        case .wma(let s, _): s.write(&w)
        case .rsi(let s, _): s.write(&w)
        case .macd(let s, _): s.write(&w)
        case .bands(let s, _): s.write(&w)
        case .stddev(let s, _): s.write(&w)
        case .atr(let s): s.write(&w)
        case .willr(let s):
            s.highs.write(&w)
            s.lows.write(&w)
        case .obv(let s):
            w.f64(s.previousClose)
            w.f64(s.total)
        case .roc(let s, _): s.lag.window.write(&w)
        case .mom(let s, _): s.lag.window.write(&w)
        case .extreme(let s, _): s.write(&w)
        case .vwap(let s):
            s.flow.write(&w)
            s.volumes.write(&w)
            w.f64(s.flowTotal)
            w.f64(s.volumeTotal)
        case .zscore(let s, _):
            s.mean.write(&w)
            s.deviation.write(&w)
        case .lag(let s, _): s.window.write(&w)
        case .stoch(let s):
            s.highs.write(&w)
            s.lows.write(&w)
            s.slowK.write(&w)
            s.slowD.write(&w)
        case .adx(let s):
            for v in [s.previousHigh, s.previousLow, s.previousClose, s.plusDM, s.minusDM, s.trueRange, s.sumDX] { w.f64(v) }
            w.int(s.bars)
            w.f64(s.adx)
        case .mfi(let s):
            s.positive.write(&w)
            s.negative.write(&w)
            w.f64(s.previousTypical)
            w.f64(s.positiveSum)
            w.f64(s.negativeSum)
            w.int(s.positiveCount)
            w.int(s.negativeCount)
        case .cci(let s):
            // The values oldest first, then (version 5) the arrival count and the pivot: the
            // ordered window is rebuilt exactly from them.
            var ring = MovingWindow(size: s.period)
            for v in s.window.values { _ = ring.push(v) }
            ring.write(&w)
            w.int(s.window.seen)
            w.f64(s.window.pivot)
        }
    }

    /// Reads the state of an instance made for the same call (`IndicatorState(call)`).
    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        switch self {
        case .sma(var s, let x): try s.read(&r); self = .sma(s, x)
        case .ema(var s, let x): try s.read(&r); self = .ema(s, x)
        case .wma(var s, let x): try s.read(&r); self = .wma(s, x)
        case .rsi(var s, let x): try s.read(&r); self = .rsi(s, x)
        case .macd(var s, let x): try s.read(&r); self = .macd(s, x)
        case .bands(var s, let x): try s.read(&r); self = .bands(s, x)
        case .stddev(var s, let x): try s.read(&r); self = .stddev(s, x)
        case .atr(var s): try s.read(&r); self = .atr(s)
        case .willr(var s):
            try s.highs.read(&r)
            try s.lows.read(&r)
            self = .willr(s)
        case .obv(var s):
            s.previousClose = try r.optionalF64()
            s.total = try r.f64()
            self = .obv(s)
        case .roc(var s, let x): s.lag.window = try MovingWindow(reading: &r, size: s.period + 1); self = .roc(s, x)
        case .mom(var s, let x): s.lag.window = try MovingWindow(reading: &r, size: s.period + 1); self = .mom(s, x)
        case .extreme(var s, let x): try s.read(&r); self = .extreme(s, x)
        case .vwap(var s):
            s.flow = try MovingWindow(reading: &r, size: s.period)
            s.volumes = try MovingWindow(reading: &r, size: s.period)
            s.flowTotal = try r.f64()
            s.volumeTotal = try r.f64()
            self = .vwap(s)
        case .zscore(var s, let x):
            try s.mean.read(&r)
            try s.deviation.read(&r)
            self = .zscore(s, x)
        case .lag(var s, let x): s.window = try MovingWindow(reading: &r, size: s.k + 1); self = .lag(s, x)
        case .stoch(var s):
            try s.highs.read(&r)
            try s.lows.read(&r)
            try s.slowK.read(&r)
            try s.slowD.read(&r)
            self = .stoch(s)
        case .adx(var s):
            s.previousHigh = try r.f64()
            s.previousLow = try r.f64()
            s.previousClose = try r.f64()
            s.plusDM = try r.f64()
            s.minusDM = try r.f64()
            s.trueRange = try r.f64()
            s.sumDX = try r.f64()
            s.bars = try r.int()
            s.adx = try r.optionalF64()
            self = .adx(s)
        case .mfi(var s):
            s.positive = try MovingWindow(reading: &r, size: s.period)
            s.negative = try MovingWindow(reading: &r, size: s.period)
            s.previousTypical = try r.optionalF64()
            s.positiveSum = try r.f64()
            s.negativeSum = try r.f64()
            s.positiveCount = try r.int()
            s.negativeCount = try r.int()
            self = .mfi(s)
        case .cci(var s):
            let ring = try MovingWindow(reading: &r, size: s.period)
            let values = (0..<ring.count).map { ring[oldest: $0] }
            // Versions before 5 kept the ring only (the sums were made from it on every bar).
            // (A full ring's oldest value sat at `next`: the arrival numbers put it there again.)
            let seen = r.formatVersion >= 5 ? try r.int() : ring.count == s.period ? s.period + ring.next : ring.count
            let pivot = r.formatVersion >= 5 ? try r.f64() : values.first ?? 0
            guard seen >= values.count, values.count == min(seen, s.period) else { throw CheckpointError("cci window does not match its count") }
            s.window = OrderedWindow(size: s.period, values: values, seen: seen, pivot: pivot)
            self = .cci(s)
        }
    }
}

extension WMA {
    func write(_ w: inout BinaryWriter) {
        window.write(&w)
        w.int(seen)
        w.f64(periodSum)
        w.f64(periodSub)
        w.f64(trailing)
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        window = try MovingWindow(reading: &r, size: period)
        seen = try r.int()
        periodSum = try r.f64()
        periodSub = try r.f64()
        trailing = try r.f64()
    }
}

extension RollingExtreme {
    func write(_ w: inout BinaryWriter) {
        w.int(seen)
        w.int(values.count - head)
        for i in head..<values.count {
            w.int(numbers[i])
            w.f64(values[i])
        }
    }

    mutating func read(_ r: inout BinaryReader) throws(CheckpointError) {
        seen = try r.int()
        let n = try r.count()
        guard n <= period + 1 else { throw CheckpointError("rolling extreme holds \(n) candidates for a window of \(period)") }
        numbers.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        head = 0
        for _ in 0..<n {
            numbers.append(try r.int())
            values.append(try r.f64())
        }
    }
}
