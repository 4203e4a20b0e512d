/// Simple moving average, bit-for-bit TA-Lib's `TA_SMA`: the running total gains the new value,
/// yields total / n, then loses the value leaving the window — in that order, so rounding
/// matches TA-Lib's over any length of series. First value at the n-th input.
public struct SMA: Sendable {
    public let period: Int
    var window: MovingWindow
    var total = 0.0

    public init(period: Int) {
        self.period = period
        window = MovingWindow(size: period)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        _ = window.push(x)
        total += x
        guard window.isFull else { return nil }
        let value = total / Double(period)
        total -= window[oldest: 0]
        return value
    }
}

/// Exponential moving average as TA-Lib's `TA_EMA` (default compatibility): seeded with the SMA
/// of the first n inputs, then `ema = (x − ema)·k + ema` with k = 2/(n+1).
public struct EMA: Sendable {
    public let period: Int
    let k: Double
    var seen = 0
    var seedTotal = 0.0
    var value: Double?

    public init(period: Int) {
        self.period = period
        k = 2.0 / Double(period + 1)
    }

    /// An EMA whose seed is given (TA-Lib's MACD seeds its fast EMA late, see `MACD`).
    init(period: Int, seed: Double) {
        self.init(period: period)
        value = seed
        seen = period
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        if let previous = value {
            let next = ((x - previous) * k) + previous
            value = next
            return next
        }
        seen += 1
        seedTotal += x
        guard seen == period else { return nil }
        value = seedTotal / Double(period)
        return value
    }
}

/// Population standard deviation over n inputs, as TA-Lib's `TA_STDDEV(n, 1)`: exactly 0 for a
/// flat window, and only then. No 1e-8 floor on the variance — TA-Lib 0.8 has none, and at a price of 1.00 a
/// 0.01 % move (variance 2.5e-9) is a real deviation, as it is at 0.01 (2.5e-13). Two passes over the n-value ring: constant work per update (2n
/// flops) and exact to the last bits. A running Σx² − (Σx)²/n form loses about seven significant
/// digits on a flat series (measured 1e-7 relative against TA-Lib 0.6 on `flat.json`), because
/// the two sums cancel; TA-Lib itself now returns the exact deviation.
public struct StdDev: Sendable {
    public let period: Int
    var window: MovingWindow

    public init(period: Int) {
        self.period = period
        window = MovingWindow(size: period)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        _ = window.push(x)
        guard window.isFull else { return nil }
        // A flat window is exactly 0, as in TA-Lib: the mean of n equal values can be an ulp off
        // the value, which would leave a deviation of ~1e-16 of the price instead.
        let first = window[oldest: 0]
        var total = 0.0
        var flat = true
        for i in 0..<period {
            let x = window[oldest: i]
            total += x
            flat = flat && x == first
        }
        if flat { return 0 }
        let mean = total / Double(period)
        var squares = 0.0
        for i in 0..<period {
            let d = window[oldest: i] - mean
            squares += d * d
        }
        let variance = squares / Double(period)
        return variance > 0 ? variance.squareRoot() : 0
    }
}
