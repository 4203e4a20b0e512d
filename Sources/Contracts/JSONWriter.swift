/// A small JSON writer: events, health and error documents are built as UTF-8 bytes directly.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Open objects and arrays, and for each whether it has a member yet (the next one needs a
    /// comma): bit i for nesting level i below 64, an array past that. No allocation for the
    /// usual document.
    private var depth = 0
    private var commaBits: UInt64 = 0
    private var deepComma: [Bool] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject(_ key: String? = nil) {
        prefix(key)
        bytes.append(UInt8(ascii: "{"))
        open()
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        close()
    }

    public mutating func beginArray(_ key: String? = nil) {
        prefix(key)
        bytes.append(UInt8(ascii: "["))
        open()
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        close()
    }

    public mutating func string(_ key: String?, _ value: String?) {
        prefix(key)
        guard let value else { bytes.append(contentsOf: "null".utf8); return }
        Self.appendEscaped(value, to: &bytes)
    }

    public mutating func int(_ key: String?, _ value: Int) {
        prefix(key)
        appendInteger(value.magnitude.asUInt64, negative: value < 0)
    }

    /// Non-finite numbers have no JSON form and are written as null.
    /// The digits are `String(value)`'s (shortest round trip), written straight into the bytes.
    public mutating func double(_ key: String?, _ value: Double) {
        prefix(key)
        guard value.isFinite else { bytes.append(contentsOf: "null".utf8); return }
        var sink = ASCIISink()
        swap(&sink.bytes, &bytes)
        value.write(to: &sink)
        swap(&sink.bytes, &bytes)
    }

    public mutating func int64(_ key: String?, _ value: Int64) {
        prefix(key)
        appendInteger(value.magnitude, negative: value < 0)
    }

    public mutating func uint64(_ key: String?, _ value: UInt64) {
        prefix(key)
        appendInteger(value, negative: false)
    }

    /// Decimal digits straight into the bytes (no String made on the way: events carry several
    /// integers each).
    @inline(__always)
    private mutating func appendInteger(_ magnitude: UInt64, negative: Bool) {
        if negative { bytes.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64.max has 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var i = buffer.count
            var v = magnitude
            while v > 0 {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[i...]))
        }
    }

    /// A number, or null when absent or not finite (warming-up features).
    public mutating func optionalDouble(_ key: String?, _ value: Double?) {
        guard let value else {
            prefix(key)
            bytes.append(contentsOf: "null".utf8)
            return
        }
        double(key, value)
    }

    public mutating func null(_ key: String?) {
        prefix(key)
        bytes.append(contentsOf: "null".utf8)
    }

    /// Ends a line of NDJSON (between top-level values; resets the comma state).
    public mutating func appendNewline() {
        bytes.append(10)
        clearNesting()
    }

    /// Resets to empty, keeping capacity (one writer reused per message on hot paths).
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        clearNesting()
    }

    /// A value already encoded as JSON (an event's stored fragment), copied as it is.
    public mutating func raw(_ key: String?, _ json: [UInt8]) {
        prefix(key)
        bytes.append(contentsOf: json)
    }

    public mutating func bool(_ key: String?, _ value: Bool) {
        prefix(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    private mutating func open() {
        if depth < 64 { commaBits &= ~(1 << UInt64(depth)) } else { deepComma.append(false) }
        depth += 1
    }

    private mutating func close() {
        guard depth > 0 else { return }
        depth -= 1
        if depth >= 64 { deepComma.removeLast() }
    }

    private mutating func clearNesting() {
        depth = 0
        commaBits = 0
        deepComma.removeAll(keepingCapacity: true)
    }

    private mutating func prefix(_ key: String?) {
        if depth > 0 {
            let level = depth - 1
            if level < 64 {
                let bit: UInt64 = 1 << UInt64(level)
                if commaBits & bit != 0 { bytes.append(UInt8(ascii: ",")) }
                commaBits |= bit
            } else {
                if deepComma[level - 64] { bytes.append(UInt8(ascii: ",")) }
                deepComma[level - 64] = true
            }
        }
        if let key {
            Self.appendEscaped(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    public static func appendEscaped(_ string: String, to out: inout [UInt8]) {
        // Fast path (keys, symbols, ids, reasons: nearly always plain): one scan, one copy.
        let plain: Bool? = string.utf8.withContiguousStorageIfAvailable { buffer in
            for byte in buffer where byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: buffer)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if plain == true { return }
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

private extension UInt {
    var asUInt64: UInt64 { UInt64(self) }
}

/// Where `Double.write(to:)` puts its digits: the standard library hands a finished number's
/// ASCII to `_writeASCII` from a stack buffer, so no String is made per number (a String of
/// more than 15 bytes, such as most indicator values, is a heap allocation).
private struct ASCIISink: TextOutputStream {
    var bytes: [UInt8] = []
    mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
}
