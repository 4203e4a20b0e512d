import Contracts

/// What a strategy sees on a bar close: this bar and its features, the previous ones, and the
/// recent highs and lows of the symbol.
public struct StrategyContext {
    public let input: RuleInput
    // Borrowed from the frame (no copy of the whole struct per field read).
    public var features: Features { _read { yield input.features } }
    public var previous: Features? { _read { yield input.previous } }
    public var bar: Bar { input.bar }
    /// This bar's numbers (no names: cheaper than `bar` for a strategy that reads prices only).
    public var values: BarValues { input.past && input.frame.hasPriorBar ? input.frame.prior : input.frame.now }
    public var recent: RecentBars { _read { yield input.frame.recent } }

    public init(input: RuleInput) {
        self.input = input
    }

    /// A context with these recent bars (tests and tools: the engine keeps them in the frame).
    public init(input: RuleInput, recent: RecentBars) {
        input.frame.recent = recent
        self.input = input
    }
}

/// The last `size` bars' highs and lows of one symbol, excluding the bar being evaluated.
public struct RecentBars: Sendable {
    var highs: MovingWindow
    var lows: MovingWindow
    public static let size = 64

    public init() {
        highs = MovingWindow(size: Self.size)
        lows = MovingWindow(size: Self.size)
    }

    mutating func append(_ bar: Bar) {
        _ = highs.push(bar.high)
        _ = lows.push(bar.low)
    }

    public var count: Int { highs.count }

    /// Highest high of the last `n` bars (nil until there are `n`).
    public func highest(_ n: Int) -> Double? {
        guard n <= highs.count else { return nil }
        var m = -Double.infinity
        for i in (highs.count - n)..<highs.count { m = max(m, highs[oldest: i]) }
        return m
    }

    public func lowest(_ n: Int) -> Double? {
        guard n <= lows.count else { return nil }
        var m = Double.infinity
        for i in (lows.count - n)..<lows.count { m = min(m, lows[oldest: i]) }
        return m
    }
}

/// A strategy's verdict on one bar.
public struct StrategyVerdict: Sendable, Equatable {
    public let direction: Direction
    /// 0…1.
    public let strength: Double
    public let reason: String
}

/// A signal source. Strategies are stateless values: all per-symbol state (indicators, recent
/// bars) lives in the engine, so replacing or re-parameterising a strategy loses nothing.
public protocol Strategy: Sendable {
    var name: String { get }
    func evaluate(_ context: StrategyContext) -> StrategyVerdict?
    /// Whether `evaluate` reads the fixed features (`context.features`, `context.previous`). A
    /// research run skips computing them when no strategy under test does.
    var readsFeatures: Bool { get }
    /// Whether `evaluate` reads `context.recent`.
    var readsRecentBars: Bool { get }
}

extension Strategy {
    public var readsFeatures: Bool { true }
    public var readsRecentBars: Bool { true }
}

@inline(__always)
func clamp01(_ x: Double) -> Double { x.isFinite ? min(1, max(0, x)) : 1 }

func format(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return String(scaled)
}
