import Contracts
import Markets

/// The embedded default feed: A-share, Hong Kong and US stocks and a crypto pair whose prices
/// follow geometric Brownian motion at realistic annualised volatilities (15–60 %), with regime
/// switches (trend up, trend down, choppy, turbulent), a few jumps an hour, gaps at the open,
/// U-shaped intraday volume, rare volume bursts, spread blow-outs and late (out-of-order) ticks.
/// On venue clocks (`markets`) a symbol trades only in its sessions, on its price grid, in whole
/// lots and inside its daily limits; the market sleeps when every venue is closed. Deterministic
/// for a seed: `next()` gives the same ticks, market time advancing `1000 / ticksPerSecond` ms per
/// tick from `startMs` (jumping to the next open when nothing trades); the live feed paces them on
/// the wall clock.
public struct MarketSimulator: Sendable {
    public struct Instrument: Sendable {
        public let symbol: String
        public let price: Double
        /// Annualised volatility of log returns (0.25 = 25 %).
        public let volatility: Double
        /// Shares per order lot (volumes are whole lots).
        public let lot: Double

        public init(symbol: String, price: Double, volatility: Double, lot: Double) {
            self.symbol = symbol
            self.price = price
            self.volatility = volatility
            self.lot = lot
        }
    }

    public static let defaultInstruments: [Instrument] = [
        Instrument(symbol: "600519.SH", price: 1688.50, volatility: 0.22, lot: 100),
        Instrument(symbol: "000001.SZ", price: 10.52, volatility: 0.25, lot: 100),
        Instrument(symbol: "300750.SZ", price: 180.30, volatility: 0.45, lot: 100),
        Instrument(symbol: "601318.SH", price: 42.15, volatility: 0.25, lot: 100),
        Instrument(symbol: "000858.SZ", price: 128.60, volatility: 0.30, lot: 100),
        Instrument(symbol: "600036.SH", price: 33.48, volatility: 0.20, lot: 100),
        Instrument(symbol: "002594.SZ", price: 238.90, volatility: 0.42, lot: 100),
        Instrument(symbol: "688981.SH", price: 47.62, volatility: 0.55, lot: 100),
    ]

    /// Beside the A-shares when markets are on (`simulator.symbols = "*"`): Hong Kong, New York
    /// and a pair that never closes.
    public static let otherMarkets: [Instrument] = [
        Instrument(symbol: "0700.HK", price: 380.20, volatility: 0.35, lot: 100),
        Instrument(symbol: "9988.HK", price: 82.15, volatility: 0.40, lot: 100),
        Instrument(symbol: "AAPL", price: 190.12, volatility: 0.25, lot: 1),
        Instrument(symbol: "MSFT", price: 415.30, volatility: 0.22, lot: 1),
        Instrument(symbol: "NVDA", price: 121.40, volatility: 0.55, lot: 1),
        Instrument(symbol: "BTC-USDT", price: 90_125.50, volatility: 0.60, lot: 0.001),
    ]

    enum Regime: Int { case up, down, choppy, turbulent }

    struct State: Sendable {
        var price: Double
        var anchor: Double
        var regime: Regime
        var regimeLeft: Int
        var burstLeft = 0
        var wideLeft = 0
        var lastTs: Int64 = .min
        /// The trading day of the last tick, its last price, and the day before's (the limits').
        var day: Int64 = .min
        var dayClose: Double?
        var previousClose: Double?
        var clock: SessionClock
    }

    public let instruments: [Instrument]
    public let ticksPerSecond: Int
    public let markets: MarketDirectory
    private var states: [State]
    private var rng: SplitMix64
    private var ts: Int64
    private var baseMs: Int64 = 0
    private var tsMicros: Int64 = 0
    private var counter = 0
    private var lateTick: Tick?

