/// One market tick (docs/CONTRACTS.md, "Tick"). `ts` is milliseconds since the Unix epoch, UTC.
public struct Tick: Sendable, Equatable {
    public var symbol: String
    public var ts: Int64
    public var price: Double
    public var volume: Double
    public var bid: Double?
    public var ask: Double?

    public init(symbol: String, ts: Int64, price: Double, volume: Double, bid: Double? = nil, ask: Double? = nil) {
        self.symbol = symbol
        self.ts = ts
        self.price = price
        self.volume = volume
        self.bid = bid
        self.ask = ask
    }

    public static let maxSymbolLength = 32

    /// Checks every rule of the contract; the first violation names its field.
    public func validate() -> TickFieldError? {
        if let problem = Self.symbolProblem(symbol) { return TickFieldError(field: "symbol", message: problem) }
        if ts < 0 { return TickFieldError(field: "ts", message: "must be milliseconds since 1970-01-01 (got \(ts))") }
        if !price.isFinite || price <= 0 { return TickFieldError(field: "price", message: "must be a finite number > 0 (got \(price))") }
        if !volume.isFinite || volume < 0 { return TickFieldError(field: "volume", message: "must be a finite number ≥ 0 (got \(volume))") }
        if let bid, !bid.isFinite || bid <= 0 { return TickFieldError(field: "bid", message: "must be a finite number > 0 (got \(bid))") }
        if let ask, !ask.isFinite || ask <= 0 { return TickFieldError(field: "ask", message: "must be a finite number > 0 (got \(ask))") }
        if let bid, let ask, bid > ask { return TickFieldError(field: "bid", message: "bid \(bid) is above ask \(ask)") }
        return nil
    }

    /// nil when `symbol` is 1–32 characters of `[A-Za-z0-9._:/-]`.
    public static func symbolProblem(_ symbol: String) -> String? {
        var symbol = symbol
        return symbol.withUTF8 { bytes -> String? in
            if bytes.isEmpty { return "must not be empty" }
            if bytes.count > maxSymbolLength { return "must be at most \(maxSymbolLength) characters" }
            for b in bytes where !isSymbolByte(b) {
                return "may only contain letters, digits and . _ : / - (found \(String(decoding: [b], as: UTF8.self).debugDescription))"
            }
            return nil
        }
    }

    /// `[A-Za-z0-9._:/-]` (every tick asks, so compares rather than a table behind a lazy global).
    @inline(__always)
    static func isSymbolByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "-"): true
        default: false
        }
    }
}

/// Which field of a tick is wrong, and why.
public struct TickFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}

/// A tick that could not be accepted: its position in the input and the reason.
public struct TickRejection: Sendable, Equatable {
    /// 0-based position among the input's ticks (array element, NDJSON line, CSV data row).
    public let index: Int
    /// The field at fault, or nil when the record as a whole is unreadable.
    public let field: String?
    public let message: String

    public init(index: Int, field: String?, message: String) {
        self.index = index
        self.field = field
        self.message = message
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
