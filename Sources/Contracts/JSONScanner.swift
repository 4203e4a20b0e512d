import Glibc

/// A small pull-style JSON reader over bytes, enough to decode ticks without Foundation and
/// without building an intermediate tree. Positions are byte offsets into the input.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    struct SyntaxError: Error {
        let position: Int
        let message: String
    }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            guard c == 32 || c == 10 || c == 13 || c == 9 else { return }
            position += 1
        }
    }

    mutating func expect(_ c: UInt8) throws(SyntaxError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == c else {
            throw SyntaxError(position: position, message: "expected '\(Character(UnicodeScalar(c)))'")
        }
        position += 1
    }

    /// Consumes `c` if it is next (after whitespace).
    mutating func take(_ c: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == c else { return false }
        position += 1
        return true
    }

    /// A string's raw bytes without quotes when it has no escapes (the common case: no copy),
    /// else its decoded bytes.
    enum StringValue {
        case raw(Range<Int>)
        case decoded([UInt8])
    }

    mutating func string() throws(SyntaxError) -> StringValue {
        try expect(UInt8(ascii: "\""))
        let start = position
        while position < bytes.count {
            let c = bytes[position]
            if c == UInt8(ascii: "\"") {
                position += 1
                return .raw(start..<(position - 1))
            }
            if c == UInt8(ascii: "\\") { return .decoded(try escapedString(from: start)) }
            if c < 0x20 { throw SyntaxError(position: position, message: "control character in string") }
            position += 1
        }
        throw SyntaxError(position: position, message: "unterminated string")
    }

    private mutating func escapedString(from start: Int) throws(SyntaxError) -> [UInt8] {
        var out = Array(bytes[start..<position])
        while position < bytes.count {
            let c = bytes[position]
            position += 1
            switch c {
            case UInt8(ascii: "\""):
                return out
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard take(UInt8(ascii: "\\")), position < bytes.count, bytes[position] == UInt8(ascii: "u") else {
                            throw SyntaxError(position: position, message: "lone surrogate in string")
                        }
                        position += 1
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw SyntaxError(position: position, message: "bad surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = UnicodeScalar(scalar) else { throw SyntaxError(position: position, message: "invalid \\u escape") }
                    out.append(contentsOf: String(Character(u)).utf8)
                default:
                    throw SyntaxError(position: position - 1, message: "invalid escape")
                }
            default:
                if c < 0x20 { throw SyntaxError(position: position - 1, message: "control character in string") }
                out.append(c)
            }
        }
        throw SyntaxError(position: position, message: "unterminated string")
    }

    private mutating func hex4() throws(SyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw SyntaxError(position: position, message: "short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[position]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw SyntaxError(position: position, message: "invalid \\u escape")
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }

    /// A JSON number's text range (validated against the JSON grammar).
    mutating func numberRange() throws(SyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = position
        if peek == UInt8(ascii: "-") { position += 1 }
        guard let first = peek, first >= 48, first <= 57 else { throw SyntaxError(position: start, message: "invalid number") }
        if first == 48 { position += 1 } else { digits() }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard let d = peek, d >= 48, d <= 57 else { throw SyntaxError(position: position, message: "invalid number") }
            digits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard let d = peek, d >= 48, d <= 57 else { throw SyntaxError(position: position, message: "invalid number") }
            digits()
        }
        return start..<position
    }

    private mutating func digits() {
        while let c = peek, c >= 48, c <= 57 { position += 1 }
    }

    /// Skips any value (for fields we do not use).
    mutating func skipValue(depth: Int = 0) throws(SyntaxError) {
        guard depth < 64 else { throw SyntaxError(position: position, message: "nesting too deep") }
        skipWhitespace()
        guard let c = peek else { throw SyntaxError(position: position, message: "unexpected end of input") }
        switch c {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"):
            position += 1
            if take(UInt8(ascii: "}")) { return }
            repeat {
                _ = try string()
                try expect(UInt8(ascii: ":"))
                try skipValue(depth: depth + 1)
            } while take(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            position += 1
            if take(UInt8(ascii: "]")) { return }
            repeat { try skipValue(depth: depth + 1) } while take(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try numberRange()
        }
    }

    mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let n = word.utf8CodeUnitCount
        guard position + n <= bytes.count,
              memcmp(bytes.baseAddress! + position, word.utf8Start, n) == 0 else {
            throw SyntaxError(position: position, message: "invalid literal")
        }
        position += n
    }
}

/// Decimal text → Double, correctly rounded. Fast path (Clinger): up to 15 significant digits
/// and a power of ten ≤ 22 are exact in binary64, so one multiplication or division rounds
/// correctly; everything else goes to strtod.
enum DecimalParser {
    static let powers: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { acc, _ in acc * 10 } }

    /// 10^k for k in 0...22, exact (what `powers` holds), without the lazy global's check per call.
    @inline(__always)
    static func power(_ k: Int) -> Double {
        switch k {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        default: powers[k]
        }
    }

    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        var negative = false
        if i < text.count, text[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var sawDigit = false
        while i < text.count, text[i] >= 48, text[i] <= 57 {
            sawDigit = true
            if significant < 19 { mantissa = mantissa * 10 + UInt64(text[i] - 48); if mantissa != 0 { significant += 1 } }
            else { exponent += 1 }
            i += 1
        }
        if i < text.count, text[i] == UInt8(ascii: ".") {
            i += 1
            while i < text.count, text[i] >= 48, text[i] <= 57 {
                sawDigit = true
                if significant < 19 { mantissa = mantissa * 10 + UInt64(text[i] - 48); exponent -= 1; if mantissa != 0 { significant += 1 } }
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i == text.count, significant <= 15, abs(exponent) <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / power(-exponent) : value * power(exponent)
            return negative ? -value : value
        }
        return slow(text)
    }

    private static func slow(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        guard text.count < 128 else { return nil }
        var buffer = [CChar](repeating: 0, count: text.count + 1)
        for (k, c) in text.enumerated() { buffer[k] = CChar(bitPattern: c) }
        return buffer.withUnsafeBufferPointer { p -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(p.baseAddress!, &end)
            guard let end, end - UnsafeMutablePointer(mutating: p.baseAddress!) == text.count else { return nil }
            return v
        }
    }
}