    public init(instruments: [Instrument] = defaultInstruments, ticksPerSecond: Int = 200, seed: UInt64 = 20_241_125,
                startMs: Int64, markets: MarketDirectory = .off) {
        precondition(!instruments.isEmpty && ticksPerSecond > 0)
        self.instruments = instruments
        self.ticksPerSecond = ticksPerSecond
        self.markets = markets
        rng = SplitMix64(seed: seed)
        ts = startMs
        baseMs = startMs
        states = instruments.map {
            State(price: $0.price, anchor: $0.price, regime: .choppy, regimeLeft: 0,
                  clock: SessionClock(profile: markets.profile(for: $0.symbol), interval: BarInterval("1m")!))
        }
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
        // A symbol whose venue trades now: a random one, or the next open one after it.
        var i = Int(rng.next() % UInt64(instruments.count))
        var tries = 0
        while !states[i].clock.isOpen(ts) {
            tries += 1
            i = (i + 1) % instruments.count
            if tries == instruments.count {
                // Every venue is closed: market time moves on a minute, until one opens.
                tsMicros += 60_000_000
                ts = baseMs + tsMicros / 1000
                tries = 0
            }
        }
        let inst = instruments[i]
        var s = states[i]
        let profile = s.clock.profile
        var open = 0
        for k in states.indices where states[k].clock.isOpen(ts) { open += 1 }
        let perSymbolRate = max(0.05, Double(ticksPerSecond) / Double(max(1, open)))
        // σ of one tick: the annual σ over the trading seconds of a year, times √(time per tick).
        let tradingSeconds = profile.isAlwaysOpen && profile.venue != "NONE" ? 365.0 * 86_400 : 252.0 * 6.5 * 3600
        let sigma = inst.volatility * (1 / perSymbolRate / tradingSeconds).squareRoot()
        // A new trading day (or session) opens with a gap.
        let slot = s.clock.slot(ts)
        let day = slot?.tradingDay ?? CivilDate.floorDivide(ts, 86_400_000).quotient
        var gap = 0.0
        if s.day != .min, day != s.day {
            s.previousClose = s.dayClose
            gap = inst.volatility * (1.0 / 252).squareRoot() * 0.5 * rng.gaussian()
        } else if s.lastTs != .min, ts - s.lastTs > 20 * 60_000, !profile.isAlwaysOpen {
            gap = inst.volatility * (1.0 / 252).squareRoot() * 0.15 * rng.gaussian()  // after lunch
        }
        s.day = day
        var drift = 0.0
        var scale = 1.0
        switch s.regime {
        case .up: drift = 0.35 * sigma
        case .down: drift = -0.35 * sigma
        case .choppy: drift = 0.02 * (s.anchor / s.price - 1)   // pulled back to its anchor
        case .turbulent: scale = 2.5
        }
        var r = gap + drift + scale * sigma * rng.gaussian()
        // A few jumps an hour per symbol, of 0.5–2 %.
        if rng.unit() < 1 / (perSymbolRate * 900) { r += (rng.unit() < 0.5 ? -1 : 1) * (0.005 + 0.015 * rng.unit()) }
        s.price = max(0.01, s.price * (1 + r))
        // Inside the day's limits, where the venue has them.
        if let previous = s.previousClose, let band = markets.band(inst.symbol, previousClose: previous) {
            s.price = min(band.up, max(band.down, s.price))
        }
        s.regimeLeft -= 1
        if s.regimeLeft <= 0 { states[i] = s; switchRegime(i); s = states[i] }
        if s.burstLeft == 0 && rng.unit() < 1 / (perSymbolRate * 120) { s.burstLeft = Int(perSymbolRate * 2) + 1 }
        if s.wideLeft == 0 && rng.unit() < 1 / (perSymbolRate * 600) { s.wideLeft = 2 }
        // U-shaped volume: heavy at the open and into the close.
        var shape = 1.0
        if let slot, !profile.isAlwaysOpen, let session = profile.sessions.last {
            let sinceOpen = Double(ts - slot.start) / 60_000
            let closeMs = markets.enabled ? s.clock.profile.timeZone.utc(fromLocal: day * 86_400 + Int64(session.end) * 60) * 1000 : ts
            let toClose = Double(max(0, closeMs - ts)) / 60_000
            shape = 1 + 2 * exp(-sinceOpen / 20) + 1.5 * exp(-toClose / 20)
        }
        var volume = inst.lot * (1 + Double(rng.next() % 20)) * shape.rounded(.down)
        if s.burstLeft > 0 { volume *= 12; s.burstLeft -= 1 }
        if inst.lot < 1 { volume = (volume / inst.lot).rounded() * inst.lot }
        let grid = profile.tickSize ?? .fixed(0.01)
        func onGrid(_ x: Double) -> Double {
            let step = grid.size(at: x)
            let perUnit = (1 / step).rounded()
            let k = (x / step).rounded()
            return abs(perUnit * step - 1) < 1e-12 ? k / perUnit : k * step
        }
        let price = onGrid(s.price)
        let step = grid.size(at: price)
        var halfSpread = max(step, price * 0.0002)
        if s.wideLeft > 0 { halfSpread = price * 0.006; s.wideLeft -= 1 }
        let bid = onGrid(price - halfSpread)
        let ask = onGrid(price + halfSpread)
        let tick = Tick(symbol: inst.symbol, ts: ts, price: price, volume: volume, bid: bid, ask: ask)
        if lateTick == nil && rng.unit() < 0.00005 {
            var late = tick
            late.ts -= 1500
            lateTick = late
        }
        s.lastTs = ts
        s.dayClose = price
        states[i] = s
        return tick
    }

    private mutating func switchRegime(_ i: Int) {
        let ticksPerSymbolPerSecond = max(1, ticksPerSecond / instruments.count)
        let seconds = 20 + Int(rng.next() % 100)
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
