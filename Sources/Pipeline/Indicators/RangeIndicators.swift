/// Indicators of a bar's high, low and close (and volume): TA-Lib's STOCH, ADX, MFI and CCI, each
/// in TA-Lib's order of operations so the values agree to the last bits where it can.

/// Slow stochastic as TA-Lib's `TA_STOCH(n, k, SMA, d, SMA)`: fast %K = (close − lowest low) /
/// (highest high − lowest low) · 100 over n bars (0 when the range is 0; TA-Lib 0.6's order of
/// operations), %K = SMA(k) of it,
/// %D = SMA(d) of %K. TA-Lib gives both from the same bar (when %D first exists), so %K waits too.
/// O(1) amortised per bar (monotonic deques).
public struct Stochastic: Sendable {
    public let period: Int, kPeriod: Int, dPeriod: Int
    var highs: RollingExtreme
    var lows: RollingExtreme
    var slowK: SMA
    var slowD: SMA

    public init(period: Int, k: Int, d: Int) {
        self.period = period
        kPeriod = k
        dPeriod = d
        highs = RollingExtreme(period: period, highest: true)
        lows = RollingExtreme(period: period, highest: false)
        slowK = SMA(period: k)
        slowD = SMA(period: d)
    }

    /// (%K, %D), both nil until %D exists.
    @inline(__always)
    public mutating func update(high: Double, low: Double, close: Double) -> (k: Double, d: Double)? {
        let h = highs.update(high), l = lows.update(low)
        guard let h, let l else { return nil }
        let range = h - l
        let fastK = range != 0 ? (close - l) / range * 100.0 : 0
        guard let k = slowK.update(fastK), let d = slowD.update(k) else { return nil }
        return (k, d)
    }
}

/// Money flow index as TA-Lib's `TA_MFI(n)`: typical price (h+l+c)/3 times volume is positive
/// money flow when the typical price rose, negative when it fell — and neither when the change
/// is within 1e-14 of the two prices (TA-Lib 0.6's dead zone: (h+l+c)/3 of equal bars can differ
/// in the last bit); MFI = 100·pos/(pos+neg) over the last n changes, and 0 when pos+neg < 1
/// (TA-Lib's own threshold). Running sums, each bar's flow subtracted as it leaves in TA-Lib's
/// order: O(1). First value at bar n+1.
public struct MoneyFlowIndex: Sendable {
    public let period: Int
    var positive: MovingWindow
    var negative: MovingWindow
    var previousTypical: Double?
    var positiveSum = 0.0
    var negativeSum = 0.0
    /// Bars in the window with a positive (negative) flow: at 0 the sum is exactly 0, not the
    /// residue of adding and subtracting the same flows (TA-Lib reports 0 there too).
    var positiveCount = 0
    var negativeCount = 0

    public init(period: Int) {
        self.period = period
        positive = MovingWindow(size: period)
        negative = MovingWindow(size: period)
    }

    @inline(__always)
    public mutating func update(high: Double, low: Double, close: Double, volume: Double) -> Double? {
        let typical = (high + low + close) / 3.0
        guard let before = previousTypical else {
            previousTypical = typical
            return nil
        }
        previousTypical = typical
        let change = typical - before
        let flat = abs(change) <= 0.00000000000001 * (abs(typical) + abs(before))
        let flow = typical * volume
        let full = positive.isFull
        // The flow leaving the window first, then the new one (TA-Lib's main loop).
        if full {
            let (p, n) = (positive[oldest: 0], negative[oldest: 0])
            positiveSum -= p
            negativeSum -= n
            if p != 0 { positiveCount -= 1 }
            if n != 0 { negativeCount -= 1 }
        }
        if flat {
            _ = positive.push(0)
            _ = negative.push(0)
        } else if change < 0 {
            _ = negative.push(flow)
            _ = positive.push(0)
            negativeSum += flow
            if flow != 0 { negativeCount += 1 }
        } else {
            _ = positive.push(flow)
            _ = negative.push(0)
            positiveSum += flow
            if flow != 0 { positiveCount += 1 }
        }
        if positiveCount == 0 { positiveSum = 0 }
        if negativeCount == 0 { negativeSum = 0 }
        guard positive.isFull else { return nil }
        let total = positiveSum + negativeSum
        return total < 1.0 ? 0 : 100.0 * (positiveSum / total)
    }
}

/// Average directional index as TA-Lib's `TA_ADX(n)`: Wilder-smoothed +DM, −DM and true range
/// (sums of the first n−1, then `x − x/n + new`), DX = 100·|−DI − +DI|/(−DI + +DI), the first ADX
/// the mean of n DX, then `(adx·(n−1) + dx)/n`; TA-Lib's 1e-14 zero test on the true range and
/// the DI sum. O(1) per bar. First value at bar 2n.
public struct AverageDirectionalIndex: Sendable {
    public let period: Int
    var previousHigh = 0.0, previousLow = 0.0, previousClose = 0.0
    var bars = 0
    var plusDM = 0.0, minusDM = 0.0, trueRange = 0.0
    var sumDX = 0.0
    var adx: Double?

