import CZlib

/// Compressor for WebSocket permessage-deflate (RFC 7692): raw deflate (no zlib/gzip wrapper),
/// one message per call. Keep one per connection; it is not thread-safe.
public final class RawDeflater {
    private let z: ZStream
    private let noContextTakeover: Bool
    /// The window actually used; see `init`.
    public let windowBits: Int

    /// `windowBits` is the negotiated `*_max_window_bits` (8...15). zlib cannot raw-deflate
    /// with an 8-bit window (deflateInit2 rejects -8), so 8 is raised to 9: the output may then
    /// refer 512 bytes back, which an inflater limited to 256 bytes rejects. A server should
    /// therefore never agree to compress with `server_max_window_bits=8`.
    /// With `noContextTakeover` every message is compressed without reference to earlier ones.
    public init(level: Int32 = 6, windowBits: Int = 15, noContextTakeover: Bool) throws(DeflateError) {
        guard (8...15).contains(windowBits) else { throw .zlib(Z_STREAM_ERROR, "windowBits \(windowBits) not in 8...15") }
        self.windowBits = max(9, windowBits)
        z = try ZStream(mode: .deflate, windowBits: -Int32(self.windowBits), level: level)
        self.noContextTakeover = noContextTakeover
    }

    /// Compresses one whole message and appends it to `out`: deflate with Z_SYNC_FLUSH, then the
    /// trailing empty stored block `00 00 ff ff` removed (RFC 7692 §7.2.1). The stream is reset
    /// afterwards when there is no context takeover. On error `out` is left as it was.
    public func compressMessage(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) throws(DeflateError) {
        let start = out.count
        do throws(DeflateError) {
            _ = try z.process(input, flush: Z_SYNC_FLUSH, into: &out, limit: .max)
        } catch {
            out.removeSubrange(start...)
            z.reset()
            throw error
        }
        let end = out.count
        if end - start >= 4, out[end - 4] == 0, out[end - 3] == 0, out[end - 2] == 0xff, out[end - 1] == 0xff {
            out.removeLast(4)
        } else if end == start {
            // An empty message right after a flush makes zlib emit nothing, but an empty payload is
            // no deflate data: send the header byte of an empty stored block (RFC 7692 §7.2.3.6).
            out.append(0x00)
        }
        if noContextTakeover { z.reset() }
    }
}

/// Decompressor for WebSocket permessage-deflate (RFC 7692) with an output cap per message.
/// Keep one per connection; it is not thread-safe.
public final class RawInflater {
    private static let tail: [UInt8] = [0x00, 0x00, 0xff, 0xff]
    private let z: ZStream
    private let noContextTakeover: Bool
    /// The window actually used; see `init`.
    public let windowBits: Int

    /// `windowBits` is the peer's negotiated `*_max_window_bits` (8...15). 8 is raised to 9,
    /// which also accepts zlib peers that asked for 8 but compress with 9 (a larger window only
    /// costs memory). With `noContextTakeover` every message is decoded on its own.
    public init(windowBits: Int = 15, noContextTakeover: Bool) throws(DeflateError) {
        guard (8...15).contains(windowBits) else { throw .zlib(Z_STREAM_ERROR, "windowBits \(windowBits) not in 8...15") }
        self.windowBits = max(9, windowBits)
        z = try ZStream(mode: .inflate, windowBits: -Int32(self.windowBits))
        self.noContextTakeover = noContextTakeover
    }

    /// Decompresses one whole message (its frames' payloads joined) and appends it to `out`:
    /// `00 00 ff ff` is appended to the input (RFC 7692 §7.2.2) and at most `maxOutput` bytes are
    /// produced; beyond that it throws `.outputLimitExceeded` at once. Final (BFINAL) blocks are
    /// accepted (§7.2.3.4): the stream restarts after them, keeping the window under context takeover.
    /// On error `out` is left as it was and the stream is reset: under context takeover the
    /// connection cannot continue (fail it, e.g. close 1009 or 1007).
    public func decompressMessage(_ input: UnsafeRawBufferPointer, maxOutput: Int,
                                  into out: inout [UInt8]) throws(DeflateError) {
        // An empty payload decodes to an empty message; the tail alone is no valid block.
        guard !input.isEmpty else { return }
        let start = out.count
        do throws(DeflateError) {
            var rest = input
            while true {
                let outcome = try z.process(rest, flush: Z_SYNC_FLUSH, into: &out, limit: maxOutput - (out.count - start))
                guard outcome.streamEnd else { break }
                try restart()
                // Ending exactly on a final block, the message is complete: the tail would start a bogus block.
                if outcome.unconsumed == 0 {
                    if noContextTakeover { z.reset() }
                    return
                }
                rest = UnsafeRawBufferPointer(rebasing: rest[(rest.count - outcome.unconsumed)...])
            }
            let room = maxOutput - (out.count - start)
            let outcome = try ZStream.withBytes(Self.tail) { (raw) throws(DeflateError) in
                try z.process(raw, flush: Z_SYNC_FLUSH, into: &out, limit: room)
            }
            if outcome.streamEnd { try restart() }
            if noContextTakeover { z.reset() }
        } catch {
            out.removeSubrange(start...)
            z.reset()
            throw error
        }
    }

    private func restart() throws(DeflateError) {
        try z.restartInflate(keepingWindow: !noContextTakeover, windowBytes: 1 << windowBits)
    }
}
