import CZlib

/// One-shot gzip (RFC 1952) through zlib.
public enum Gzip {
    /// Compresses `input` as one gzip member (windowBits 31). Level 9 suits content compressed
    /// once and served often, such as static files.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(DeflateError) -> [UInt8] {
        let z = try ZStream(mode: .deflate, windowBits: 31, level: level, scratchBytes: 64 << 10)
        var out: [UInt8] = []
        out.reserveCapacity(min(z.deflateBound(input.count), input.count / 2 + 256))
        let outcome = try ZStream.withBytes(input) { (raw) throws(DeflateError) in
            try z.process(raw, flush: Z_FINISH, into: &out, limit: .max)
        }
        guard outcome.streamEnd else { throw .zlib(Z_BUF_ERROR, "deflate did not finish the gzip member") }
        return out
    }

    /// Decompresses one gzip member, producing at most `maxOutput` bytes: past that it stops and
    /// throws `.outputLimitExceeded` without allocating more. Input that ends early throws
    /// `.truncated`; a corrupt member, bad CRC or bytes after the member throw `.zlib`.
    public static func decompress(_ input: [UInt8], maxOutput: Int) throws(DeflateError) -> [UInt8] {
        var out: [UInt8] = []
        try ZStream.withBytes(input) { (raw) throws(DeflateError) in
            try decompress(raw, maxOutput: maxOutput, into: &out)
        }
        return out
    }

    /// `decompress(_:maxOutput:)` appending to `out`; on error `out` may hold a partial prefix.
    static func decompress(_ input: UnsafeRawBufferPointer, maxOutput: Int,
                           into out: inout [UInt8]) throws(DeflateError) {
        let z = try ZStream(mode: .inflate, windowBits: 31, scratchBytes: 64 << 10)
        let guess = input.count > Int.max / 4 ? Int.max : max(1024, input.count * 4)
        out.reserveCapacity(out.count + min(maxOutput, guess))
        let outcome = try z.process(input, flush: Z_NO_FLUSH, into: &out, limit: maxOutput)
        guard outcome.streamEnd else { throw .truncated }
        guard outcome.unconsumed == 0 else {
            throw .zlib(Z_DATA_ERROR, "\(outcome.unconsumed) bytes after the gzip member")
        }
    }
}
