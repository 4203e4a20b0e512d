import CZlib

/// Why a compression or decompression call failed.
public enum DeflateError: Error, Equatable, Sendable {
    /// zlib refused: its return code (`Z_DATA_ERROR`, `Z_STREAM_ERROR`, …) and message.
    case zlib(Int32, String)
    /// The output would have grown past the caller's cap (zip-bomb defence); nothing past the cap was produced.
    case outputLimitExceeded
    /// The compressed input ended before the stream did.
    case truncated
}

/// One z_stream at a fixed heap address (zlib keeps pointers into it between calls) and a
/// scratch buffer for output, both owned and freed by this object. Not thread-safe.
final class ZStream {
    enum Mode { case deflate, inflate }

    /// What one `process` call saw.
    struct Outcome {
        /// zlib returned Z_STREAM_END: the stream (gzip member, or final raw block) is complete.
        var streamEnd: Bool
        /// Input bytes zlib did not consume (non-zero only after the stream ended).
        var unconsumed: Int
    }

    let mode: Mode
    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutableBufferPointer<UInt8>

    init(mode: Mode, windowBits: Int32, level: Int32 = 6, scratchBytes: Int = 16 << 10) throws(DeflateError) {
        self.mode = mode
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = switch mode {
        case .deflate: dfz_deflate_init2(stream, level, windowBits, 8)
        case .inflate: dfz_inflate_init2(stream, windowBits)
        }
        guard rc == Z_OK else {
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "invalid parameters"
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .zlib(rc, "\(mode)Init2(windowBits: \(windowBits), level: \(level)): \(message)")
        }
        scratch = .allocate(capacity: scratchBytes)
    }

    deinit {
        switch mode {
        case .deflate: deflateEnd(stream)
        case .inflate: inflateEnd(stream)
        }
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Forgets all history (the sliding window), keeping the parameters.
    func reset() {
        switch mode {
        case .deflate: _ = deflateReset(stream)
        case .inflate: _ = inflateReset(stream)
        }
    }

    /// Preset dictionary: for raw streams, call right after init or `reset()`.
    func setDictionary(_ bytes: UnsafeRawBufferPointer) throws(DeflateError) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let rc = switch mode {
        case .deflate: deflateSetDictionary(stream, base, UInt32(bytes.count))
        case .inflate: inflateSetDictionary(stream, base, UInt32(bytes.count))
        }
        guard rc == Z_OK else { throw .zlib(rc, message("setDictionary")) }
    }

    /// Starts a new inflate stream after a final block; with `keepingWindow` the last 2^windowBits
    /// bytes stay available for back-references (permessage-deflate context takeover).
    func restartInflate(keepingWindow: Bool, windowBytes: Int) throws(DeflateError) {
        guard keepingWindow else { return reset() }
        let window = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: windowBytes)
        defer { window.deallocate() }
        var length: UInt32 = 0
        let rc = inflateGetDictionary(stream, window.baseAddress, &length)
        guard rc == Z_OK else { throw .zlib(rc, message("inflateGetDictionary")) }
        reset()
        try setDictionary(UnsafeRawBufferPointer(start: window.baseAddress, count: Int(length)))
    }

    /// Runs zlib over all of `input` with `flush`, appending the output to `out`. Throws
    /// `.outputLimitExceeded` as soon as more than `limit` bytes would be appended, before
    /// appending them; `out`'s capacity never grows past its start count plus `limit`.
    func process(_ input: UnsafeRawBufferPointer, flush: Int32, into out: inout [UInt8],
                 limit: Int) throws(DeflateError) -> Outcome {
        guard input.count <= Int(UInt32.max) else { throw .zlib(Z_BUF_ERROR, "input larger than 4 GiB") }
        let limit = max(0, limit)
        let ceiling = limit >= Int.max - out.count ? Int.max : out.count + limit
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
            stream.pointee.next_out = nil
            stream.pointee.avail_out = 0
        }
        var produced = 0
        while true {
            let room = limit - produced
            // One byte beyond the room tells "exactly full" apart from "would exceed".
            let window = room >= scratch.count ? scratch.count : room + 1
            let availInBefore = stream.pointee.avail_in
            stream.pointee.next_out = scratch.baseAddress
            stream.pointee.avail_out = UInt32(window)
            let rc = switch mode {
            case .deflate: deflate(stream, flush)
            case .inflate: inflate(stream, flush)
            }
            let count = window - Int(stream.pointee.avail_out)
            if count > room { throw .outputLimitExceeded }
            if count > 0 {
                Self.append(UnsafeBufferPointer(rebasing: scratch[..<count]), to: &out, ceiling: ceiling)
                produced += count
            }
            switch rc {
            case Z_STREAM_END:
                return Outcome(streamEnd: true, unconsumed: Int(stream.pointee.avail_in))
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_out == 0 { continue }  // more output may be pending
                let stalled = count == 0 && stream.pointee.avail_in == availInBefore
                if stream.pointee.avail_in == 0 || stalled { return Outcome(streamEnd: false, unconsumed: 0) }
            case Z_NEED_DICT:
                throw .zlib(rc, "stream needs a preset dictionary")
            default:
                throw .zlib(rc, message(mode == .deflate ? "deflate" : "inflate"))
            }
        }
    }

    /// `body` over `bytes`' storage, keeping the typed error (`withUnsafeBytes` only rethrows).
    static func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(DeflateError) -> R) throws(DeflateError) -> R {
        try bytes.withUnsafeBytes { raw in Result { () throws(DeflateError) -> R in try body(raw) } }.get()
    }

    /// Worst-case deflate output for `count` input bytes.
    func deflateBound(_ count: Int) -> Int {
        Int(CZlib.deflateBound(stream, UInt(count)))
    }

    private func message(_ operation: String) -> String {
        "\(operation): " + (stream.pointee.msg.map { String(cString: $0) } ?? "zlib error")
    }

    /// Appends with doubling growth, but never reserving past `ceiling` elements.
    private static func append(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], ceiling: Int) {
        let needed = out.count + bytes.count
        if needed > out.capacity {
            out.reserveCapacity(max(needed, min(ceiling, out.capacity * 2)))
        }
        out.append(contentsOf: bytes)
    }
}
