/// The streams a client can subscribe to (WebSocket `channels`, `dongfeng watch`, `dongfeng
/// replay --emit`), and the event `type` each carries. The raw value is the name on the wire.
public enum Channel: String, CaseIterable, Sendable, Comparable {
    case opportunities
    case signals
    case riskAlerts = "risk_alerts"
    case ticks
    case bars
    case features

    /// The `type` of the events on this channel.
    public var eventType: String {
        switch self {
        case .opportunities: "opportunity"
        case .signals: "signal"
        case .riskAlerts: "risk_alert"
        case .ticks: "tick"
        case .bars: "bar"
        case .features: "features"
        }
    }

    /// Sequenced channels carry a `seq` a client resumes from; the others are lossy snapshots.
    public var isSequenced: Bool { self == .opportunities || self == .signals || self == .riskAlerts }

    /// The channel whose events have this `type`.
    public init?(eventType: String) {
        guard let channel = Channel.allCases.first(where: { $0.eventType == eventType }) else { return nil }
        self = channel
    }

    /// Every channel name, sorted, for error messages: "bars, features, …".
    public static var names: String { allCases.map(\.rawValue).sorted().joined(separator: ", ") }

    public static func < (a: Channel, b: Channel) -> Bool { a.rawValue < b.rawValue }
}
