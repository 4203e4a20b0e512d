/// Wilder's RSI exactly as TA-Lib's `TA_RSI`: the first n changes are summed into average gain
/// and loss; then each is `(avg·(n−1) + change)/n`; RSI = 100·gain/(gain+loss), 0 only when both
/// are exactly 0 (a series flat from its first value). First value at input n+1.
///
/// On a flat stretch after a move both averages decay by (n−1)/n per bar while their ratio stays:
/// RSI holds its last value (TA-Lib 0.8 does the same down to denormal averages). The old
/// `TA_IS_ZERO` test (|sum| < 1e-8) turned RSI to 0 after ~200 flat bars of a 100.00 price, and
/// the next move then read as a cross back above 30 — a false long.
public struct RSI: Sendable {
    public let period: Int
    var previous: Double?
    var changes = 0
    var gain = 0.0
    var loss = 0.0

    public init(period: Int) { self.period = period }

    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        guard let last = previous else {
            previous = x
            return nil
        }
        previous = x
        let change = x - last
        let n = Double(period)
        if changes < period {
            if change < 0 { loss -= change } else { gain += change }
            changes += 1
            guard changes == period else { return nil }
            loss /= n
            gain /= n
        } else {
            loss *= n - 1
            gain *= n - 1
            if change < 0 { loss -= change } else { gain += change }
            loss /= n
            gain /= n
        }
        let sum = gain + loss
        return sum == 0 ? 0 : 100.0 * (gain / sum)
    }
}

/// MACD(fast, slow, signal) exactly as TA-Lib's `TA_MACD`. TA-Lib aligns both EMAs on the slow
/// one's first output: at input `slow`, the slow EMA is the SMA of all `slow` inputs and the fast
/// EMA is seeded with the SMA of only the last `fast` inputs (not an EMA running since input
/// `fast`). The signal EMA is seeded with the SMA of the first `signal` MACD values.
public struct MACD: Sendable {
    public struct Value: Sendable, Equatable {
        public let macd: Double
        public let signal: Double
        public let histogram: Double
    }

    public let fast: Int, slow: Int, signal: Int
    var recent: MovingWindow
    var slowEMA: EMA
    var fastEMA: EMA?
    var signalEMA: EMA

    public init(fast: Int = 12, slow: Int = 26, signal: Int = 9) {
        self.fast = fast
        self.slow = slow
        self.signal = signal
        recent = MovingWindow(size: fast)
        slowEMA = EMA(period: slow)
        signalEMA = EMA(period: signal)
    }

    @inline(__always)
    public mutating func update(_ x: Double) -> Value? {
        _ = recent.push(x)
        let slowValue = slowEMA.update(x)
        let fastValue: Double
        if var ema = fastEMA {
            fastValue = ema.update(x)!
            fastEMA = ema
        } else {
            guard slowValue != nil else { return nil }
            var total = 0.0
            for i in 0..<fast { total += recent[oldest: i] }
            let seed = total / Double(fast)
            fastEMA = EMA(period: fast, seed: seed)
            fastValue = seed
        }
        guard let slowValue else { return nil }
        let line = fastValue - slowValue
        guard let signalValue = signalEMA.update(line) else { return nil }
        return Value(macd: line, signal: signalValue, histogram: line - signalValue)
    }
}
