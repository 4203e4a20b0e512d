/// The one set of tick rules every ingest path applies: REST (JSON, NDJSON, CSV), the WebSocket
/// `ticks` op, Redis stream entries and replay files all fill a `TickFields` and take its
/// `tick()`, so a tick is accepted or refused, with the same field and message, wherever it
/// comes from. The syntaxes differ only in how a value's text is found: JSON values go through
/// `TickObject`, text cells (CSV columns, Redis fields) through `setText`.
public struct TickFields: Sendable {
    public enum Field: Int, CaseIterable, Sendable {
        case symbol, ts, price, volume, bid, ask

        public var name: String {
            switch self {
            case .symbol: "symbol"
            case .ts: "ts"
            case .price: "price"
            case .volume: "volume"
            case .bid: "bid"
            case .ask: "ask"
            }
        }

        /// The field a key names; nil for keys a tick does not use (feeds carry extras).
        public init?(key: UnsafeBufferPointer<UInt8>) {
            switch key.count {
            case 2 where key[0] == UInt8(ascii: "t") && key[1] == UInt8(ascii: "s"): self = .ts
            case 3 where key.elementsEqual("bid".utf8): self = .bid
            case 3 where key.elementsEqual("ask".utf8): self = .ask
            case 5 where key.elementsEqual("price".utf8): self = .price
            case 6 where key.elementsEqual("symbol".utf8): self = .symbol
            case 6 where key.elementsEqual("volume".utf8): self = .volume
            default: return nil
            }
        }

        public init?(key: String) {
            var copy = key
            guard let field = copy.withUTF8({ Field(key: $0) }) else { return nil }
            self = field
        }
    }

    private var symbol: String?
    private var ts: Int64?
    private var price: Double?
    private var volume: Double?
    private var bid: Double?
    private var ask: Double?
    private var seen = 0
    /// The first problem met; later ones are not reported (one reason per tick).
    private var problem: TickFieldError?

    public init() {}

    /// Records a problem with `field` (kept only when it is the first).
    public mutating func fail(_ field: Field, _ message: String) {
        if problem == nil { problem = TickFieldError(field: field.name, message: message) }
    }

    /// Marks `field` as given: a field given twice is refused.
    public mutating func arrive(_ field: Field) {
        if seen & (1 << field.rawValue) != 0 { fail(field, "appears twice") }
        seen |= 1 << field.rawValue
    }

    public mutating func setSymbol(_ value: String) { symbol = value }

    /// `ts` from integer milliseconds text.
    public mutating func setMilliseconds(_ text: UnsafeBufferPointer<UInt8>) {
        if let v = Self.integer(text) { ts = v }
        else { fail(.ts, "must be integer milliseconds since 1970-01-01 UTC or an ISO-8601 string") }
    }

    /// `ts` from ISO-8601 text with an offset.
    public mutating func setISO8601(_ text: UnsafeBufferPointer<UInt8>) {
        switch Timestamp.parseISO8601(text) {
        case .success(let v): ts = v
        case .failure(let e): if problem == nil { problem = e }
        }
    }

    /// A price, volume, bid or ask from decimal text; nil clears an optional quote.
    public mutating func setNumber(_ field: Field, _ value: Double?) {
        switch field {
        case .price: price = value
        case .volume: volume = value
        case .bid: bid = value
        case .ask: ask = value
        case .symbol, .ts: break
        }
    }

    /// A field from a text cell (a CSV column, a Redis stream field), surrounding blanks
    /// trimmed: `ts` is integer milliseconds or ISO-8601; numbers are decimal text; an empty
    /// bid or ask is absent, any other empty cell is refused.
    public mutating func setText(_ field: Field, _ raw: UnsafeBufferPointer<UInt8>) {
        arrive(field)
        var lo = 0, hi = raw.count
        while lo < hi, raw[lo] == 32 || raw[lo] == 9 { lo += 1 }
        while hi > lo, raw[hi - 1] == 32 || raw[hi - 1] == 9 { hi -= 1 }
        let text = UnsafeBufferPointer(rebasing: raw[lo..<hi])
        switch field {
        case .symbol:
            setSymbol(String(decoding: text, as: UTF8.self))
        case .ts:
            if text.isEmpty { fail(.ts, "is empty") }
            else if let v = Self.integer(text) { ts = v }
            else { setISO8601(text) }
        case .price, .volume, .bid, .ask:
            if text.isEmpty {
                if field == .bid || field == .ask { setNumber(field, nil) } else { fail(field, "is empty") }
            } else if let v = DecimalParser.parse(text) {
                setNumber(field, v)
            } else {
                fail(field, "must be a number (got \(String(decoding: text, as: UTF8.self).debugDescription))")
            }
        }
    }

    public mutating func setText(_ field: Field, _ text: String) {
        var copy = text
        copy.withUTF8 { setText(field, $0) }
    }

    /// The tick, or the first problem: a field's own, then a missing field, then the contract's
    /// value rules (`Tick.validate`).
    public func tick() -> Result<Tick, TickFieldError> {
        if let problem { return .failure(problem) }
        guard let symbol else { return .failure(TickFieldError(field: "symbol", message: "is missing")) }
        guard let ts else { return .failure(TickFieldError(field: "ts", message: "is missing")) }
        guard let price else { return .failure(TickFieldError(field: "price", message: "is missing")) }
        guard let volume else { return .failure(TickFieldError(field: "volume", message: "is missing")) }
        let tick = Tick(symbol: symbol, ts: ts, price: price, volume: volume, bid: bid, ask: ask)
        if let problem = tick.validate() { return .failure(problem) }
        return .success(tick)
    }

    /// A tick from named text fields (a Redis stream entry's flat form): unknown names are
    /// skipped, as in JSON.
    public static func tick(text pairs: [(String, String)]) -> Result<Tick, TickFieldError> {
        var fields = TickFields()
        for (key, value) in pairs {
            if let field = Field(key: key) { fields.setText(field, value) }
        }
        return fields.tick()
    }

    /// A JSON integer (no fraction or exponent) that fits Int64.
    static func integer(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if text.first == UInt8(ascii: "-") { negative = true; i = 1 }
        guard i < text.count, text.count - i <= 18 else { return nil }
        var v: Int64 = 0
        while i < text.count {
            let c = text[i]
            guard c >= 48, c <= 57 else { return nil }
            v = v * 10 + Int64(c - 48)
            i += 1
        }
        return negative ? -v : v
    }
}
