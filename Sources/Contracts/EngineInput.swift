
/// One input of the engine, as the worker fed it: a tick with the wall-clock time it was
/// processed at, or a clock step that closed a bar or found a stale feed. Journaled before the
/// events it makes (`EventJournal.appendInput`), so that after a crash the inputs since the last
/// checkpoint, fed again in order, bring the engine to exactly the state it had: the engine is
/// a deterministic function of its inputs, wall-clock ones included.
public enum EngineInput: Sendable, Equatable {
    case tick(Tick, wallMs: Int64)
    case clock(wallMs: Int64, graceMs: Int64)
    /// The strategies in force changed (PUT /api/v1/strategies, a reload, the file at start):
    /// the registry in the strategies file's form.
    case strategies([UInt8])
    /// The process started again: wall-clock bookkeeping restarts (`SignalEngine.resume`).
    case resume(wallMs: Int64, holdMs: Int64)

    @inlinable
    public func write(_ w: inout BinaryWriter) {
        switch self {
        case .tick(let t, let wallMs):
            w.u8(1)
            w.i64(wallMs)
            w.string(t.symbol)
            w.i64(t.ts)
            w.f64(t.price)
            w.f64(t.volume)
            w.f64(t.bid)
            w.f64(t.ask)
        case .clock(let wallMs, let graceMs):
            w.u8(2)
            w.i64(wallMs)
            w.i64(graceMs)
        case .strategies(let json):
            w.u8(3)
            w.u64(UInt64(json.count))
            w.bytes.append(contentsOf: json)
        case .resume(let wallMs, let holdMs):
            w.u8(4)
            w.i64(wallMs)
            w.i64(holdMs)
        }
    }

    public init(reading r: inout BinaryReader) throws(CheckpointError) {
        switch try r.u8() {
        case 1:
            let wallMs = try r.i64()
            let tick = Tick(symbol: try r.string(), ts: try r.i64(), price: try r.f64(), volume: try r.f64(),
                            bid: try r.optionalF64(), ask: try r.optionalF64())
            self = .tick(tick, wallMs: wallMs)
        case 2:
            self = .clock(wallMs: try r.i64(), graceMs: try r.i64())
        case 3:
            self = .strategies(try r.byteArray())
        case 4:
            self = .resume(wallMs: try r.i64(), holdMs: try r.i64())
        case let kind:
            throw CheckpointError("unknown input kind \(kind)")
        }
    }

    public init(bytes: [UInt8]) throws(CheckpointError) {
        var r = BinaryReader(bytes)
        try self.init(reading: &r)
        guard r.atEnd else { throw CheckpointError("\(bytes.count - r.offset) trailing bytes after an input") }
    }

    /// Every input of a journal record (a batch of inputs written one after the other).
    public static func all(in bytes: [UInt8]) throws(CheckpointError) -> [EngineInput] {
        var r = BinaryReader(bytes)
        var out: [EngineInput] = []
        while !r.atEnd { out.append(try EngineInput(reading: &r)) }
        return out
    }
}
