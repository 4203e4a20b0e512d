/// What a streaming client asks for: the JSON text messages of the WebSocket protocol
/// (`{"op":"subscribe"|"unsubscribe"|"ping"|"ticks", …}`), decoded with the project's scanner
/// in one pass, keys in any order. Ticks go through the same `TickFields` rules as REST.
public enum StreamCommand: Sendable, Equatable {
    case subscribe(SubscriptionRequest)
    /// No channels: all of them.
    case unsubscribe(Set<Channel>)
    case ping
    case ticks(TickBatch, apiKey: String?)

    /// Ticks sent by a client: the valid ones in order and each refused one with its index.
    public struct TickBatch: Sendable, Equatable {
        public var ticks: [Tick] = []
        public var rejected: [TickRejection] = []
    }

    /// A message the server answers with `{"type":"error","code","message"}`.
    public struct Failure: Error, Sendable, Equatable {
        /// invalid_message, invalid_subscription or unknown_op.
        public let code: String
        public let message: String
    }

    /// One client text message; `maxSymbols` bounds a subscription's symbol list.
    public static func decode(_ bytes: [UInt8], maxSymbols: Int) -> Result<StreamCommand, Failure> {
        bytes.withUnsafeBufferPointer { decode($0, maxSymbols: maxSymbols) }
    }

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, maxSymbols: Int) -> Result<StreamCommand, Failure> {
        var s = JSONScanner(bytes)
        var op: String?
        var channels: [String]?
        var symbols: [String]?
        var minConfidence: SubscriptionRequest.Number = .absent
        var sinceSeq: SubscriptionRequest.Number = .absent
        var apiKey: String?
        var cursor: SubscriptionRequest.Text = .absent
        var batch: TickBatch?
        var badField: String?
        do {
            s.skipWhitespace()
            guard s.peek == UInt8(ascii: "{") else { throw JSONScanner.SyntaxError(position: 0, message: "not an object") }
            try s.object { key, s throws(JSONScanner.SyntaxError) in
                switch key {
                case "op": op = try s.optionalString()
                case "channels": channels = try s.names(badField: &badField, key)
                case "symbols": symbols = try s.names(badField: &badField, key)
                case "min_confidence": minConfidence = try s.number()
                case "since_seq": sinceSeq = try s.number()
                case "api_key": apiKey = try s.optionalString()
                case "cursor": cursor = try s.optionalString().map(SubscriptionRequest.Text.text) ?? .invalid
                case "ticks": batch = try ticks(&s)
                default: try s.skipValue()
                }
            }
            s.skipWhitespace()
            guard s.atEnd else { throw JSONScanner.SyntaxError(position: s.position, message: "data after the object") }
        } catch {
            return .failure(Failure(code: "invalid_message", message: "messages are JSON objects with an \"op\""))
        }
        guard let op else { return .failure(Failure(code: "invalid_message", message: "missing \"op\"")) }
        switch op {
        case "subscribe":
            if let badField {
                return .failure(Failure(code: "invalid_subscription", message: "\(badField) must be an array of names or a comma-separated string"))
            }
            return Result { () throws(Failure) in
                .subscribe(try SubscriptionRequest(channels: channels, symbols: symbols, minConfidence: minConfidence,
                                                   sinceSeq: sinceSeq, cursor: cursor, maxSymbols: maxSymbols))
            }
        case "unsubscribe":
            if badField == "channels" {
                return .failure(Failure(code: "invalid_subscription", message: "channels must be an array of names or a comma-separated string"))
            }
            return Result { () throws(Failure) in .unsubscribe(try SubscriptionRequest.channels(channels ?? [])) }
        case "ping":
            return .success(.ping)
        case "ticks":
            guard let batch else { return .failure(Failure(code: "invalid_message", message: "\"ticks\" must be an array of tick objects")) }
            return .success(.ticks(batch, apiKey: apiKey))
        default:
            return .failure(Failure(code: "unknown_op", message: "unknown op \(String(op.prefix(64)).debugDescription): use subscribe, unsubscribe, ticks or ping"))
        }
    }

    /// `"ticks": [ {tick}, … ]`; nil when the value is not an array.
    private static func ticks(_ s: inout JSONScanner) throws(JSONScanner.SyntaxError) -> TickBatch? {
        s.skipWhitespace()
        guard s.take(UInt8(ascii: "[")) else {
            try s.skipValue()
            return nil
        }
        var batch = TickBatch()
        if s.take(UInt8(ascii: "]")) { return batch }
        var index = 0
        repeat {
            s.skipWhitespace()
            if s.peek == UInt8(ascii: "{") {
                switch try TickObject.decode(&s) {
                case .success(let tick): batch.ticks.append(tick)
                case .failure(let e): batch.rejected.append(TickRejection(index: index, field: e.field, message: e.message))
                }
            } else {
                try s.skipValue()
                batch.rejected.append(TickRejection(index: index, field: nil, message: "each tick must be a JSON object"))
            }
            index += 1
        } while s.take(UInt8(ascii: ","))
        try s.expect(UInt8(ascii: "]"))
        return batch
    }
}

