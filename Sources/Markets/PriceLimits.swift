import Contracts

/// A symbol's reference data: its previous close (before the feed shows one) and whether it is
/// under special treatment (A-share ST: ±5 % limits).
public struct SymbolReference: Sendable, Equatable {
    public var previousClose: Double?
    public var specialTreatment = false
    public init(previousClose: Double? = nil, specialTreatment: Bool = false) {
        self.previousClose = previousClose
        self.specialTreatment = specialTreatment
    }
}

/// A trading day's price band: the highest and lowest price allowed, from the previous close.
public struct PriceBand: Sendable, Equatable {
    public let up: Double
    public let down: Double
    public let previousClose: Double
    public let fraction: Double

    /// Within `near` (a fraction of the previous close) of the up-limit, or at or above it.
    public func nearUp(_ price: Double, near: Double) -> Bool { price >= up - near * previousClose }
    public func nearDown(_ price: Double, near: Double) -> Bool { price <= down + near * previousClose }
}

extension MarketDirectory {
    /// The daily limit of a symbol as a fraction of the previous close; nil when its venue has
    /// none. A-shares: ±10 % main board, ±20 % STAR (688…, 689…) and ChiNext (300…, 301…), ±30 %
    /// Beijing, ±5 % ST (reference data).
    public func limitFraction(_ symbol: String) -> Double? {
        guard enabled else { return nil }
        let p = profile(for: symbol)
        switch p.limits {
        case .none: return nil
        case .fraction(let f): return f
        case .aShare:
            if reference[symbol]?.specialTreatment == true { return 0.05 }
            if p.venue == "BSE" { return 0.30 }
            let code = symbol.prefix { $0 != "." }
            if code.hasPrefix("688") || code.hasPrefix("689") || code.hasPrefix("300") || code.hasPrefix("301") { return 0.20 }
            return 0.10
        }
    }

    /// The band of a trading day whose previous close is `previousClose`: the limits rounded to
    /// the venue's price grid (half up, as the exchanges publish them).
    public func band(_ symbol: String, previousClose: Double) -> PriceBand? {
        guard let f = limitFraction(symbol), previousClose > 0 else { return nil }
        let step = profile(for: symbol).tickSize?.size(at: previousClose) ?? 0.01
        // Whole steps, half up; divided by the steps per unit when that is a whole number (0.01 →
        // 100), so 185735 steps read 1857.35 exactly as written, not 1857.3500000000001.
        let perUnit = (1 / step).rounded()
        func round(_ x: Double) -> Double {
            let k = ((x / step) + 0.5 + 1e-9).rounded(.down)
            return abs(perUnit * step - 1) < 1e-12 ? k / perUnit : k * step
        }
        return PriceBand(up: round(previousClose * (1 + f)), down: round(previousClose * (1 - f)), previousClose: previousClose,
                         fraction: f)
    }
}
