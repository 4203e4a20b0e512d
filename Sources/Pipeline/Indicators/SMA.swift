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

/// Population standard deviation over the last n values, as TA-Lib's `TA_STDDEV(n, 1)` (which is
/// the exact two-pass figure to ~1e-12), in O(1) per value: running sums of each value less a
/// pivot near the window's mean keep the subtraction `Σd²/n − (Σd/n)²` from cancelling. The
/// sums are made exactly again from the window (pivot: its mean) every n values, so rounding
/// cannot drift, and sooner when the mean has moved so far from the pivot (a jump) that the
/// subtraction would cancel (`cancellationLimit`). A window of n equal values is exactly 0, as
/// in TA-Lib (a run counter, not a scan).
public struct StdDev: Sendable {
    public let period: Int
    var window: MovingWindow
    var pivot = 0.0
    /// Σ (x − pivot) and Σ (x − pivot)² over the window.
    var sum = 0.0
    var squares = 0.0
    /// Values since the sums were last made exactly.
    var sinceExact = 0
    /// How many of the latest values equal the latest one.
    var run = 0
    var last = Double.nan

    public init(period: Int) {
        self.period = period
        window = MovingWindow(size: period)
    }

    /// Most the sums' second moment may exceed the variance before the subtraction is redone
    /// exactly (measured, StdDevTests: within 3e-11 of the two-pass figure, mostly under 1e-12).
    var cancellationLimit: Double { 1e3 / (2 + Double(period).squareRoot()) }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        if let dropped = window.push(x) {
            let d = dropped - pivot
            sum -= d
            squares -= d * d
        }
        let d = x - pivot
        sum += d
        squares += d * d
        if x == last { run += 1 } else { run = 1; last = x }
        guard window.isFull else { return nil }
        if run >= period { return 0 }
        sinceExact += 1
        let n = Double(period)
        let mean = sum / n
        let second = squares / n
        var variance = second - mean * mean
        if sinceExact >= period || !(variance > 0) || second > variance * cancellationLimit {
            variance = exact()
        }
        return variance > 0 ? variance.squareRoot() : 0
    }

    /// Makes the sums exactly from the window around its mean; returns the variance (two passes).
    mutating func exact() -> Double {
        let n = Double(period)
        var total = 0.0
        for i in 0..<period { total += window[oldest: i] }
        pivot = total / n
        sum = 0
        squares = 0
        for i in 0..<period {
            let d = window[oldest: i] - pivot
            sum += d
            squares += d * d
        }
        sinceExact = 0
        return squares / n
    }
}
