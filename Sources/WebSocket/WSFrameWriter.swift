/// Server frames (never masked, RFC 6455 §5.1), appended to a caller's buffer so one encoding
/// can be shared by every subscriber.
public enum WSFrameWriter {
    public static func append(opcode: WSOpcode, payload: UnsafeRawBufferPointer, fin: Bool = true, compressed: Bool = false,
                              to out: inout [UInt8]) {
        out.append((fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | opcode.rawValue)
        let n = payload.count
        if n < 126 {
            out.append(UInt8(n))
        } else if n <= 0xFFFF {
            out.append(126)
            out.append(UInt8(n >> 8))
            out.append(UInt8(n & 0xFF))
        } else {
            out.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(n) >> UInt64(shift)) & 0xFF)) }
        }
        out.append(contentsOf: payload)
    }

    public static func frame(_ opcode: WSOpcode, _ payload: [UInt8], compressed: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 10)
        payload.withUnsafeBytes { append(opcode: opcode, payload: $0, compressed: compressed, to: &out) }
        return out
    }

    /// A close frame with code and reason (the reason is cut to fit the 125-byte control limit
    /// without splitting a UTF-8 sequence).
    public static func close(_ code: WSCloseCode, reason: String) -> [UInt8] {
        var body: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        var text = Array(reason.utf8)
        if text.count > 123 {
            var cut = 123
            while cut > 0 && text[cut] & 0xC0 == 0x80 { cut -= 1 }
            text = Array(text[0..<cut])
        }
        body.append(contentsOf: text)
        return frame(.close, body)
    }
}
