/// JSON for every contract type, field names exactly as docs/CONTRACTS.md, "Data contract",
/// without Foundation. Payloads are written into a caller's `JSONWriter` so hot paths can reuse
/// one buffer.
public enum EventEncoder {
    public static func payload(_ bar: Bar, _ w: inout JSONWriter, key: String? = nil) {
        w.beginObject(key)
        w.string("symbol", bar.symbol)
        w.string("interval", bar.interval)
        w.int64("start", bar.start)
        w.double("open", bar.open)
        w.double("high", bar.high)
        w.double("low", bar.low)
        w.double("close", bar.close)
        w.double("volume", bar.volume)
        w.double("vwap", bar.vwap)
        w.int("trades", bar.trades)
        w.endObject()
    }

    public static func payload(_ f: Features, _ w: inout JSONWriter, key: String? = nil) {
        w.beginObject(key)
        w.string("symbol", f.symbol)
        w.string("interval", f.interval)
        w.int64("ts", f.ts)
        w.double("close", f.close)
        for (name, value) in f.fields { w.optionalDouble(name, value) }
        w.endObject()
    }

    public static func payload(_ t: Tick, _ w: inout JSONWriter, key: String? = nil) {
        w.beginObject(key)
        w.string("symbol", t.symbol)
        w.int64("ts", t.ts)
        w.double("price", t.price)
        w.double("volume", t.volume)
        if let bid = t.bid { w.double("bid", bid) }
        if let ask = t.ask { w.double("ask", ask) }
        w.endObject()
    }

    /// `extra` writes fields of its own after the contract's (REST adds a signal's outcome).
    public static func payload(_ s: StrategySignal, _ w: inout JSONWriter, key: String? = nil,
                               extra: ((inout JSONWriter) -> Void)? = nil) {
        w.beginObject(key)
        w.uint64("seq", s.seq)
        w.int64("ts", s.ts)
        w.string("symbol", s.symbol)
        w.string("strategy", s.strategy)
        w.string("direction", s.direction.rawValue)
        w.double("strength", s.strength)
        w.double("price", s.price)
        w.string("reason", s.reason)
        extra?(&w)
        w.endObject()
    }

    public static func payload(_ o: Opportunity, _ w: inout JSONWriter, key: String? = nil) {
        w.beginObject(key)
        w.uint64("seq", o.seq)
        w.string("id", o.id)
        w.string("symbol", o.symbol)
        w.string("direction", o.direction.rawValue)
        w.string("status", o.status.rawValue)
        w.double("confidence", o.confidence)
        w.double("price", o.price)
        w.beginArray("strategies")
        for s in o.strategies { w.string(nil, s) }
        w.endArray()
        w.int("signal_count", o.signalCount)
        w.int64("created_ts", o.createdTs)
        w.int64("updated_ts", o.updatedTs)
        w.int64("expires_ts", o.expiresTs)
        w.beginObject("risk")
        w.string("status", o.riskStatus.rawValue)
        w.beginArray("alerts")
        for a in o.riskAlerts { w.string(nil, a) }
        w.endArray()
        w.endObject()
        w.string("untradable", o.untradable)
        w.endObject()
    }

    public static func payload(_ a: RiskAlert, _ w: inout JSONWriter, key: String? = nil) {
        w.beginObject(key)
        w.uint64("seq", a.seq)
        w.int64("ts", a.ts)
        w.string("symbol", a.symbol)
        w.string("kind", a.kind)
        w.string("severity", a.severity.rawValue)
        w.string("message", a.message)
        w.double("value", a.value)
        w.double("threshold", a.threshold)
        w.endObject()
    }

    /// `{"type":…,"payload":{…}}` for unsequenced channels (tick, bar, features).
    public static func envelope(type: String, _ w: inout JSONWriter, _ body: (inout JSONWriter) -> Void) {
        w.beginObject()
        w.string("type", type)
        body(&w)
        w.endObject()
    }

    /// `{"type":…,"seq":N,"payload":{…}}` for sequenced events (signal, opportunity, risk_alert).
    public static func sequencedEnvelope(type: String, seq: UInt64, _ w: inout JSONWriter, _ body: (inout JSONWriter) -> Void) {
        w.beginObject()
        w.string("type", type)
        w.uint64("seq", seq)
        body(&w)
        w.endObject()
    }

    /// `"rejected":[{"index","error","field"?}]`: the refused ticks of an ingest answer (REST
    /// 202 and the WebSocket `ack` write the same list).
    public static func rejected(_ list: [TickRejection], _ w: inout JSONWriter) {
        w.beginArray("rejected")
        for r in list {
            w.beginObject()
            w.int("index", r.index)
            w.string("error", r.description)
            if let field = r.field { w.string("field", field) }
            w.endObject()
        }
        w.endArray()
    }
}
