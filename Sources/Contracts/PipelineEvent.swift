/// An engine output as it travels to consumers (reactor loops, journal).
public enum PipelineEvent: Sendable {
    case tick(Tick)
    case bar(Bar)
    /// Boxed: a features snapshot is the largest payload (sixteen optional figures), and an
    /// inline one would make every event — ring slots, batches, copies — that size.
    indirect case features(Features)
    case signal(StrategySignal)
    case opportunity(Opportunity)
    case alert(RiskAlert)

    /// The JSON envelope clients receive: `{"type","payload"}`, plus `"seq"` for sequenced events;
    /// `instance` (multi-instance fan-out) names the gateway that made it.
    public func envelope(_ w: inout JSONWriter, instance: String? = nil) {
        var payloadAt = 0
        envelope(&w, instance: instance, payloadAt: &payloadAt)
    }

    /// The envelope, and where its payload object starts in `w.bytes` (it ends one byte before
    /// the envelope does): a payload encoded once serves the journal and the query store.
    public func envelope(_ w: inout JSONWriter, instance: String? = nil, payloadAt: inout Int) {
        w.beginObject()
        w.string("type", channel.eventType)
        if let seq { w.uint64("seq", seq) }
        if let instance { w.string("instance", instance) }
        payloadAt = w.bytes.count + Self.payloadKey.count
        switch self {
        case .tick(let t): EventEncoder.payload(t, &w, key: "payload")
        case .bar(let b): EventEncoder.payload(b, &w, key: "payload")
        case .features(let f): EventEncoder.payload(f, &w, key: "payload")
        case .signal(let s): EventEncoder.payload(s, &w, key: "payload")
        case .opportunity(let o): EventEncoder.payload(o, &w, key: "payload")
        case .alert(let a): EventEncoder.payload(a, &w, key: "payload")
        }
        w.endObject()
    }

    /// What comes before the payload object: the comma after the fields before it, and its key.
    private static let payloadKey = Array(#","payload":"#.utf8)

    /// The channel this event travels on.
    public var channel: Channel {
        switch self {
        case .tick: .ticks
        case .bar: .bars
        case .features: .features
        case .signal: .signals
        case .opportunity: .opportunities
        case .alert: .riskAlerts
        }
    }

    /// The symbol it concerns; nil for market-wide alerts.
    public var symbol: String? {
        switch self {
        case .tick(let t): t.symbol
        case .bar(let b): b.symbol
        case .features(let f): f.symbol
        case .signal(let s): s.symbol
        case .opportunity(let o): o.symbol
        case .alert(let a): a.symbol
        }
    }

    /// The sequence number of sequenced events (signals, opportunities, alerts).
    public var seq: UInt64? {
        switch self {
        case .signal(let s): s.seq
        case .opportunity(let o): o.seq
        case .alert(let a): a.seq
        default: nil
        }
    }
}
