import Contracts

/// Builds one symbol's time bars from its ticks. A bar closes when a tick of a later bucket
/// arrives, at end of input (`flush`), or when the wall clock passes bucket end + grace
/// (`closeIfDue`, live feeds only). Empty buckets make no bar. Ticks must arrive in time order
/// (the engine rejects older ticks as `out_of_order` before they get here).
public struct BarBuilder: Sendable {
    public let symbol: String
    public let interval: BarInterval
    var open: Bar?
    var flow = 0.0   // Σ price·volume of the open bar

    public init(symbol: String, interval: BarInterval) {
        self.symbol = symbol
        self.interval = interval
    }

    /// Adds a tick; returns the bar it closed, if any.
    public mutating func add(_ tick: Tick) -> Bar? {
        let bucket = interval.bucket(tick.ts)
        if var bar = open, bar.start == bucket {
            bar.high = max(bar.high, tick.price)
            bar.low = min(bar.low, tick.price)
            bar.close = tick.price
            bar.volume += tick.volume
            bar.trades += 1
            flow += tick.price * tick.volume
            open = bar
            return nil
        }
        let closed = close()
        open = Bar(symbol: symbol, interval: interval.label, start: bucket, open: tick.price, high: tick.price,
                   low: tick.price, close: tick.price, volume: tick.volume, vwap: tick.price, trades: 1)
        flow = tick.price * tick.volume
        return closed
    }

    /// Closes the open bar (end of input).
    public mutating func flush() -> Bar? { close() }

    /// Closes the open bar when `nowMs` ≥ its end + `graceMs` (live feeds; market time of the
    /// last tick is not enough when a symbol goes quiet).
    public mutating func closeIfDue(nowMs: Int64, graceMs: Int64) -> Bar? {
        guard let bar = open, nowMs >= bar.start + interval.milliseconds + graceMs else { return nil }
        return close()
    }

    /// The bar being built, for queries ("latest bar so far").
    public var current: Bar? {
        guard var bar = open else { return nil }
        bar.vwap = bar.volume > 0 ? flow / bar.volume : bar.close
        return bar
    }

    private mutating func close() -> Bar? {
        let bar = current
        open = nil
        flow = 0
        return bar
    }
}
