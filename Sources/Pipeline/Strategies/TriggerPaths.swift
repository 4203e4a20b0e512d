import Contracts
import Foundation
import Glibc

// Candidate price paths of `TriggerSearch` and their randomness.

/// A candidate: per bar, the close-to-close move, the wick beyond the body and the volume.
struct PricePath {
    static let maxBars = 120
    static let maxMove = 0.02
    static let maxWick = 0.01
    var base = 100.0
    var moves: [Double]
    var wicks: [Double]
    var volumes: [Double]

    mutating func clamp() {
        if moves.count > Self.maxBars {
            let extra = moves.count - Self.maxBars
            moves.removeFirst(extra)
            wicks.removeFirst(extra)
            volumes.removeFirst(extra)
        }
        moves = moves.map { min(Self.maxMove, max(-Self.maxMove, $0.isFinite ? $0 : 0)) }
        wicks = wicks.map { min(Self.maxWick, max(0, $0.isFinite ? $0 : 0)) }
        volumes = volumes.map { min(1e9, max(1, $0.isFinite ? $0 : 1)) }
        base = min(1e6, max(0.01, base.isFinite ? base : 100))
    }

    /// The first `count` bars.
    func prefix(_ count: Int) -> PricePath {
        PricePath(base: base, moves: Array(moves.prefix(count)), wicks: Array(wicks.prefix(count)), volumes: Array(volumes.prefix(count)))
    }

    /// Prices to 4 decimals, so the ticks sent are exactly the ticks simulated.
    private static func round(_ p: Double) -> Double { max(0.0001, (p * 10_000).rounded() / 10_000) }

    func scenario(strategy: String, symbol: String, intervalMs: Int64, direction: Direction) -> TriggerScenario {
        var setup: [Tick] = []
        setup.reserveCapacity(moves.count * 5)
        func tick(_ ts: Int64, _ price: Double, _ volume: Double) -> Tick {
            Tick(symbol: symbol, ts: ts, price: price, volume: volume, bid: Self.round(price * 0.9999), ask: Self.round(price * 1.0001))
        }
        var price = Self.round(base)
        for i in moves.indices {
            let open = price, close = Self.round(open * (1 + moves[i]))
            var points: [(price: Double, weight: Double)] = [(open, 3)]
            if wicks[i] > 0 {
                points.append((Self.round(max(open, close) * (1 + wicks[i])), 1))
                points.append((Self.round(min(open, close) * (1 - wicks[i])), 1))
            }
            if abs(moves[i]) > 0.008 { points.append((Self.round((open + close) / 2), 2)) }
            points.append((close, 5))
            let total = points.reduce(0) { $0 + $1.weight }
            let start = Int64(i) * intervalMs
            for (j, point) in points.enumerated() {
                setup.append(tick(start + intervalMs * Int64(j) / Int64(points.count), point.price, volumes[i] * point.weight / total))
            }
            price = close
        }
        let closing = tick(Int64(moves.count) * intervalMs, price, volumes.last ?? 100)
        return TriggerScenario(strategy: strategy, setup: setup, closing: closing, expectedDirection: direction)
    }
}

/// The search's randomness: the simulator's SplitMix64, so a seed gives the same candidates everywhere.
typealias SearchRandom = SplitMix64

extension SplitMix64 {
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
    mutating func normal(_ sigma: Double) -> Double {
        sigma * (-2 * log(max(unit(), 1e-300))).squareRoot() * cos(2 * Double.pi * unit())
    }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}
