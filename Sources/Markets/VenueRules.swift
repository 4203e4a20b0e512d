import Contracts

extension MarketDirectory {
    /// Why a tick breaks its venue's rules — a price, bid or ask off the venue's tick grid, a
    /// volume not in whole lots where lots are enforced — naming the field; nil when it does not
    /// (and always when markets are off).
    public func violation(_ tick: Tick) -> TickFieldError? {
        guard enabled else { return nil }
        return violation(tick, profile(for: tick.symbol))
    }

    func violation(_ tick: Tick, _ p: MarketProfile) -> TickFieldError? {
        if let grid = p.tickSize {
            for (field, price) in [("price", tick.price), ("bid", tick.bid), ("ask", tick.ask)] {
                guard let price, !grid.isOnGrid(price) else { continue }
                return TickFieldError(field: field, message: "\(price) is not on \(p.venue)'s price grid (steps of \(grid.size(at: price)))")
            }
        }
        if p.enforceLots, let lot = p.lotSize, tick.volume != 0 {
            let lots = tick.volume / lot
            if abs(lots - lots.rounded()) > 1e-9 {
                return TickFieldError(field: "volume", message: "\(tick.volume) is not a whole number of \(p.venue) lots of \(lot)")
            }
        }
        return nil
    }

    /// Moves the ticks of a decoded batch that break their venue's rules to `rejected`, at
    /// their place in the batch (`rejected` holds the batch's other refusals by index; the
    /// accepted ticks are the remaining indices in order).
    public func screen(_ ticks: inout [Tick], _ rejected: inout [TickRejection]) {
        guard enabled, !ticks.isEmpty else { return }
        var profiles: [String: MarketProfile] = [:]
        let refused = Set(rejected.map(\.index))
        var kept: [Tick] = []
        kept.reserveCapacity(ticks.count)
        var index = 0
        var added = false
        for tick in ticks {
            while refused.contains(index) { index += 1 }
            let profile = profiles[tick.symbol] ?? {
                let p = self.profile(for: tick.symbol)
                profiles[tick.symbol] = p
                return p
            }()
            if let problem = violation(tick, profile) {
                rejected.append(TickRejection(index: index, field: problem.field, message: problem.message))
                added = true
            } else {
                kept.append(tick)
            }
            index += 1
        }
        guard added else { return }
        ticks = kept
        rejected.sort { $0.index < $1.index }
    }
}
