import CZlib

public enum DeflateError: Error, Equatable, Sendable {
    case zlib(Int32, String)
    /// Output would exceed the caller's cap (zip-bomb defence).
    case outputLimitExceeded
    /// The compressed input ended before the stream did.
    case truncated
}

/// A z_stream at a fixed address (zlib keeps pointers into it), freed with the owner.
final class ZStream {
    enum Mode { case deflate, inflate }
    let stream: UnsafeMutablePointer<z_stream>
    let mode: Mode

    init(mode: Mode, windowBits: Int32, level: Int32 = 6) throws(DeflateError) {
        self.mode = mode
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = mode == .deflate ? dfz_deflate_init2(stream, level, windowBits, 8) : dfz_inflate_init2(stream, windowBits)
        guard rc == Z_OK else {
            stream.deallocate()
            throw DeflateError.zlib(rc, "init failed")
        }
    }

    deinit {
        if mode == .deflate { deflateEnd(stream) } else { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func reset() {
        if mode == .deflate { deflateReset(stream) } else { inflateReset(stream) }
    }

    var message: String { stream.pointee.msg.map { String(cString: $0) } ?? "zlib error" }

    /// Runs deflate/inflate over `input` with `flush`, appending output to `out`; stops with
    /// `.outputLimitExceeded` as soon as `out` would grow past `limit`.
    func run(_ input: UnsafeRawBufferPointer, flush: Int32, into out: inout [UInt8], limit: Int) throws(DeflateError) -> Int32 {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var rc: Int32 = Z_OK
        repeat {
            let produced: Int = chunk.withUnsafeMutableBufferPointer { buf in
                stream.pointee.next_out = buf.baseAddress
                stream.pointee.avail_out = UInt32(buf.count)
                rc = mode == .deflate ? deflate(stream, flush) : inflate(stream, flush)
                return buf.count - Int(stream.pointee.avail_out)
            }
            if rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR {
                throw DeflateError.zlib(rc, message)
            }
            if out.count + produced > limit { throw DeflateError.outputLimitExceeded }
            out.append(contentsOf: chunk[0..<produced])
            if rc == Z_STREAM_END { break }
            if rc == Z_BUF_ERROR && produced == 0 { break }  // no progress possible: needs more input
        } while stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        return rc
    }
}
