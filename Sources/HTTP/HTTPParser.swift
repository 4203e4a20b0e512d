import Glibc
/// What the parser has for the caller after `next()`.
public enum HTTPParseOutcome: Sendable {
    /// More bytes are needed.
    case needMore
    /// The head is complete and the client waits for `100 Continue` before its body. Emitted
    /// once per such request; keep calling `next()` to get the request with its body.
    case expectContinue(HTTPRequest)
    /// A complete request, body included.
    case request(HTTPRequest)
    /// The stream is unusable; every later `next()` returns the same failure.
    case failure(HTTPParseError)
}

/// An incremental, strict HTTP/1.1 request parser (RFC 9112) over a byte buffer it owns.
///
/// Append bytes as they arrive and call `next()` until `.needMore`: pipelined requests come
/// out in order. Ambiguous framing is refused rather than repaired (request smuggling): bare
/// LF or CR, obs-fold, Content-Length together with Transfer-Encoding, differing duplicate
/// Content-Length. The head is scanned once: the search for its end resumes where it stopped.
public struct HTTPParser: Sendable {
    private enum Stage: Sendable {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(count: Int, bytes: Int)
        case dead(HTTPParseError)
    }

    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    private var position = 0
    private var scanFrom = 0
    /// Empty lines skipped before the current request line, across reads (at most 4).
    private var emptyLinesSkipped = 0
    private var stage = Stage.head
    private var pending: HTTPRequest?
    private static let maxChunkLine = 1024
    /// The last head decoded (when at most `maxRememberedHead` bytes) and what it decoded to.
    /// Decoding is a function of the head's bytes alone, so a keep-alive client that sends the
    /// same head again (a poller, a dashboard, a load generator) gets the same request back
    /// without a parse or an allocation.
    private var lastHead: [UInt8] = []
    private var lastDecoded: (HTTPRequest, Framing)?
    private static let maxRememberedHead = 1024

    public init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    public var bufferedByteCount: Int { buffer.count - position }

