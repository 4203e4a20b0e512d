import Contracts
import Synchronization

/// "Now" for the live engine: the wall clock, or — while a recorded file plays as the feed —
/// the file's own clock, `speed` times the wall clock's pace from an anchor (and stopped once
/// the file has ended, so nothing turns stale after it). Bars close, feeds turn stale and the
/// journal records clock steps in this time.
public final class MarketClock: Sendable {
    private struct Anchor {
        var wall: Int64
        var market: Int64
        var speed: Double
        var stoppedAt: Int64?
        /// Market time does not pass this (the feed's next tick) until the feed moves it on.
        var limit: Int64 = .max
    }

    private let anchor = Mutex<Anchor?>(nil)

    public init() {}

    /// Now, in milliseconds of market time.
    public func now() -> Int64 {
        let wall = WallClock.milliseconds()
        return anchor.withLock { a in a.map { Self.time($0, wall: wall) } ?? wall }
    }

    private static func time(_ a: Anchor, wall: Int64) -> Int64 {
        if let stopped = a.stoppedAt { return stopped }
        return min(a.limit, a.market + Int64((Double(wall - a.wall) * a.speed).rounded(.down)))
    }

    /// From now on, market time runs from `market` at `speed` × the wall clock.
    public func follow(market: Int64, speed: Double) {
        let wall = WallClock.milliseconds()
        anchor.withLock { $0 = Anchor(wall: wall, market: market, speed: speed, stoppedAt: nil) }
    }

    /// Market time goes no further than `ms` (the tick the feed hands over next): however fast the
    /// file plays, a tick is processed at a market time no later than the next one's.
    /// Never back: a file's late tick holds market time where it already is.
    public func hold(at ms: Int64) {
        let wall = WallClock.milliseconds()
        anchor.withLock { a in
            guard let current = a else { return }
            a!.limit = max(ms, Self.time(current, wall: wall))
        }
    }

    /// Market time stands still at `ms` (the recorded feed has ended).
    public func stop(at ms: Int64) {
        anchor.withLock { a in
            if a == nil { a = Anchor(wall: WallClock.milliseconds(), market: ms, speed: 1, stoppedAt: ms) } else { a!.stoppedAt = ms }
        }
    }

    /// Whether market time follows a recorded feed rather than the wall clock.
    public var isMapped: Bool { anchor.withLock { $0 != nil } }
}
