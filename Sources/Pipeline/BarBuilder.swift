import Contracts
import Markets

/// Builds one symbol's time bars from its ticks, in the buckets of its market's clock
/// (`SessionClock`: session-aligned, never across a break; UTC clock buckets when markets are
/// off). A bar closes when a tick of a later bucket arrives, at end of input (`flush`), or when
/// the wall clock passes the bucket's end + grace (`closeIfDue`, live feeds only). Empty buckets
/// make no bar. Ticks must arrive in time order (the engine rejects older ticks as
/// `out_of_order` before they get here).
public struct BarBuilder: Sendable {
    public let symbol: String
    public var interval: BarInterval { clock.interval }
    public internal(set) var clock: SessionClock
    var open: Bar?
    /// End of the open bar's bucket (a session's close may cut it short).
    var openEnd: Int64 = 0
    var flow = 0.0   // Σ price·volume of the open bar
    /// End of the bucket of the bar `add`, `flush` or `closeIfDue` last returned, and its trading day.
    public private(set) var closedEnd: Int64 = 0
    public private(set) var closedDay: Int64 = 0
    var openDay: Int64 = 0

    public init(symbol: String, interval: BarInterval, profile: MarketProfile = .alwaysOpen) {
        self.symbol = symbol
        clock = SessionClock(profile: profile, interval: interval)
    }

    /// Whether a tick at `ts` falls outside every session of the symbol's venue.
    public mutating func isOffSession(_ ts: Int64) -> Bool { !clock.isOpen(ts) }

    /// Adds a tick; returns the bar it closed, if any. A tick outside every session goes into a
    /// UTC clock bucket (only when the venue keeps off-session ticks; the engine drops the rest).
    public mutating func add(_ tick: Tick) -> Bar? {
        let slot = clock.slot(tick.ts)
        let bucket = slot?.start ?? interval.bucket(tick.ts)
        if open?.start == bucket {
            Self.extend(&open!, tick)  // in place: no copy of the bar (and its strings) per tick
            flow += tick.price * tick.volume
            return nil
        }
        let closed = close()
        open = Bar(symbol: symbol, interval: interval.label, start: bucket, open: tick.price, high: tick.price,
                   low: tick.price, close: tick.price, volume: tick.volume, vwap: tick.price, trades: 1)
        openEnd = slot?.end ?? bucket + interval.milliseconds
        openDay = slot?.tradingDay ?? CivilDate.floorDivide(bucket, 86_400_000).quotient
        flow = tick.price * tick.volume
        return closed
    }

    private static func extend(_ bar: inout Bar, _ tick: Tick) {
        bar.high = max(bar.high, tick.price)
        bar.low = min(bar.low, tick.price)
        bar.close = tick.price
        bar.volume += tick.volume
        bar.trades += 1
    }

    /// Closes the open bar (end of input).
    public mutating func flush() -> Bar? { close() }

    /// Closes the open bar when `nowMs` ≥ its end + `graceMs` (live feeds; market time of the
    /// last tick is not enough when a symbol goes quiet).
    public mutating func closeIfDue(nowMs: Int64, graceMs: Int64) -> Bar? {
        guard open != nil, nowMs >= openEnd + graceMs else { return nil }
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
        if bar != nil {
            closedEnd = openEnd
            closedDay = openDay
        }
        open = nil
        flow = 0
        return bar
    }

    /// After a checkpoint restore: the open bar's bucket end again, from the clock.
    mutating func restoreOpenEnd() {
        guard let bar = open else { return }
        let slot = clock.slot(bar.start)
        openEnd = slot.map { $0.start == bar.start ? $0.end : bar.start + interval.milliseconds } ?? bar.start + interval.milliseconds
        openDay = slot?.tradingDay ?? CivilDate.floorDivide(bar.start, 86_400_000).quotient
    }
}
