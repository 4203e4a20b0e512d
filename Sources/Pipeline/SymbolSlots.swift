/// Symbol → per-symbol state for the lookups made on every tick: open addressing over a
/// power-of-two table, keyed by a multiply-xor hash of the symbol's UTF-8 bytes read 8 at a
/// time (symbols are short) instead of the SipHash a `Dictionary` runs per lookup. The hash
/// is seeded per process, so which names share a slot cannot be worked out in advance. A cache
/// over the engine's dictionary of symbols, which stays the authority (iteration, checkpoints)
/// and owns the values: the table holds them unretained, so a lookup costs no reference count
/// (the owner empties the table whenever it lets values go).
struct SymbolSlots<Value: AnyObject> {
    private var keys: [String?] = Array(repeating: nil, count: 16)
    private var values: [Unmanaged<Value>?] = Array(repeating: nil, count: 16)
    private var count = 0
    private static var seed: UInt64 { symbolSlotsSeed }

    /// `mutating` only so that a lookup through a class's stored property works on the table in
    /// place: a non-mutating call copies the struct out first, retaining and releasing both
    /// arrays on every lookup.
    mutating func find(_ symbol: String) -> Unmanaged<Value>? {
        let mask = keys.count - 1
        var i = Self.hash(symbol) & mask
        while let key = keys[i] {
            if key == symbol { return values[i] }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Adds a symbol not held yet.
    mutating func insert(_ symbol: String, _ value: Value) {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var i = Self.hash(symbol) & mask
        while keys[i] != nil { i = (i + 1) & mask }
        keys[i] = symbol
        values[i] = Unmanaged.passUnretained(value)
        count += 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = Array(repeating: nil, count: oldKeys.count * 2)
        values = Array(repeating: nil, count: oldKeys.count * 2)
        count = 0
        for (key, value) in zip(oldKeys, oldValues) {
            if let key, let value { insert(key, value.takeUnretainedValue()) }
        }
    }

    static func hash(_ symbol: String) -> Int {
        let mixed = symbol.utf8.withContiguousStorageIfAvailable { bytes -> UInt64 in
            let n = bytes.count
            guard let p = UnsafeRawPointer(bytes.baseAddress) else { return 0 }
            // The first and last 8 bytes (overlapping when shorter than 16), or the bytes one by
            // one when fewer than 8; every byte of a symbol up to 16 long counts.
            var a: UInt64 = 0, b: UInt64 = 0
            if n >= 8 {
                a = p.loadUnaligned(as: UInt64.self)
                b = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                var k = 8
                while k < n - 8 { b = (b ^ UInt64(p.load(fromByteOffset: k, as: UInt8.self))) &* 0x100_0000_01b3; k += 1 }
            } else {
                for k in 0..<n { a = a << 8 | UInt64(p.load(fromByteOffset: k, as: UInt8.self)) }
            }
            return (a ^ seed) &* 0x9e37_79b9_7f4a_7c15 ^ (b &+ UInt64(n)) &* 0xc2b2_ae3d_27d4_eb4f
        } ?? symbol.utf8.reduce(seed) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        // Murmur3's finaliser: every input bit reaches the low bits the mask keeps.
        var h = mixed
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return Int(truncatingIfNeeded: h)
    }
}

private let symbolSlotsSeed: UInt64 = .random(in: 1 ... .max)
