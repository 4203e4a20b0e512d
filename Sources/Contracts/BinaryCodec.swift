import Foundation

/// Why a checkpoint or a journal record could not be read: it is then ignored and the server
/// says why.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Little-endian binary writer for the engine checkpoint and the input journal: doubles as their
/// bit patterns (a restored indicator is bit for bit the one that was saved), strings as a
/// length and UTF-8. A pure codec, no I/O.
public struct BinaryWriter: Sendable {
    /// What was written (callers read it; writing goes through the methods).
    public var bytes: [UInt8] = []

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    @inlinable public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    // Inlinable: the input journal encodes a tick per call on the pipeline worker.
    @inlinable public mutating func u8(_ v: UInt8) { bytes.append(v) }
    @inlinable public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    @inlinable public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    @inlinable public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    @inlinable public mutating func int(_ v: Int) { i64(Int64(v)) }
    @inlinable public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    @inlinable public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u64(UInt64(utf8.count))
            bytes.append(contentsOf: UnsafeRawBufferPointer(utf8))
        }
    }
    @inlinable public mutating func f64(_ v: Double?) {
        bool(v != nil)
        if let v { f64(v) }
    }
    public mutating func i64(_ v: Int64?) {
        bool(v != nil)
        if let v { i64(v) }
    }
    public mutating func strings(_ list: [String]) {
        int(list.count)
        for s in list { string(s) }
    }
    /// A dictionary, keys sorted (the same state always gives the same bytes).
    public mutating func counts(_ map: [String: Int64]) {
        int(map.count)
        for key in map.keys.sorted() {
            string(key)
            i64(map[key]!)
        }
    }
}

/// Reads what `BinaryWriter` wrote; any overrun or impossible value throws.
public struct BinaryReader {
    let bytes: [UInt8]
    public private(set) var offset: Int
    /// The version of the document being read, when its reader set it (parts that changed
    /// between versions read the older form too).
    public var formatVersion: UInt64 = .max
    /// An upper bound for counts read back (a damaged length must not allocate gigabytes).
    static let maxCount = 1 << 26

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var atEnd: Bool { offset == bytes.count }

    public mutating func u8() throws(CheckpointError) -> UInt8 {
        guard offset < bytes.count else { throw CheckpointError("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }
    public mutating func bool() throws(CheckpointError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        default: throw CheckpointError("invalid flag at byte \(offset - 1)")
        }
    }
    public mutating func u64() throws(CheckpointError) -> UInt64 {
        guard offset + 8 <= bytes.count else { throw CheckpointError("truncated at byte \(offset)") }
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }
    public mutating func i64() throws(CheckpointError) -> Int64 { Int64(bitPattern: try u64()) }
    public mutating func f64() throws(CheckpointError) -> Double { Double(bitPattern: try u64()) }
    public mutating func count() throws(CheckpointError) -> Int {
        let n = try i64()
        guard n >= 0, n <= Self.maxCount else { throw CheckpointError("impossible count \(n) at byte \(offset - 8)") }
        return Int(n)
    }
    public mutating func int() throws(CheckpointError) -> Int { Int(try i64()) }
    public mutating func string() throws(CheckpointError) -> String {
        let n = try count()
        guard offset + n <= bytes.count else { throw CheckpointError("truncated string at byte \(offset)") }
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }
    public mutating func byteArray() throws(CheckpointError) -> [UInt8] {
        let n = try count()
        guard offset + n <= bytes.count else { throw CheckpointError("truncated bytes at byte \(offset)") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }
    public mutating func optionalF64() throws(CheckpointError) -> Double? { try bool() ? try f64() : nil }
    public mutating func optionalI64() throws(CheckpointError) -> Int64? { try bool() ? try i64() : nil }
    public mutating func strings() throws(CheckpointError) -> [String] {
        var out: [String] = []
        for _ in 0..<(try count()) { out.append(try string()) }
        return out
    }
    public mutating func counts() throws(CheckpointError) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for _ in 0..<(try count()) {
            let key = try string()
            out[key] = try i64()
        }
        return out
    }
    public mutating func raw<T: RawRepresentable>(_ type: T.Type) throws(CheckpointError) -> T where T.RawValue == String {
        let s = try string()
        guard let v = T(rawValue: s) else { throw CheckpointError("unknown \(T.self) \(s)") }
        return v
    }
}

// MARK: - Contracts

extension Bar {
    public func write(_ w: inout BinaryWriter) {
        w.string(symbol)
        w.string(interval)
        w.i64(start)
        for v in [open, high, low, close, volume, vwap] { w.f64(v) }
        w.int(trades)
    }

    public init(reading r: inout BinaryReader) throws(CheckpointError) {
        self.init(symbol: try r.string(), interval: try r.string(), start: try r.i64(), open: try r.f64(), high: try r.f64(),
                  low: try r.f64(), close: try r.f64(), volume: try r.f64(), vwap: try r.f64(), trades: try r.int())
    }
}

extension Features {
    public func write(_ w: inout BinaryWriter) {
        w.string(symbol)
        w.string(interval)
        w.i64(ts)
        w.f64(close)
        for field in fields { w.f64(field.value) }
        w.int(movedBars14)
    }

    public init(reading r: inout BinaryReader) throws(CheckpointError) {
        self.init(symbol: try r.string(), interval: try r.string(), ts: try r.i64(), close: try r.f64())
        sma20 = try r.optionalF64()
        ema12 = try r.optionalF64()
        ema26 = try r.optionalF64()
        ema50 = try r.optionalF64()
        rsi14 = try r.optionalF64()
        macd = try r.optionalF64()
        macdSignal = try r.optionalF64()
        macdHist = try r.optionalF64()
        bbUpper = try r.optionalF64()
        bbMiddle = try r.optionalF64()
        bbLower = try r.optionalF64()
        atr14 = try r.optionalF64()
        stddev20 = try r.optionalF64()
        ret1 = try r.optionalF64()
        vwap20 = try r.optionalF64()
        volumeZ20 = try r.optionalF64()
        movedBars14 = try r.int()
    }
}

extension Opportunity {
    public func write(_ w: inout BinaryWriter) {
        w.u64(seq)
        w.string(id)
        w.string(symbol)
        w.string(direction.rawValue)
        w.string(status.rawValue)
        w.f64(confidence)
        w.f64(price)
        w.strings(strategies)
        w.int(signalCount)
        w.i64(createdTs)
        w.i64(updatedTs)
        w.i64(expiresTs)
        w.string(riskStatus.rawValue)
        w.strings(riskAlerts)
        w.strings(untradable.map { [$0] } ?? [])
    }

    public init(reading r: inout BinaryReader) throws(CheckpointError) {
        self.init(seq: try r.u64(), id: try r.string(), symbol: try r.string(), direction: try r.raw(Direction.self),
                  status: try r.raw(OpportunityStatus.self), confidence: try r.f64(), price: try r.f64(),
                  strategies: try r.strings(), signalCount: try r.int(), createdTs: try r.i64(), updatedTs: try r.i64(),
                  expiresTs: try r.i64(), riskStatus: try r.raw(RiskStatus.self), riskAlerts: try r.strings())
        // Engine state version 5 added `untradable`.
        if r.formatVersion >= 5 { untradable = try r.strings().first }
    }
}
