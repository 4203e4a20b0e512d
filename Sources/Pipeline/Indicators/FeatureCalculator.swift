import Contracts

/// Every feature of docs/CONTRACTS.md, "Features", for one symbol's bar series, updated in O(1)
/// per bar with no allocation (each indicator owns a fixed ring).
public struct FeatureCalculator: Sendable {
    var sma20 = SMA(period: 20)
    var ema12 = EMA(period: 12)
    var ema26 = EMA(period: 26)
    var ema50 = EMA(period: 50)
    var rsi14 = RSI(period: 14)
    var macd = MACD(fast: 12, slow: 26, signal: 9)
    var bands = BollingerBands(period: 20, up: 2, down: 2)
    var atr14 = ATR(period: 14)
    var stddev20 = StdDev(period: 20)
    var volumeSMA = SMA(period: 20)
    var volumeStdDev = StdDev(period: 20)
    var flow = MovingWindow(size: 20)   // vwap·volume per bar
    var volumes = MovingWindow(size: 20)
    var flowTotal = 0.0
    var volumeTotal = 0.0
    var previousClose: Double?
    /// 1 for each of the last 14 closes that differed from the one before (`movedBars14`).
    var moves = MovingWindow(size: 14)
    var moveCount = 0.0

    public init() {}

    public mutating func update(_ bar: Bar) -> Features {
        var f = Features(symbol: bar.symbol, interval: bar.interval, ts: bar.start, close: bar.close)
        let c = bar.close
        f.sma20 = sma20.update(c)
        f.ema12 = ema12.update(c)
        f.ema26 = ema26.update(c)
        f.ema50 = ema50.update(c)
        f.rsi14 = rsi14.update(c)
        if let m = macd.update(c) {
            f.macd = m.macd
            f.macdSignal = m.signal
            f.macdHist = m.histogram
        }
        if let b = bands.update(c) {
            f.bbUpper = b.upper
            f.bbMiddle = b.middle
            f.bbLower = b.lower
        }
        f.atr14 = atr14.update(high: bar.high, low: bar.low, close: c)
        f.stddev20 = stddev20.update(c)
        if let pc = previousClose {
            f.ret1 = c / pc - 1
            let move: Double = c != pc ? 1 : 0
            if let old = moves.push(move) { moveCount -= old }
            moveCount += move
        }
        f.movedBars14 = Int(moveCount)
        previousClose = c

        // vwap_20 = Σ(vwap·vol)/Σvol over the last 20 bars. The sums are of non-negative terms,
        // so running totals lose no precision to cancellation.
        let pv = bar.vwap * bar.volume
        if let old = flow.push(pv) { flowTotal -= old }
        if let old = volumes.push(bar.volume) { volumeTotal -= old }
        flowTotal += pv
        volumeTotal += bar.volume
        if volumes.isFull, volumeTotal > 0 { f.vwap20 = flowTotal / volumeTotal }

        let mean = volumeSMA.update(bar.volume)
        let deviation = volumeStdDev.update(bar.volume)
        if let mean, let deviation, deviation != 0 { f.volumeZ20 = (bar.volume - mean) / deviation }
        return f
    }
}
