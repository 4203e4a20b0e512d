/// Weighted moving average as TA-Lib's `TA_WMA`: weights 1…n (newest heaviest) over n(n+1)/2,
/// kept as two running sums in TA-Lib's order of operations (`periodSub`, `periodSum`), so each
/// value is bit for bit TA-Lib's. O(1) per input. First value at input n.
public struct WMA: Sendable {
    public let period: Int
    var window: MovingWindow
    var seen = 0
    var periodSum = 0.0
    var periodSub = 0.0
    var trailing = 0.0
    let divider: Double

    public init(period: Int) {
        self.period = period
        window = MovingWindow(size: period)
        divider = Double((period * (period + 1)) >> 1)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        _ = window.push(x)
        seen += 1
        if seen < period {
            // TA-Lib's first loop: weights 1…n−1.
            periodSub += x
            periodSum += x * Double(seen)
            return nil
        }
        // TA-Lib's main loop: the trailing value is the one that leaves on the next input.
        periodSub += x
        periodSub -= trailing
        periodSum += x * Double(period)
        trailing = window[oldest: 0]
        let value = periodSum / divider
        periodSum -= periodSub
        return value
    }
}

/// `x − x[n bars ago]`, as TA-Lib's `TA_MOM`. First value at input n+1.
public struct Momentum: Sendable {
    public let period: Int
    var lag: Lag

    public init(period: Int) {
        self.period = period
        lag = Lag(k: period)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        guard let old = lag.update(x) else { return nil }
        return x - old
    }
}

/// Rate of change in percent, as TA-Lib's `TA_ROC`: `(x / x[n ago] − 1)·100`, and 0 when the
/// old value is 0. First value at input n+1.
public struct RateOfChange: Sendable {
    public let period: Int
    var lag: Lag

    public init(period: Int) {
        self.period = period
        lag = Lag(k: period)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        guard let old = lag.update(x) else { return nil }
        return old != 0 ? ((x / old) - 1.0) * 100.0 : 0
    }
}

/// The highest (or lowest) of the last n inputs, as TA-Lib's `TA_MAX` / `TA_MIN`, with a
/// monotonic deque of candidates: O(1) amortised per input, no scan of the window. First value
/// at input n.
public struct RollingExtreme: Sendable {
    public let period: Int
    public let highest: Bool
    /// Candidates (input number, value), oldest first, values strictly ordered from the front.
    var numbers: [Int]
    var values: [Double]
    var head = 0
    var seen = 0

    public init(period: Int, highest: Bool) {
        self.period = period
        self.highest = highest
        numbers = []
        values = []
        // Room for a window and the consumed front until it is compacted: no regrowth per bar.
        numbers.reserveCapacity(2 * period + 2)
        values.reserveCapacity(2 * period + 2)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        // A newer value at least as extreme makes older ones useless (TA-Lib keeps the newest of
        // equal extremes; the value is the same either way).
        while values.count > head, highest ? values[values.count - 1] <= x : values[values.count - 1] >= x {
            values.removeLast()
            numbers.removeLast()
        }
        values.append(x)
        numbers.append(seen)
        seen += 1
        if numbers[head] <= seen - 1 - period { head += 1 }
        // Compact the consumed front now and then, so the arrays stay about n long.
        if head > period {
            values.removeFirst(head)
            numbers.removeFirst(head)
            head = 0
        }
        return seen >= period ? values[head] : nil
    }
}

/// The value `k` inputs ago (`prev(x, k)`); first value at input k+1.
public struct Lag: Sendable {
    public let k: Int
    var window: MovingWindow

    public init(k: Int) {
        self.k = k
        window = MovingWindow(size: k + 1)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        _ = window.push(x)
        return window.isFull ? window[oldest: 0] : nil
    }
}

/// On-balance volume as TA-Lib's `TA_OBV`: starts at the first bar's volume, then adds the
/// volume when the close rises and subtracts it when it falls. A value from the first bar.
public struct OnBalanceVolume: Sendable {
    var previousClose: Double?
    var total = 0.0

    public init() {}

    @inline(__always)
    public mutating func update(close: Double, volume: Double) -> Double {
        if let pc = previousClose {
            if close > pc { total += volume } else if close < pc { total -= volume }
        } else {
            total = volume
        }
        previousClose = close
        return total
    }
}

/// Williams' %R as TA-Lib's `TA_WILLR(n)`: `(highest high − close) / (highest high − lowest
/// low) · −100` over the last n bars, 0 when the range is 0. First value at bar n.
public struct WilliamsR: Sendable {
    public let period: Int
    var highs: RollingExtreme
    var lows: RollingExtreme

    public init(period: Int) {
        self.period = period
        highs = RollingExtreme(period: period, highest: true)
        lows = RollingExtreme(period: period, highest: false)
    }

    @inline(__always)
    public mutating func update(high: Double, low: Double, close: Double) -> Double? {
        let h = highs.update(high), l = lows.update(low)
        guard let h, let l else { return nil }
        let range = h - l
        return range != 0 ? (h - close) / range * -100.0 : 0
    }
}

/// Volume-weighted average price over the last n bars, `Σ(vwap·volume) / Σvolume` (the bars'
/// own VWAPs weighted by their volumes; `vwap_20` is n = 20). Running sums of non-negative terms,
/// so no cancellation. nil while warming up or when the n bars traded nothing.
public struct RollingVWAP: Sendable {
    public let period: Int
    var flow: MovingWindow
    var volumes: MovingWindow
    var flowTotal = 0.0
    var volumeTotal = 0.0

    public init(period: Int) {
        self.period = period
        flow = MovingWindow(size: period)
        volumes = MovingWindow(size: period)
    }

    @inline(__always)
    public mutating func update(vwap: Double, volume: Double) -> Double? {
        let pv = vwap * volume
        if let old = flow.push(pv) { flowTotal -= old }
        if let old = volumes.push(volume) { volumeTotal -= old }
        flowTotal += pv
        volumeTotal += volume
        return volumes.isFull && volumeTotal > 0 ? flowTotal / volumeTotal : nil
    }
}

/// `(x − mean) / deviation` over the last n inputs (population deviation, as `StdDev`); nil
/// while warming up and on a flat window (no deviation to measure against).
public struct ZScore: Sendable {
    public let period: Int
    var mean: SMA
    var deviation: StdDev

    public init(period: Int) {
        self.period = period
        mean = SMA(period: period)
        deviation = StdDev(period: period)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        let m = mean.update(x), d = deviation.update(x)
        guard let m, let d, d != 0 else { return nil }
        return (x - m) / d
    }
}
