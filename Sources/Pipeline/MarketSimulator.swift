import Contracts

/// The embedded default feed: eight A-share-style symbols whose prices follow geometric
/// Brownian motion with regime switches (trend up, trend down, choppy, turbulent), occasional
/// jumps, volume bursts, spread blow-outs and a rare late (out-of-order) tick — so that every
/// strategy and several risk rules fire within a minute of starting. Deterministic for a seed:
/// `next()` gives the same ticks, with market timestamps advancing `1000 / ticksPerSecond` ms per
/// tick from `startMs`; the live feed paces them on the wall clock.
public struct MarketSimulator: Sendable {
    public struct Instrument: Sendable {
        public let symbol: String
        public let price: Double
        public let volatility: Double   // per-second σ of log returns
        public let lot: Double

        public init(symbol: String, price: Double, volatility: Double, lot: Double) {
            self.symbol = symbol
            self.price = price
            self.volatility = volatility
            self.lot = lot
        }
    }

    public static let defaultInstruments: [Instrument] = [
        Instrument(symbol: "600519.SH", price: 1688.50, volatility: 0.0009, lot: 100),
        Instrument(symbol: "000001.SZ", price: 10.52, volatility: 0.0012, lot: 1000),
        Instrument(symbol: "300750.SZ", price: 180.30, volatility: 0.0016, lot: 100),
        Instrument(symbol: "601318.SH", price: 42.15, volatility: 0.0010, lot: 500),
        Instrument(symbol: "000858.SZ", price: 128.60, volatility: 0.0013, lot: 200),
        Instrument(symbol: "600036.SH", price: 33.48, volatility: 0.0009, lot: 500),
        Instrument(symbol: "002594.SZ", price: 238.90, volatility: 0.0018, lot: 100),
        Instrument(symbol: "688981.SH", price: 47.62, volatility: 0.0020, lot: 500),
    ]

    enum Regime: Int { case up, down, choppy, turbulent }

    struct State: Sendable {
        var price: Double
        var anchor: Double
        var regime: Regime
        var regimeLeft: Int
        var burstLeft = 0
        var wideLeft = 0
        var lastTs: Int64 = 0
    }

    public let instruments: [Instrument]
    public let ticksPerSecond: Int
    private var states: [State]
    private var rng: SplitMix64
    private var ts: Int64
    private var baseMs: Int64 = 0
    private var tsMicros: Int64 = 0
    private var counter = 0
    private var lateTick: Tick?

    public init(instruments: [Instrument] = defaultInstruments, ticksPerSecond: Int = 200, seed: UInt64 = 20_241_125,
                startMs: Int64) {
        precondition(!instruments.isEmpty && ticksPerSecond > 0)
        self.instruments = instruments
        self.ticksPerSecond = ticksPerSecond
        rng = SplitMix64(seed: seed)
        ts = startMs
        baseMs = startMs
        states = instruments.map { State(price: $0.price, anchor: $0.price, regime: .choppy, regimeLeft: 0) }
        for i in states.indices { switchRegime(i) }
    }

    /// The next tick in market time.
    public mutating func next() -> Tick {
        counter += 1
        // A delayed tick shows up late once in a while, as real feeds do (out_of_order).
        if let late = lateTick, counter % 7 == 0 {
            lateTick = nil
            return late
        }
        // Market time advances 1000 / ticksPerSecond ms per tick, kept in µs so rates above
        // 1000 ticks/s are real (several ticks may share a millisecond).
        tsMicros += 1_000_000 / Int64(ticksPerSecond)
        ts = baseMs + tsMicros / 1000
        let i = Int(rng.next() % UInt64(instruments.count))
        let inst = instruments[i]
        var s = states[i]
        let ticksPerSymbolPerSecond = max(1.0, Double(ticksPerSecond) / Double(instruments.count))
        let sigma = inst.volatility / ticksPerSymbolPerSecond.squareRoot()
        var drift = 0.0
        var scale = 1.0
        switch s.regime {
        case .up: drift = 2.2 * sigma
        case .down: drift = -2.2 * sigma
        case .choppy: drift = 0.25 * (s.anchor / s.price - 1)   // pulled back to its anchor
        case .turbulent: scale = 3.5
        }
        var r = drift + scale * sigma * rng.gaussian()
        if rng.unit() < 0.0015 { r += (rng.unit() < 0.5 ? -1 : 1) * (0.02 + 0.04 * rng.unit()) }  // jump
        s.price = max(0.01, s.price * (1 + r))
        s.regimeLeft -= 1
        if s.regimeLeft <= 0 { states[i] = s; switchRegime(i); s = states[i] }
        if s.burstLeft == 0 && rng.unit() < 0.004 { s.burstLeft = Int(ticksPerSymbolPerSecond * 2) }
        if s.wideLeft == 0 && rng.unit() < 0.002 { s.wideLeft = 3 }
        var volume = inst.lot * Double(1 + rng.next() % 20)
        if s.burstLeft > 0 { volume *= 12; s.burstLeft -= 1 }
        let tickSize = 0.01
        let price = (s.price / tickSize).rounded() * tickSize
        var halfSpread = max(tickSize, price * 0.0002)
        if s.wideLeft > 0 { halfSpread = price * 0.006; s.wideLeft -= 1 }
        let bid = ((price - halfSpread) / tickSize).rounded() * tickSize
        let ask = ((price + halfSpread) / tickSize).rounded() * tickSize
        let tick = Tick(symbol: inst.symbol, ts: ts, price: price, volume: volume, bid: bid, ask: ask)
        if lateTick == nil && rng.unit() < 0.0005 {
            var late = tick
            late.ts -= 1500
            lateTick = late
        }
        s.lastTs = ts
        states[i] = s
        return tick
    }

    private mutating func switchRegime(_ i: Int) {
        let ticksPerSymbolPerSecond = max(1, ticksPerSecond / instruments.count)
        let seconds = 6 + Int(rng.next() % 14)
        states[i].regime = Regime(rawValue: Int(rng.next() % 4)) ?? .choppy
        states[i].regimeLeft = seconds * ticksPerSymbolPerSecond
        states[i].anchor = states[i].price
    }
}

/// SplitMix64: tiny, fast, good enough for simulation, identical on every platform.
struct SplitMix64: Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Double {
        let u = max(unit(), 1e-300)
        let v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

#if canImport(Glibc)
import Glibc
#endif
