import Deflate

/// RFC 6455 §7.4 close codes the server sends.
public enum WSCloseCode: UInt16, Sendable {
    case normal = 1000
    case goingAway = 1001
    case protocolError = 1002
    case unsupportedData = 1003
    case invalidPayload = 1007
    case policyViolation = 1008
    case messageTooBig = 1009
    case internalError = 1011
    case tryAgainLater = 1013

    /// Codes a peer may send in a close frame (§7.4.1–7.4.2): 1000–1003, 1007–1011, 3000–4999.
    public static func isValidReceived(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: true
        default: false
        }
    }
}

public enum WSOpcode: UInt8, Sendable {
    case continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10
    var isControl: Bool { rawValue >= 8 }
}

/// Why a connection must be closed, with the close code to send.
public struct WSError: Error, Equatable, Sendable {
    public let code: WSCloseCode
    public let reason: String
    public init(code: WSCloseCode, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// What the reader found.
public enum WSEvent: Equatable, Sendable {
    case needMore
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close; `code` nil when the frame had no body.
    case close(code: UInt16?, reason: String)
    case failure(WSError)
}

/// Server-side reader of client frames: unmasks, reassembles fragmented messages (control
/// frames may arrive between fragments), inflates permessage-deflate messages with the size cap
/// applied to the inflated bytes (no zip bombs), and validates text as UTF-8. A pure value over
/// bytes: the connection feeds it and acts on the events.
public struct WSFrameReader {
    public let maxMessageBytes: Int
    private var inflater: RawInflater?
    /// Negotiated client window (permessage-deflate); nil when not negotiated.
    private let inflateWindowBits: Int?
    /// Made on the first compressed message and, without context takeover, freed after each:
    /// an idle connection holds no zlib state (~40 KiB each).
    private let lazyInflater: Bool
    private let inflateNoContextTakeover: Bool
    private var buffer: [UInt8] = []
    private var position = 0
    private var message: [UInt8] = []
    private var messageOpcode: WSOpcode?
    private var messageCompressed = false
    private var failed: WSError?

    /// `inflater` when permessage-deflate was negotiated.
    public init(maxMessageBytes: Int = 1 << 20, inflater: RawInflater? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.inflater = inflater
        inflateWindowBits = inflater == nil ? nil : 15
        lazyInflater = false
        inflateNoContextTakeover = false
    }

    /// permessage-deflate with the negotiated client window, its zlib state made only when a
    /// compressed message arrives (`windowBits` nil: not negotiated).
    public init(maxMessageBytes: Int = 1 << 20, inflateWindowBits windowBits: Int?, noContextTakeover: Bool) {
        self.maxMessageBytes = maxMessageBytes
        inflater = nil
        inflateWindowBits = windowBits
        lazyInflater = true
        inflateNoContextTakeover = noContextTakeover
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append<C: Collection>(contentsOf bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// True when nothing partial is buffered.
    public var isIdle: Bool { position == buffer.count && messageOpcode == nil }

    public mutating func next() -> WSEvent {
        if let failed { return .failure(failed) }
        while true {
            let available = buffer.count - position
            if available == 0 && buffer.capacity > 64 * 1024 {
                // A big message was read whole: give its buffer back now, not at the next read
                // (a connection that then goes quiet would pin it for as long as it is open).
                buffer = []
                position = 0
            }
            guard available >= 2 else { return .needMore }
            let b0 = buffer[position], b1 = buffer[position + 1]
            let fin = b0 & 0x80 != 0
            let rsv1 = b0 & 0x40 != 0
            guard b0 & 0x30 == 0 else { return fail(.protocolError, "reserved bits set") }
            guard let opcode = WSOpcode(rawValue: b0 & 0x0F) else { return fail(.protocolError, "unknown opcode \(b0 & 0x0F)") }
            guard b1 & 0x80 != 0 else { return fail(.protocolError, "client frames must be masked") }
            var length = Int(b1 & 0x7F)
            var headerLength = 2
            if length == 126 {
                guard available >= 4 else { return .needMore }
                length = Int(buffer[position + 2]) << 8 | Int(buffer[position + 3])
                headerLength = 4
            } else if length == 127 {
                guard available >= 10 else { return .needMore }
                var v: UInt64 = 0
                for k in 0..<8 { v = v << 8 | UInt64(buffer[position + 2 + k]) }
                guard v >> 63 == 0 else { return fail(.protocolError, "frame length has its top bit set") }
                guard v <= UInt64(maxMessageBytes) else { return fail(.messageTooBig, "frame larger than \(maxMessageBytes) bytes") }
                length = Int(v)
                headerLength = 10
            }
            if opcode.isControl {
                guard fin else { return fail(.protocolError, "fragmented control frame") }
                guard length <= 125 else { return fail(.protocolError, "control frame over 125 bytes") }
                guard !rsv1 else { return fail(.protocolError, "compressed control frame") }
            }
            if message.count + length > maxMessageBytes { return fail(.messageTooBig, "message larger than \(maxMessageBytes) bytes") }
            guard available >= headerLength + 4 + length else { return .needMore }
            let maskAt = position + headerLength
            let mask = (buffer[maskAt], buffer[maskAt + 1], buffer[maskAt + 2], buffer[maskAt + 3])
            let start = maskAt + 4
            var payload = Array(buffer[start..<(start + length)])
            for i in 0..<payload.count {
                switch i & 3 {
                case 0: payload[i] ^= mask.0
                case 1: payload[i] ^= mask.1
                case 2: payload[i] ^= mask.2
                default: payload[i] ^= mask.3
                }
            }
            position = start + length

            switch opcode {
            case .ping: return .ping(payload)
            case .pong: return .pong(payload)
            case .close: return closeEvent(payload)
            case .text, .binary:
                guard messageOpcode == nil else { return fail(.protocolError, "new message before the previous one ended") }
                if rsv1 && inflateWindowBits == nil { return fail(.protocolError, "compressed frame without permessage-deflate") }
                messageOpcode = opcode
                messageCompressed = rsv1
                message = payload
            case .continuation:
                guard messageOpcode != nil else { return fail(.protocolError, "continuation without a message") }
                guard !rsv1 else { return fail(.protocolError, "RSV1 on a continuation frame") }
                message.append(contentsOf: payload)
            }
            if fin, let kind = messageOpcode { return finish(kind) }
        }
    }

    private mutating func finish(_ kind: WSOpcode) -> WSEvent {
        var body = message
        message = []
        messageOpcode = nil
        if messageCompressed, lazyInflater, inflater == nil, let bits = inflateWindowBits {
            inflater = try? RawInflater(windowBits: bits, noContextTakeover: inflateNoContextTakeover)
        }
        defer { if lazyInflater && inflateNoContextTakeover { inflater = nil } }
        if messageCompressed, let inflater {
            var out: [UInt8] = []
            do {
                try body.withUnsafeBytes { raw in
                    try inflater.decompressMessage(raw, maxOutput: maxMessageBytes, into: &out)
                }
            } catch DeflateError.outputLimitExceeded {
                return fail(.messageTooBig, "message larger than \(maxMessageBytes) bytes once inflated")
            } catch {
                return fail(.invalidPayload, "invalid compressed data")
            }
            body = out
        }
        if kind == .text {
            guard String(validating: body, as: UTF8.self) != nil else { return fail(.invalidPayload, "text is not valid UTF-8") }
            return .text(body)
        }
        return .binary(body)
    }

    private mutating func closeEvent(_ payload: [UInt8]) -> WSEvent {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else { return fail(.protocolError, "close frame with a 1-byte body") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WSCloseCode.isValidReceived(code) else { return fail(.protocolError, "invalid close code \(code)") }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            return fail(.invalidPayload, "close reason is not valid UTF-8")
        }
        return .close(code: code, reason: reason)
    }

    private mutating func fail(_ code: WSCloseCode, _ reason: String) -> WSEvent {
        let error = WSError(code: code, reason: reason)
        failed = error
        return .failure(error)
    }
}
