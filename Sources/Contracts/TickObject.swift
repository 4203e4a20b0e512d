/// Decodes one tick object `{"symbol","ts","price","volume","bid","ask"}`. Unknown fields are
/// skipped (feeds carry extras such as exchange codes); duplicates are refused. Syntax errors
/// throw (the input cannot be read further); content errors are returned naming the field.
enum TickObject {
    private enum Field: Int { case symbol, ts, price, volume, bid, ask }

    private static func field(_ key: UnsafeBufferPointer<UInt8>) -> Field? {
        switch key.count {
        case 2 where key[0] == UInt8(ascii: "t") && key[1] == UInt8(ascii: "s"): return .ts
        case 3 where key.elementsEqual("bid".utf8): return .bid
        case 3 where key.elementsEqual("ask".utf8): return .ask
        case 5 where key.elementsEqual("price".utf8): return .price
        case 6 where key.elementsEqual("symbol".utf8): return .symbol
        case 6 where key.elementsEqual("volume".utf8): return .volume
        default: return nil
        }
    }

    static func decode(_ scanner: inout JSONScanner) throws(JSONScanner.SyntaxError) -> Result<Tick, TickFieldError> {
        try scanner.expect(UInt8(ascii: "{"))
        var symbol: String?
        var ts: Int64?
        var numbers: [Double?] = [nil, nil, nil, nil]  // price, volume, bid, ask
        var seen = 0
        var firstError: TickFieldError?
        func note(_ field: String, _ message: String) {
            if firstError == nil { firstError = TickFieldError(field: field, message: message) }
        }
        if !scanner.take(UInt8(ascii: "}")) {
            repeat {
                let keyValue = try scanner.string()
                try scanner.expect(UInt8(ascii: ":"))
                let known: Field? = switch keyValue {
                case .raw(let range): field(UnsafeBufferPointer(rebasing: scanner.bytes[range]))
                case .decoded(let bytes): bytes.withUnsafeBufferPointer { field($0) }
                }
                guard let known else {
                    try scanner.skipValue()
                    continue
                }
                let name = ["symbol", "ts", "price", "volume", "bid", "ask"][known.rawValue]
                if seen & (1 << known.rawValue) != 0 { note(name, "appears twice") }
                seen |= 1 << known.rawValue
                scanner.skipWhitespace()
                let c = scanner.peek
                switch known {
                case .symbol:
                    guard c == UInt8(ascii: "\"") else {
                        try scanner.skipValue()
                        note(name, "must be a string")
                        continue
                    }
                    symbol = text(try scanner.string(), scanner)
                case .ts:
                    if c == UInt8(ascii: "\"") {
                        let raw = try scanner.string()
                        let parsed: Result<Int64, TickFieldError> = switch raw {
                        case .raw(let range): Timestamp.parseISO8601(UnsafeBufferPointer(rebasing: scanner.bytes[range]))
                        case .decoded(let bytes): bytes.withUnsafeBufferPointer { Timestamp.parseISO8601($0) }
                        }
                        switch parsed {
                        case .success(let v): ts = v
                        case .failure(let e): note(e.field, e.message)
                        }
                    } else if let c, c == UInt8(ascii: "-") || (c >= 48 && c <= 57) {
                        let range = try scanner.numberRange()
                        if let v = integer(UnsafeBufferPointer(rebasing: scanner.bytes[range])) { ts = v }
                        else { note(name, "must be integer milliseconds since 1970-01-01 UTC or an ISO-8601 string") }
                    } else {
                        try scanner.skipValue()
                        note(name, "must be integer milliseconds or an ISO-8601 string")
                    }
                case .price, .volume, .bid, .ask:
                    let slot = known.rawValue - 2
                    if c == UInt8(ascii: "n"), known == .bid || known == .ask {
                        try scanner.literal("null")
                    } else if let c, c == UInt8(ascii: "-") || (c >= 48 && c <= 57) {
                        let range = try scanner.numberRange()
                        guard let v = DecimalParser.parse(UnsafeBufferPointer(rebasing: scanner.bytes[range])) else {
                            note(name, "is not a representable number")
                            continue
                        }
                        numbers[slot] = v
                    } else {
                        try scanner.skipValue()
                        note(name, "must be a number")
                    }
                }
            } while scanner.take(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
        }
        if let firstError { return .failure(firstError) }
        guard let symbol else { return .failure(TickFieldError(field: "symbol", message: "is missing")) }
        guard let ts else { return .failure(TickFieldError(field: "ts", message: "is missing")) }
        guard let price = numbers[0] else { return .failure(TickFieldError(field: "price", message: "is missing")) }
        guard let volume = numbers[1] else { return .failure(TickFieldError(field: "volume", message: "is missing")) }
        let tick = Tick(symbol: symbol, ts: ts, price: price, volume: volume, bid: numbers[2], ask: numbers[3])
        if let problem = tick.validate() { return .failure(problem) }
        return .success(tick)
    }

    private static func text(_ value: JSONScanner.StringValue, _ scanner: JSONScanner) -> String {
        switch value {
        case .raw(let range): String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self)
        case .decoded(let bytes): String(decoding: bytes, as: UTF8.self)
        }
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