    /// No partial request is buffered.
    public var isIdle: Bool {
        if case .head = stage { return bufferedByteCount == 0 }
        return false
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append<C: Collection>(contentsOf bytes: C) where C.Element == UInt8 {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Takes the bytes buffered after the last request (a protocol switch: they belong to the
    /// new protocol) and resets the parser.
    public mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(buffer[position...])
        reset()
        return rest
    }

    public mutating func reset() {
        buffer.removeAll()
        position = 0
        scanFrom = 0
        emptyLinesSkipped = 0
        stage = .head
        pending = nil
        lastHead = []
        lastDecoded = nil
    }

    private mutating func compact() {
        if position == buffer.count {
            // Keep a small buffer for the next request; give a large one back (idle memory).
            buffer.removeAll(keepingCapacity: buffer.capacity <= 8192)
            scanFrom -= position
            position = 0
        } else if position > 4096 && position * 2 > buffer.count {
            buffer.removeFirst(position)
            scanFrom -= position
            position = 0
        }
        if scanFrom < 0 { scanFrom = 0 }
    }

    public mutating func next() -> HTTPParseOutcome {
        while true {
            switch stage {
            case .dead(let error):
                return .failure(error)
            case .head:
                switch parseHead() {
                case .needMore: return .needMore
                case .failure(let error): return fail(error)
                case .done(let head):
                    let (request, framing) = head
                    switch framing {
                    case .none:
                        return emit(request)
                    case .length(let n):
                        pending = request
                        stage = .body(remaining: n)
                    case .chunked:
                        pending = request
                        stage = .chunkSize
                    }
                    if request.expectsContinue { return .expectContinue(request) }
                }
            case .body(let remaining):
                let missing = takeBody(remaining)
                if missing > 0 {
                    stage = .body(remaining: missing)
                    return .needMore
                }
                return emit(pending)
            case .chunkSize:
                switch parseChunkSize() {
                case .needMore: return .needMore
                case .failure(let error): return fail(error)
                case .done(let size):
                    stage = size == 0 ? .trailers(count: pending?.headers.count ?? 0, bytes: 0) : .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let missing = takeBody(remaining)
                if missing > 0 {
                    stage = .chunkData(remaining: missing)
                    return .needMore
                }
                stage = .chunkDataEnd
            case .chunkDataEnd:
                guard bufferedByteCount >= 2 else { return .needMore }
                guard buffer[position] == 13, buffer[position + 1] == 10 else {
                    return fail(.malformed("chunk data not followed by CRLF"))
                }
                position += 2
                stage = .chunkSize
            case .trailers(let count, let bytes):
                switch parseTrailerLine(count: count, bytes: bytes) {
                case .needMore: return .needMore
                case .failure(let error): return fail(error)
                case .done(let finished):
                    if finished { return emit(pending) }
                }
            }
        }
    }

    /// Moves up to `remaining` buffered bytes into the pending body; returns how many are still due.
    private mutating func takeBody(_ remaining: Int) -> Int {
        let take = min(remaining, bufferedByteCount)
        if take > 0 {
            pending?.body.append(contentsOf: buffer[position..<(position + take)])
            position += take
        }
        return remaining - take
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPParseOutcome {
        stage = .dead(error)
        pending = nil
        return .failure(error)
    }

    private mutating func emit(_ request: HTTPRequest?) -> HTTPParseOutcome {
        stage = .head
        pending = nil
        if position == buffer.count && buffer.capacity > 8192 {
            buffer = []  // an idle keep-alive connection should not hold a big request's buffer
            position = 0
        }
        scanFrom = position
        guard let request else { return fail(.malformed("internal state")) }
        return .request(request)
    }

    // MARK: - Head

    enum Framing { case none, length(Int), chunked }
    private enum Step<T> { case needMore, failure(HTTPParseError), done(T) }

    private mutating func parseHead() -> Step<(HTTPRequest, Framing)> {
        // RFC 9112 §2.2: ignore a few empty lines before the request line — a few in all, however
        // the reads split them (found by Fuzz/FuzzHTTP: the count restarted with each read).
        while bufferedByteCount >= 2, buffer[position] == 13, buffer[position + 1] == 10, emptyLinesSkipped < 4 {
            position += 2
            emptyLinesSkipped += 1
        }
        if scanFrom < position { scanFrom = position }
        if bufferedByteCount == 0 { return .needMore }
        let end: Int? = buffer.withUnsafeBufferPointer { b -> Int? in
            var i = scanFrom
            while i < b.count {
                let c = b[i]
                if c == 10 {
                    if i == position || b[i - 1] != 13 { return -1 }
                    if i - 3 >= position && b[i - 2] == 10 && b[i - 3] == 13 { return i + 1 }
                } else if c == 13 && i + 1 < b.count && b[i + 1] != 10 {
                    return -2
                }
                i += 1
            }
            return nil
        }
        guard let end else {
            // Rescan the last byte next time: a trailing CR is judged by the byte after it.
            scanFrom = max(position, buffer.count - 1)
            if let error = partialHeadLimit() { return .failure(error) }
            return .needMore
        }
        if end == -1 { return .failure(.malformed("bare LF")) }
        if end == -2 { return .failure(.malformed("bare CR")) }
        if end - position > limits.maxHeaderBytes {
            return .failure(requestLineEnd(from: position, to: end) == nil ? .uriTooLong : .headersTooLarge)
        }
        let result = decodeHead(position..<end)
        position = end
        scanFrom = end
        emptyLinesSkipped = 0
        switch result {
        case .failure(let error): return .failure(error)
        case .success(let value): return .done(value)
        }
    }

    /// The head in `range` of the buffer, from `lastDecoded` when its bytes are the last head's.
    private mutating func decodeHead(_ range: Range<Int>) -> HeadDecoder.Result {
        let same = lastDecoded != nil && range.count == lastHead.count && buffer.withUnsafeBytes { b in
            lastHead.withUnsafeBytes { memcmp(b.baseAddress! + range.lowerBound, $0.baseAddress!, range.count) == 0 }
        }
        if same, let lastDecoded { return .success(lastDecoded) }
        let result = buffer.withUnsafeBufferPointer { HeadDecoder.decode(UnsafeBufferPointer(rebasing: $0[range]), limits: limits) }
        if case .success(let value) = result, range.count <= Self.maxRememberedHead {
            lastHead.removeAll(keepingCapacity: true)
            lastHead.append(contentsOf: buffer[range])
            lastDecoded = value
        } else {
            lastDecoded = nil
        }
        return result
    }

    /// Limits that can be decided before the head is complete (so a client cannot hold us
    /// waiting for a CRLF that never comes).
    private func partialHeadLimit() -> HTTPParseError? {
        let lineEnd = requestLineEnd(from: position, to: buffer.count)
        if lineEnd == nil && bufferedByteCount > limits.maxURIBytes + 32 { return .uriTooLong }
        if bufferedByteCount > limits.maxHeaderBytes { return lineEnd == nil ? .uriTooLong : .headersTooLarge }
        return nil
    }

    private func requestLineEnd(from: Int, to: Int) -> Int? {
        var i = from
        while i < to {
            if buffer[i] == 10 { return i }
            i += 1
        }
        return nil
    }

    // MARK: - Chunked body

    private mutating func parseChunkSize() -> Step<Int> {
        guard let lf = requestLineEnd(from: position, to: min(buffer.count, position + Self.maxChunkLine)) else {
            return bufferedByteCount >= Self.maxChunkLine ? .failure(.malformed("chunk size line too long")) : .needMore
        }
        guard lf > position, buffer[lf - 1] == 13 else { return .failure(.malformed("bare LF in chunk size")) }
        var size = 0
        var digits = 0
        var i = position
        while i < lf - 1, let v = Self.hexValue(buffer[i]) {
            guard digits < 15 else { return .failure(.malformed("chunk size overflow")) }
            size = size << 4 | v
            digits += 1
            i += 1
        }
        guard digits > 0 else { return .failure(.malformed("invalid chunk size")) }
        // Only chunk extensions may follow: optional whitespace, then ';'.
        while i < lf - 1, buffer[i] == 32 || buffer[i] == 9 { i += 1 }
        if i < lf - 1 {
            guard buffer[i] == UInt8(ascii: ";") else { return .failure(.malformed("invalid chunk size")) }
            for j in i..<(lf - 1) where buffer[j] < 0x20 && buffer[j] != 9 || buffer[j] == 0x7F {
                return .failure(.malformed("invalid chunk extension"))
            }
        }
        if (pending?.body.count ?? 0) + size > limits.maxBodyBytes { return .failure(.bodyTooLarge) }
        position = lf + 1
        return .done(size)
    }

    /// Trailer fields are validated like headers, counted against the header limits, and
    /// discarded: nothing in this server reads trailers.
    private mutating func parseTrailerLine(count: Int, bytes: Int) -> Step<Bool> {
        guard let lf = requestLineEnd(from: position, to: buffer.count) else {
            return bytes + bufferedByteCount > limits.maxHeaderBytes ? .failure(.headersTooLarge) : .needMore
        }
        guard lf > position, buffer[lf - 1] == 13 else { return .failure(.malformed("bare LF in trailers")) }
        let lineLength = lf + 1 - position
        if lineLength == 2 {
            position = lf + 1
            return .done(true)
        }
        if bytes + lineLength > limits.maxHeaderBytes { return .failure(.headersTooLarge) }
        if count + 1 > limits.maxHeaderCount { return .failure(.tooManyHeaders) }
        let valid = buffer.withUnsafeBufferPointer { HeadDecoder.validField(UnsafeBufferPointer(rebasing: $0[position..<(lf - 1)])) }
        guard valid else { return .failure(.malformed("invalid trailer field")) }
        position = lf + 1
        stage = .trailers(count: count + 1, bytes: bytes + lineLength)
        return .done(false)
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: Int(c - 48)
        case 65...70: Int(c - 55)
        case 97...102: Int(c - 87)
        default: nil
        }
    }
}