    public init(period: Int) { self.period = period }

    @inline(__always)
    static func isZero(_ v: Double) -> Bool { -0.00000000000001 < v && v < 0.00000000000001 }

    @inline(__always)
    public mutating func update(high: Double, low: Double, close: Double) -> Double? {
        bars += 1
        if bars == 1 {
            (previousHigh, previousLow, previousClose) = (high, low, close)
            return nil
        }
        let n = Double(period)
        let diffP = high - previousHigh
        let diffM = previousLow - low
        previousHigh = high
        previousLow = low
        var range = high - low
        let a = abs(high - previousClose)
        if a > range { range = a }
        let b = abs(low - previousClose)
        if b > range { range = b }
        previousClose = close
        let seeding = bars <= period  // bars 2…n: the first n−1 movements are summed
        if !seeding {
            minusDM -= minusDM / n
            plusDM -= plusDM / n
        }
        if diffM > 0 && diffP < diffM { minusDM += diffM } else if diffP > 0 && diffP > diffM { plusDM += diffP }
        if seeding {
            trueRange += range
            return nil
        }
        trueRange = trueRange - (trueRange / n) + range
        var dx: Double?
        if !Self.isZero(trueRange) {
            let minusDI = 100.0 * (minusDM / trueRange)
            let plusDI = 100.0 * (plusDM / trueRange)
            let total = minusDI + plusDI
            if !Self.isZero(total) { dx = 100.0 * (abs(minusDI - plusDI) / total) }
        }
        if let current = adx {
            if let dx { adx = ((current * (n - 1)) + dx) / n }
            return adx
        }
        // Bars n+1…2n: the first n DX are summed; the first ADX is their mean.
        if let dx { sumDX += dx }
        guard bars == 2 * period else { return nil }
        adx = sumDX / n
        return adx
    }
}

/// Commodity channel index as TA-Lib's `TA_CCI(n)`: (tp − mean)/(0.015 · mean deviation) over
/// the last n typical prices (h+l+c)/3, 0 when either part is within 1e-14 of the window's
/// average (TA-Lib 0.6's scaled test: an offset of rounding noise on a flat window). The mean
/// deviation needs every
/// value against the current mean: O(n) per bar, summed in TA-Lib's ring order so the value is
/// TA-Lib's to the bit. First value at bar n.
public struct CommodityChannelIndex: Sendable {
    public let period: Int
    /// The typical prices of the window, ordered by value: the mean deviation is the sum above
    /// the mean less the sum below it, O(log n) per bar, not a pass over the window.
    var window: OrderedWindow

    public init(period: Int) {
        self.period = period
        window = OrderedWindow(size: period)
    }

    @inline(__always)
    public mutating func update(high: Double, low: Double, close: Double) -> Double? {
        let typical = (high + low + close) / 3.0
        window.push(typical)
        guard window.isFull else { return nil }
        let n = Double(period)
        let total = window.total                   // Σ (tp − pivot)
        let average = window.pivot + total / n
        // Σ|tp − mean| = Σ_above (tp − mean) + Σ_below (mean − tp), all relative to the pivot.
        let (belowCount, belowSum) = window.below(average)
        let d = average - window.pivot
        let aboveCount = Double(period - belowCount)
        let deviation = ((total - belowSum) - aboveCount * d) + (Double(belowCount) * d - belowSum)
        if max(0, deviation) / n < n * 1e-6 * abs(average) {
            // A window nearly flat against its price level: TA-Lib's own figure is then decided by
            // the rounding of its plain sum of the window (in ring order) — computed its way, here
            // only, to agree with it. Elsewhere the ordered sums give the same within 1e-12.
            return Self.taLib(typical, window.ring, n)
        }
        return Self.index(offset: typical - average, average: average, meanDeviation: max(0, deviation) / n)
    }

    /// The window summed and compared value by value in ring order, as TA-Lib's `TA_CCI` does.
    static func taLib(_ typical: Double, _ ring: [Double], _ n: Double) -> Double {
        var average = 0.0
        for v in ring { average += v }
        average /= n
        var deviation = 0.0
        for v in ring { deviation += abs(v - average) }
        return index(offset: typical - average, average: average, meanDeviation: deviation / n)
    }

    @inline(__always)
    static func index(offset: Double, average: Double, meanDeviation: Double) -> Double {
        // "Is this window flat?", relative to its own price level (TA-Lib 0.6): a fixed band
        // would call every window of a stock quoted below it flat.
        let band = 0.00000000000001 * abs(average)
        return abs(offset) > band && meanDeviation > band ? offset / (0.015 * meanDeviation) : 0
    }
}
