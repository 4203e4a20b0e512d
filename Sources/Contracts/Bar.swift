/// A time bar (docs/CONTRACTS.md, "Bar"): bucket = floor(ts / interval) · interval.
public struct Bar: Sendable, Equatable {
    public var symbol: String
    /// The interval's label, e.g. "1s", "1m".
    public var interval: String
    /// Bucket start, epoch milliseconds.
    public var start: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double
    /// Volume-weighted average price of the bar's ticks (close when the bar has no volume).
    public var vwap: Double
    public var trades: Int

    public init(symbol: String, interval: String, start: Int64, open: Double, high: Double, low: Double, close: Double,
                volume: Double, vwap: Double, trades: Int) {
        self.symbol = symbol
        self.interval = interval
        self.start = start
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.vwap = vwap
        self.trades = trades
    }
}

/// Indicator values on a bar close; nil while an indicator warms up (JSON null).
public struct Features: Sendable, Equatable {
    public var symbol: String
    public var interval: String
    /// The bar's start.
    public var ts: Int64
    public var close: Double
    public var sma20: Double?
    public var ema12: Double?
    public var ema26: Double?
    public var ema50: Double?
    public var rsi14: Double?
    public var macd: Double?
    public var macdSignal: Double?
    public var macdHist: Double?
    public var bbUpper: Double?
    public var bbMiddle: Double?
    public var bbLower: Double?
    public var atr14: Double?
    public var stddev20: Double?
    public var ret1: Double?
    public var vwap20: Double?
    public var volumeZ20: Double?
    /// How many of the last 14 bar-to-bar changes moved the close: what `rsi14` rests on. After a
    /// long flat stretch RSI's averages have decayed towards 0, so the one change that ends it
    /// swings RSI to ~0 or ~100 (TA-Lib's value too); a flat series from its first bar has an RSI
    /// of 0 by convention. Neither is an overbought or oversold reading. Not part of the JSON contract.
    public var movedBars14 = 0

    public init(symbol: String, interval: String, ts: Int64, close: Double) {
        self.symbol = symbol
        self.interval = interval
        self.ts = ts
        self.close = close
    }

    /// The JSON field names of docs/CONTRACTS.md, "Features", in order, with their values.
    public var fields: [(name: String, value: Double?)] {
        [("sma_20", sma20), ("ema_12", ema12), ("ema_26", ema26), ("ema_50", ema50), ("rsi_14", rsi14),
         ("macd", macd), ("macd_signal", macdSignal), ("macd_hist", macdHist), ("bb_upper", bbUpper),
         ("bb_middle", bbMiddle), ("bb_lower", bbLower), ("atr_14", atr14), ("stddev_20", stddev20),
         ("ret_1", ret1), ("vwap_20", vwap20), ("volume_z_20", volumeZ20)]
    }
}
