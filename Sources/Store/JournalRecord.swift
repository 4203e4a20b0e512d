import CZlib

/// One journal record: `[u32 payload length][u32 CRC-32 of seq + payload][u64 seq][payload]`,
/// little-endian. A pure codec over bytes: a torn tail (a record cut anywhere) reads as
/// `.incomplete`, a damaged one as `.corrupt`, so recovery can truncate exactly there.
public enum JournalRecord {
    public static let headerBytes = 16
    /// A payload larger than this is corruption, not a record (events are a few hundred bytes).
    public static let maxPayloadBytes = 16 << 20

    public enum Decoded: Equatable {
        /// A whole, intact record: its seq, where its payload is, and where the next record starts.
        case record(seq: UInt64, payload: Range<Int>, next: Int)
        /// The bytes end inside a record (a torn write), or exactly at its start (`at == count`).
        case incomplete
        /// The header or checksum is wrong.
        case corrupt
    }

    public static func append(seq: UInt64, payload: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        // The CRC covers the seq's little-endian bytes, read in place (no array per record).
        let le = seq.littleEndian
        var crc = withUnsafeBytes(of: le) { crc32(0, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
        if let base = payload.baseAddress, payload.count > 0 {
            crc = crc32(crc, base.assumingMemoryBound(to: UInt8.self), uInt(payload.count))
        }
        appendLE(UInt32(payload.count), &out)
        appendLE(UInt32(truncatingIfNeeded: crc), &out)
        appendLE(seq, &out)
        out.append(contentsOf: payload)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Decoded {
        guard bytes.count - offset >= headerBytes else { return .incomplete }
        let length = Int(readLE(bytes, offset, as: UInt32.self))
        guard length <= maxPayloadBytes else { return .corrupt }
        let stored = readLE(bytes, offset + 4, as: UInt32.self)
        let seq = readLE(bytes, offset + 8, as: UInt64.self)
        let start = offset + headerBytes
        guard bytes.count - start >= length else { return .incomplete }
        var crc = crc32(0, (bytes.baseAddress! + offset + 8).assumingMemoryBound(to: UInt8.self), 8)
        if length > 0 { crc = crc32(crc, (bytes.baseAddress! + start).assumingMemoryBound(to: UInt8.self), uInt(length)) }
        guard UInt32(truncatingIfNeeded: crc) == stored, seq > 0 else { return .corrupt }
        return .record(seq: seq, payload: start..<(start + length), next: start + length)
    }

    private static func appendLE<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        var le = value.littleEndian
        withUnsafeBytes(of: &le) { out.append(contentsOf: $0) }
    }

    private static func readLE<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, _ at: Int, as: T.Type) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + MemoryLayout<T>.size)])) }
        return T(littleEndian: value)
    }
}
