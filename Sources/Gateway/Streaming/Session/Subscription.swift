import Contracts

/// What a client subscribed to: channels, an optional symbol filter, and a confidence floor for
/// opportunities.
struct Subscription: Equatable {
    var channels: Set<Channel> = []
    /// nil = every symbol.
    var symbols: Set<String>?
    var minConfidence = 0.0

    func wants(_ event: PipelineEvent) -> Bool {
        guard channels.contains(event.channel) else { return false }
        if case .opportunity(let o) = event, o.confidence < minConfidence { return false }
        // Market-wide alerts (no symbol) reach every alert subscriber.
        guard let symbols, let symbol = event.symbol else { return true }
        return symbols.contains(symbol)
    }

    /// Adds a `subscribe` request: channels join (none named: `defaultChannel`), symbols and
    /// the confidence floor replace when given ("*" = every symbol).
    mutating func apply(_ request: SubscriptionRequest, defaultChannel: Channel? = .opportunities) {
        if request.channels.isEmpty {
            if let defaultChannel { channels.insert(defaultChannel) }
        } else {
            channels.formUnion(request.channels)
        }
        if let symbols = request.symbols { self.symbols = symbols.contains("*") ? nil : symbols }
        if let minConfidence = request.minConfidence { self.minConfidence = minConfidence }
    }
}
