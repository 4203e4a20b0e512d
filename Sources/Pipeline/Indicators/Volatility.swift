/// Bollinger bands on an SMA middle, as TA-Lib's `TA_BBANDS(n, up, dn, SMA)`: bands = sma ±
/// k·(population deviation over n), the deviation computed exactly as `StdDev` does.
public struct BollingerBands: Sendable {
    public struct Value: Sendable, Equatable {
        public let upper: Double
        public let middle: Double
        public let lower: Double
    }

    public let period: Int
    public let up: Double, down: Double
    var sma: SMA
    var deviation: StdDev

    public init(period: Int = 20, up: Double = 2, down: Double = 2) {
        self.period = period
        self.up = up
        self.down = down
        sma = SMA(period: period)
        deviation = StdDev(period: period)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Value? {
        let middle = sma.update(x)
        let deviation = self.deviation.update(x)
        guard let middle, let deviation else { return nil }
        if up == down {
            let band = deviation * up
            return Value(upper: middle + band, middle: middle, lower: middle - band)
        }
        return Value(upper: middle + deviation * up, middle: middle, lower: middle - deviation * down)
    }
}

/// Average true range as TA-Lib's `TA_ATR(n)`: true range from the second bar, the first ATR is
/// the mean of n true ranges (at bar n+1), then Wilder smoothing `(atr·(n−1) + tr)/n`.
public struct ATR: Sendable {
    public let period: Int
    var previousClose: Double?
    var ranges = 0
    var total = 0.0
    var value: Double?

    public init(period: Int = 14) { self.period = period }

    @inline(__always)
    public mutating func update(high: Double, low: Double, close: Double) -> Double? {
        defer { previousClose = close }
        guard let pc = previousClose else { return nil }
        var range = high - low
        let a = abs(pc - high)
        if a > range { range = a }
        let b = abs(pc - low)
        if b > range { range = b }
        if var atr = value {
            atr *= Double(period - 1)
            atr += range
            atr /= Double(period)
            value = atr
            return atr
        }
        total += range
        ranges += 1
        guard ranges == period else { return nil }
        value = total / Double(period)
        return value
    }
}
