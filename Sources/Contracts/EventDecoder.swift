/// Reads back what `PipelineEvent.envelope` writes: `{"type","seq"?,"instance"?,"payload"}` in
/// any key order, with the project's own scanner (no Foundation, no intermediate tree). Used for
/// journal records (recovery, resumes, Redis catch-up) and for peers' events over Redis.
public enum EventDecoder {
    /// An envelope's event and the instance that made it (nil when untagged).
    public struct Decoded: Sendable {
        public var event: PipelineEvent
        public var instance: String?
    }

    /// nil when `bytes` is not an event envelope of a known type with every required field.
    public static func decode(_ bytes: [UInt8]) -> Decoded? {
        bytes.withUnsafeBufferPointer { decode($0) }
    }

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> Decoded? {
        var scanner = JSONScanner(bytes)
        return try? envelope(&scanner)
    }

    private static func envelope(_ s: inout JSONScanner) throws(JSONScanner.SyntaxError) -> Decoded? {
        var type: String?
        var instance: String?
        var payloadAt: Int?
        try s.object { key, s throws(JSONScanner.SyntaxError) in
            switch key {
            case "type": type = try s.optionalString()
            case "instance": instance = try s.optionalString()
            case "payload":
                s.skipWhitespace()
                payloadAt = s.position
                try s.skipValue()
            default: try s.skipValue()
            }
        }
        s.skipWhitespace()
        guard s.atEnd, let type, let payloadAt else { return nil }
        var p = JSONScanner(s.bytes, position: payloadAt)
        guard let event = try payload(type: type, &p) else { return nil }
        return Decoded(event: event, instance: instance)
    }

    private static func payload(type: String, _ s: inout JSONScanner) throws(JSONScanner.SyntaxError) -> PipelineEvent? {
        switch type {
        case "tick":
            guard case .success(let tick) = try TickObject.decode(&s) else { return nil }
            return .tick(tick)
        case "signal": return try signal(&s).map(PipelineEvent.signal)
        case "opportunity": return try opportunity(&s).map(PipelineEvent.opportunity)
        case "risk_alert": return try alert(&s).map(PipelineEvent.alert)
        default: return nil
        }
    }

    private static func signal(_ s: inout JSONScanner) throws(JSONScanner.SyntaxError) -> StrategySignal? {
        var f = Fields()
        try s.object { key, s throws(JSONScanner.SyntaxError) in try f.read(key, &s) }
        guard let seq = f.seq, let ts = f.ints["ts"], let symbol = f.strings["symbol"], let strategy = f.strings["strategy"],
              let direction = f.strings["direction"].flatMap(Direction.init), let strength = f.numbers["strength"],
              let price = f.numbers["price"] else { return nil }
        return StrategySignal(seq: seq, ts: ts, symbol: symbol, strategy: strategy, direction: direction,
                              strength: strength, price: price, reason: f.strings["reason"] ?? "")
    }

    private static func opportunity(_ s: inout JSONScanner) throws(JSONScanner.SyntaxError) -> Opportunity? {
        var f = Fields()
        var riskStatus: RiskStatus?
        var riskAlerts: [String] = []
        try s.object { key, s throws(JSONScanner.SyntaxError) in
            guard key == "risk" else { return try f.read(key, &s) }
            try s.object { key, s throws(JSONScanner.SyntaxError) in
                switch key {
                case "status": riskStatus = try s.optionalString().flatMap(RiskStatus.init)
                case "alerts": riskAlerts = try s.strings()
                default: try s.skipValue()
                }
            }
        }
        guard let seq = f.seq, let id = f.strings["id"], let symbol = f.strings["symbol"],
              let direction = f.strings["direction"].flatMap(Direction.init),
              let status = f.strings["status"].flatMap(OpportunityStatus.init), let confidence = f.numbers["confidence"],
              let price = f.numbers["price"], let count = f.ints["signal_count"], let created = f.ints["created_ts"],
              let updated = f.ints["updated_ts"], let expires = f.ints["expires_ts"], let riskStatus else { return nil }
        return Opportunity(seq: seq, id: id, symbol: symbol, direction: direction, status: status, confidence: confidence,
                           price: price, strategies: f.lists["strategies"] ?? [], signalCount: Int(count),
                           createdTs: created, updatedTs: updated, expiresTs: expires, riskStatus: riskStatus,
                           riskAlerts: riskAlerts, untradable: f.strings["untradable"])
    }

    private static func alert(_ s: inout JSONScanner) throws(JSONScanner.SyntaxError) -> RiskAlert? {
        var f = Fields()
        try s.object { key, s throws(JSONScanner.SyntaxError) in try f.read(key, &s) }
        guard let seq = f.seq, let ts = f.ints["ts"], let kind = f.strings["kind"],
              let severity = f.strings["severity"].flatMap(RiskSeverity.init), let value = f.numbers["value"],
              let threshold = f.numbers["threshold"] else { return nil }
        return RiskAlert(seq: seq, ts: ts, symbol: f.strings["symbol"], kind: kind, severity: severity,
                         message: f.strings["message"] ?? "", value: value, threshold: threshold)
    }

    /// A payload's scalar fields by JSON kind. A number written as `null` (the encoder's form
    /// of a non-finite value) reads back as NaN.
    private struct Fields {
        var strings: [String: String] = [:]
        var ints: [String: Int64] = [:]
        var numbers: [String: Double] = [:]
        var lists: [String: [String]] = [:]

        var seq: UInt64? { ints["seq"].flatMap { $0 > 0 ? UInt64($0) : nil } }

        mutating func read(_ key: String, _ s: inout JSONScanner) throws(JSONScanner.SyntaxError) {
            s.skipWhitespace()
            switch s.peek {
            case UInt8(ascii: "\"")?: strings[key] = s.text(try s.string())
            case UInt8(ascii: "n")?:
                try s.literal("null")
                numbers[key] = .nan
            case UInt8(ascii: "[")?: lists[key] = try s.strings()
            case let c? where c == UInt8(ascii: "-") || (c >= 48 && c <= 57):
                let text = UnsafeBufferPointer(rebasing: s.bytes[try s.numberRange()])
                if let i = TickFields.integer(text) { ints[key] = i }
                if let d = DecimalParser.parse(text) { numbers[key] = d }
            default: try s.skipValue()
            }
        }
    }
}

extension JSONScanner {
    /// Calls `body` with each key of an object, the scanner at its value; `body` must consume
    /// the value.
    mutating func object(_ body: (String, inout JSONScanner) throws(SyntaxError) -> Void) throws(SyntaxError) {
        try expect(UInt8(ascii: "{"))
        if take(UInt8(ascii: "}")) { return }
        repeat {
            let key = text(try string())
            try expect(UInt8(ascii: ":"))
            try body(key, &self)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// A string value, or nil (consumed) when the value is of another kind.
    mutating func optionalString() throws(SyntaxError) -> String? {
        skipWhitespace()
        guard peek == UInt8(ascii: "\"") else {
            try skipValue()
            return nil
        }
        return text(try string())
    }

    /// An array's string elements (others skipped); a lone string reads as one element.
    mutating func strings() throws(SyntaxError) -> [String] {
        skipWhitespace()
        if peek == UInt8(ascii: "\"") { return [text(try string())] }
        guard take(UInt8(ascii: "[")) else {
            try skipValue()
            return []
        }
        var out: [String] = []
        if take(UInt8(ascii: "]")) { return out }
        repeat {
            if let s = try optionalString() { out.append(s) }
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
        return out
    }
}