/// A subscription's fields, checked. The symbol list is held per connection for as long as it
/// is open, so it is bounded (`maxSymbols`) and each name must be one a tick could carry: a
/// megabyte of names on each of thousands of connections would otherwise hold gigabytes.
public struct SubscriptionRequest: Sendable, Equatable {
    /// Empty: the endpoint's default.
    public var channels: Set<Channel> = []
    /// nil: not given; containing "*": every symbol.
    public var symbols: Set<String>?
    public var minConfidence: Double?
    public var sinceSeq: UInt64?
    /// Resume per origin (multi-instance); exclusive with `sinceSeq`.
    public var cursor: ResumeCursor?

    /// A numeric field as sent: absent, a number's text, or a value of another kind.
    enum Number: Equatable {
        case absent
        case text(String)
        case invalid
    }

    /// A string field as sent: absent, its text, or a value of another kind.
    enum Text: Equatable {
        case absent
        case text(String)
        case invalid
    }

    init(channels: [String]?, symbols: [String]?, minConfidence: Number, sinceSeq: Number, cursor: Text = .absent,
         maxSymbols: Int)
        throws(StreamCommand.Failure)
    {
        func fail(_ message: String) -> StreamCommand.Failure { StreamCommand.Failure(code: "invalid_subscription", message: message) }
        self.channels = try Self.channels(channels ?? [])
        if let symbols {
            let set = Set(symbols)
            guard set.count <= maxSymbols else {
                throw fail("\(set.count) symbols: a subscription names at most \(maxSymbols) (or \"*\" for all)")
            }
            for symbol in set where symbol != "*" {
                if let problem = Tick.symbolProblem(symbol) { throw fail("symbol \(String(symbol.prefix(64)).debugDescription) \(problem)") }
            }
            self.symbols = set
        }
        switch minConfidence {
        case .absent: break
        case .text(let t):
            guard let v = Double(t), (0...1).contains(v) else { throw fail("min_confidence must be a number from 0 to 1") }
            self.minConfidence = v
        case .invalid: throw fail("min_confidence must be a number from 0 to 1")
        }
        switch sinceSeq {
        case .absent: break
        case .text(let t):
            guard let v = UInt64(t) else { throw fail("since_seq must be a non-negative integer") }
            self.sinceSeq = v
        case .invalid: throw fail("since_seq must be a non-negative integer")
        }
        switch cursor {
        case .absent: break
        case .text(let t): self.cursor = try ResumeCursor(parsing: t)
        case .invalid: throw fail("cursor must be a string of instance:seq pairs separated by commas")
        }
        if self.cursor != nil && self.sinceSeq != nil {
            throw fail("give since_seq (one gateway) or cursor (every origin), not both")
        }
    }

    /// From an upgrade request's query parameters (`channels`/`symbols` comma-separated).
    public init(query channels: String?, symbols: String?, minConfidence: String?, sinceSeq: String?, cursor: String? = nil,
                maxSymbols: Int) throws(StreamCommand.Failure)
    {
        func list(_ text: String?) -> [String]? { text.map { $0.split(separator: ",").map(String.init) } }
        try self.init(channels: list(channels), symbols: list(symbols), minConfidence: minConfidence.map(Number.text) ?? .absent,
                      sinceSeq: sinceSeq.map(Number.text) ?? .absent, cursor: cursor.map(Text.text) ?? .absent,
                      maxSymbols: maxSymbols)
    }

    static func channels(_ names: [String]) throws(StreamCommand.Failure) -> Set<Channel> {
        var out: Set<Channel> = []
        for name in names {
            guard let channel = Channel(rawValue: name) else {
                throw StreamCommand.Failure(code: "invalid_subscription",
                                            message: "unknown channel \(String(name.prefix(64)).debugDescription) (channels: \(Channel.names))")
            }
            out.insert(channel)
        }
        return out
    }
}

extension JSONScanner {
    /// A list of names: an array of strings, or one comma-separated string. Another kind of
    /// value is consumed and reported through `badField`.
    fileprivate mutating func names(badField: inout String?, _ key: String) throws(SyntaxError) -> [String]? {
        skipWhitespace()
        if peek == UInt8(ascii: "\"") { return text(try string()).split(separator: ",").map(String.init) }
        if peek == UInt8(ascii: "[") {
            position += 1
            var out: [String] = []
            if take(UInt8(ascii: "]")) { return out }
            repeat {
                guard let name = try optionalString() else {
                    badField = badField ?? key
                    continue
                }
                out.append(name)
            } while take(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
            return out
        }
        try skipValue()
        badField = badField ?? key
        return nil
    }

    /// A number's text, or `.invalid` (consumed) for another kind of value.
    fileprivate mutating func number() throws(SyntaxError) -> SubscriptionRequest.Number {
        skipWhitespace()
        if let c = peek, c == UInt8(ascii: "-") || (c >= 48 && c <= 57) {
            return .text(String(decoding: UnsafeBufferPointer(rebasing: bytes[try numberRange()]), as: UTF8.self))
        }
        try skipValue()
        return .invalid
    }
}
