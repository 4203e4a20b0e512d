public enum Direction: String, Sendable, Equatable, CaseIterable {
    case long, short
    public var opposite: Direction { self == .long ? .short : .long }
}

/// A strategy's view on one bar (docs/CONTRACTS.md, "Strategy signal").
public struct StrategySignal: Sendable, Equatable {
    public var seq: UInt64
    public var ts: Int64
    public var symbol: String
    public var strategy: String
    public var direction: Direction
    /// 0…1.
    public var strength: Double
    public var price: Double
    public var reason: String

    public init(seq: UInt64 = 0, ts: Int64, symbol: String, strategy: String, direction: Direction, strength: Double,
                price: Double, reason: String) {
        self.seq = seq
        self.ts = ts
        self.symbol = symbol
        self.strategy = strategy
        self.direction = direction
        self.strength = strength
        self.price = price
        self.reason = reason
    }
}

public enum OpportunityStatus: String, Sendable, Equatable { case new, updated, expired, blocked }
public enum RiskStatus: String, Sendable, Equatable { case ok, warn, blocked }

/// One (symbol, direction) episode; every state change is a new event with a new `seq`.
public struct Opportunity: Sendable, Equatable {
    public var seq: UInt64
    public var id: String
    public var symbol: String
    public var direction: Direction
    public var status: OpportunityStatus
    public var confidence: Double
    public var price: Double
    public var strategies: [String]
    public var signalCount: Int
    public var createdTs: Int64
    public var updatedTs: Int64
    public var expiresTs: Int64
    public var riskStatus: RiskStatus
    public var riskAlerts: [String]
    /// "limit_up" (a long at or near the daily up-limit) or "limit_down" (a short at or near the
    /// down-limit): the order could not be filled; nil when tradable (docs/MARKETS.md).
    public var untradable: String?

    public init(seq: UInt64, id: String, symbol: String, direction: Direction, status: OpportunityStatus,
                confidence: Double, price: Double, strategies: [String], signalCount: Int, createdTs: Int64,
                updatedTs: Int64, expiresTs: Int64, riskStatus: RiskStatus = .ok, riskAlerts: [String] = [],
                untradable: String? = nil) {
        self.seq = seq
        self.id = id
        self.symbol = symbol
        self.direction = direction
        self.status = status
        self.confidence = confidence
        self.price = price
        self.strategies = strategies
        self.signalCount = signalCount
        self.createdTs = createdTs
        self.updatedTs = updatedTs
        self.expiresTs = expiresTs
        self.riskStatus = riskStatus
        self.riskAlerts = riskAlerts
        self.untradable = untradable
    }
}

public enum RiskSeverity: String, Sendable, Equatable { case info, warning, critical }

public struct RiskAlert: Sendable, Equatable {
    public var seq: UInt64
    public var ts: Int64
    /// nil for market-wide alerts (global signal rate).
    public var symbol: String?
    /// stale_feed, price_jump, volatility_spike, signal_rate, wide_spread, out_of_order, off_session.
    public var kind: String
    public var severity: RiskSeverity
    public var message: String
    public var value: Double
    public var threshold: Double

    public init(seq: UInt64 = 0, ts: Int64, symbol: String?, kind: String, severity: RiskSeverity, message: String,
                value: Double, threshold: Double) {
        self.seq = seq
        self.ts = ts
        self.symbol = symbol
        self.kind = kind
        self.severity = severity
        self.message = message
        self.value = value
        self.threshold = threshold
    }
}
