/// Decodes one JSON tick object `{"symbol","ts","price","volume","bid","ask"}` into the shared
/// rules of `TickFields`. Unknown fields are skipped (feeds carry extras such as exchange codes);
/// duplicates are refused. Syntax errors throw (the input cannot be read further); content
/// errors are returned naming the field.
enum TickObject {
    static func decode(_ scanner: inout JSONScanner) throws(JSONScanner.SyntaxError) -> Result<Tick, TickFieldError> {
        try scanner.expect(UInt8(ascii: "{"))
        var fields = TickFields()
        if !scanner.take(UInt8(ascii: "}")) {
            repeat {
                let keyValue = try scanner.string()
                try scanner.expect(UInt8(ascii: ":"))
                let known: TickFields.Field? = switch keyValue {
                case .raw(let range): TickFields.Field(key: UnsafeBufferPointer(rebasing: scanner.bytes[range]))
                case .decoded(let bytes): bytes.withUnsafeBufferPointer { TickFields.Field(key: $0) }
                }
                guard let known else {
                    try scanner.skipValue()
                    continue
                }
                fields.arrive(known)
                try value(known, &scanner, into: &fields)
            } while scanner.take(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
        }
        return fields.tick()
    }

    private static func value(_ field: TickFields.Field, _ scanner: inout JSONScanner, into fields: inout TickFields)
        throws(JSONScanner.SyntaxError)
    {
        scanner.skipWhitespace()
        let c = scanner.peek
        let numeric = c.map { $0 == UInt8(ascii: "-") || ($0 >= 48 && $0 <= 57) } ?? false
        switch field {
        case .symbol:
            guard c == UInt8(ascii: "\"") else {
                try scanner.skipValue()
                return fields.fail(.symbol, "must be a string")
            }
            fields.setSymbol(scanner.text(try scanner.string()))
        case .ts:
            if c == UInt8(ascii: "\"") {
                switch try scanner.string() {
                case .raw(let range): fields.setISO8601(UnsafeBufferPointer(rebasing: scanner.bytes[range]))
                case .decoded(let bytes): bytes.withUnsafeBufferPointer { fields.setISO8601($0) }
                }
            } else if numeric {
                let range = try scanner.numberRange()
                fields.setMilliseconds(UnsafeBufferPointer(rebasing: scanner.bytes[range]))
            } else {
                try scanner.skipValue()
                fields.fail(.ts, "must be integer milliseconds or an ISO-8601 string")
            }
        case .price, .volume, .bid, .ask:
            if c == UInt8(ascii: "n"), field == .bid || field == .ask {
                try scanner.literal("null")
                fields.setNumber(field, nil)
            } else if numeric {
                let range = try scanner.numberRange()
                guard let v = DecimalParser.parse(UnsafeBufferPointer(rebasing: scanner.bytes[range])) else {
                    return fields.fail(field, "is not a representable number")
                }
                fields.setNumber(field, v)
            } else {
                try scanner.skipValue()
                fields.fail(field, "must be a number")
            }
        }
    }
}

extension JSONScanner {
    /// A scanned string's text.
    func text(_ value: StringValue) -> String {
        switch value {
        case .raw(let range): String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case .decoded(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }
}
