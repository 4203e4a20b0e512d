/// One-shot gzip (RFC 1952) through zlib.
public enum Gzip {
    /// Compresses `input` as one gzip member. Level 9 suits content compressed once and served often.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(DeflateError) -> [UInt8] {
        let z = try ZStream(mode: .deflate, windowBits: 31, level: level)
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 2 + 64)
        let rc = try input.withUnsafeBytes { raw in
            Result { () throws(DeflateError) in try z.run(raw, flush: 4 /* Z_FINISH */, into: &out, limit: Int.max) }
        }.get()
        guard rc == 1 /* Z_STREAM_END */ else { throw DeflateError.zlib(rc, "gzip did not finish") }
        return out
    }

    /// Decompresses one gzip member, refusing to produce more than `maxOutput` bytes.
    public static func decompress(_ input: [UInt8], maxOutput: Int) throws(DeflateError) -> [UInt8] {
        let z = try ZStream(mode: .inflate, windowBits: 31)
        var out: [UInt8] = []
        let rc = try input.withUnsafeBytes { raw in
            Result { () throws(DeflateError) in try z.run(raw, flush: 0 /* Z_NO_FLUSH */, into: &out, limit: maxOutput) }
        }.get()
        guard rc == 1 /* Z_STREAM_END */ else { throw DeflateError.truncated }
        return out
    }
}

/// permessage-deflate (RFC 7692) compressor: raw deflate, one message per call, flushed with
/// Z_SYNC_FLUSH and the trailing 00 00 ff ff removed (§7.2.1).
public final class RawDeflater {
    private let z: ZStream
    private let noContextTakeover: Bool

    /// zlib cannot deflate with an 8-bit window (it silently uses 9), so `windowBits` below 9
    /// is raised to 9: never accept `server_max_window_bits=8` in negotiation.
    public init(level: Int32 = 6, windowBits: Int = 15, noContextTakeover: Bool) throws(DeflateError) {
        z = try ZStream(mode: .deflate, windowBits: -Int32(max(9, min(15, windowBits))), level: level)
        self.noContextTakeover = noContextTakeover
    }

    public func compressMessage(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) throws(DeflateError) {
        let start = out.count
        _ = try z.run(input, flush: 2 /* Z_SYNC_FLUSH */, into: &out, limit: Int.max)
        if out.count - start >= 4 && out[(out.count - 4)...].elementsEqual([0, 0, 0xff, 0xff]) {
            out.removeLast(4)
        }
        if noContextTakeover { z.reset() }
    }
}

/// permessage-deflate decompressor with an output cap per message.
public final class RawInflater {
    private let z: ZStream
    private let noContextTakeover: Bool
    private static let tail: [UInt8] = [0, 0, 0xff, 0xff]

    public init(windowBits: Int = 15, noContextTakeover: Bool) throws(DeflateError) {
        z = try ZStream(mode: .inflate, windowBits: -Int32(max(8, min(15, windowBits))))
        self.noContextTakeover = noContextTakeover
    }

    public func decompressMessage(_ input: UnsafeRawBufferPointer, maxOutput: Int, into out: inout [UInt8]) throws(DeflateError) {
        let limit = out.count + maxOutput
        _ = try z.run(input, flush: 2, into: &out, limit: limit)
        _ = try Self.tail.withUnsafeBytes { raw in
            Result { () throws(DeflateError) in try z.run(raw, flush: 2, into: &out, limit: limit) }
        }.get()
        if noContextTakeover { z.reset() }
    }
}
