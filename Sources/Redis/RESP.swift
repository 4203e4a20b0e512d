/// A RESP2 value (the Redis protocol): what a server answers.
public indirect enum RESPValue: Equatable, Sendable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// nil = the null bulk string.
    case bulk([UInt8]?)
    /// nil = the null array.
    case array([RESPValue]?)

    public var string: String? {
        switch self {
        case .simple(let s): s
        case .bulk(let b?): String(decoding: b, as: UTF8.self)
        case .integer(let i): String(i)
        default: nil
        }
    }

    public var array: [RESPValue]? { if case .array(let a?) = self { a } else { nil } }
}

/// Commands as RESP arrays of bulk strings, appended to a caller's buffer (no allocation per
/// argument beyond the buffer's growth).
public enum RESPEncoder {
    public static func command(_ arguments: [String], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        out.append(contentsOf: String(arguments.count).utf8)
        out.append(contentsOf: [13, 10])
        for argument in arguments { bulk(Array(argument.utf8), into: &out) }
    }

    public static func command(_ arguments: [[UInt8]], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        out.append(contentsOf: String(arguments.count).utf8)
        out.append(contentsOf: [13, 10])
        for argument in arguments { bulk(argument, into: &out) }
    }

    static func bulk(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        out.append(contentsOf: String(bytes.count).utf8)
        out.append(contentsOf: [13, 10])
        out.append(contentsOf: bytes)
        out.append(contentsOf: [13, 10])
    }
}

/// An incremental RESP2 reply parser: a pure value over bytes. Feed it what the socket gives;
/// `next()` returns each whole reply, `.needMore` when the bytes end inside one (however they
/// are split), or `.failure` for bytes that are not RESP (the link is then unusable).
public struct RESPParser {
    public enum Event: Equatable {
        case value(RESPValue)
        case needMore
        case failure(String)
    }

    public let maxBulkBytes: Int
    public let maxDepth: Int
    public let maxElements: Int
    private var buffer: [UInt8] = []
    private var position = 0
    private var failed: String?

    public init(maxBulkBytes: Int = 64 << 20, maxDepth: Int = 16, maxElements: Int = 1 << 20) {
        self.maxBulkBytes = maxBulkBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append<C: Collection>(contentsOf bytes: C) where C.Element == UInt8 {
        var copy = Array(bytes)
        copy.withUnsafeBytes { append($0) }
        copy.removeAll()
    }

    public var bufferedByteCount: Int { buffer.count - position }

    public mutating func next() -> Event {
        if let failed { return .failure(failed) }
        var at = position
        switch parse(&at, depth: 0) {
        case .value(let v):
            position = at
            if position > 64 << 10 && position > buffer.count / 2 {
                buffer.removeFirst(position)
                position = 0
            }
            return .value(v)
        case .needMore:
            return .needMore
        case .failure(let why):
            failed = why
            return .failure(why)
        }
    }

    private func parse(_ at: inout Int, depth: Int) -> Event {
        guard at < buffer.count else { return .needMore }
        let kind = buffer[at]
        guard let line = lineEnd(from: at + 1) else {
            return buffer.count - at > 64 << 10 ? .failure("a RESP header line longer than 64 KiB") : .needMore
        }
        guard line >= 0 else { return .failure("CR without LF in a RESP header line") }
        let text = String(decoding: buffer[(at + 1)..<line], as: UTF8.self)
        switch kind {
        case UInt8(ascii: "+"):
            at = line + 2
            return .value(.simple(text))
        case UInt8(ascii: "-"):
            at = line + 2
            return .value(.error(text))
        case UInt8(ascii: ":"):
            guard let n = Int64(text) else { return .failure("bad integer \(text.debugDescription)") }
            at = line + 2
            return .value(.integer(n))
        case UInt8(ascii: "$"):
            guard let n = Int(text), n >= -1 else { return .failure("bad bulk length \(text.debugDescription)") }
            if n == -1 {
                at = line + 2
                return .value(.bulk(nil))
            }
            guard n <= maxBulkBytes else { return .failure("bulk string of \(n) bytes is over the limit") }
            let start = line + 2
            guard buffer.count >= start + n + 2 else { return .needMore }
            guard buffer[start + n] == 13, buffer[start + n + 1] == 10 else { return .failure("bulk string not followed by CRLF") }
            at = start + n + 2
            return .value(.bulk(Array(buffer[start..<(start + n)])))
        case UInt8(ascii: "*"):
            guard let n = Int(text), n >= -1 else { return .failure("bad array length \(text.debugDescription)") }
            if n == -1 {
                at = line + 2
                return .value(.array(nil))
            }
            guard n <= maxElements else { return .failure("array of \(n) elements is over the limit") }
            guard depth < maxDepth else { return .failure("arrays nested deeper than \(maxDepth)") }
            var cursor = line + 2
            var items: [RESPValue] = []
            items.reserveCapacity(min(n, 1024))
            for _ in 0..<n {
                switch parse(&cursor, depth: depth + 1) {
                case .value(let v): items.append(v)
                case .needMore: return .needMore
                case .failure(let why): return .failure(why)
                }
            }
            at = cursor
            return .value(.array(items))
        default:
            return .failure("unknown RESP type byte \(kind)")
        }
    }

    private func lineEnd(from start: Int) -> Int? {
        var i = start
        while i + 1 < buffer.count {
            if buffer[i] == 13 { return buffer[i + 1] == 10 ? i : -1 }
            i += 1
        }
        return nil
    }
}
