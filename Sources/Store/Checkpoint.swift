import CZlib
import Contracts
import Foundation
import Glibc
import Pipeline
import Synchronization

/// The engine checkpoint on disk, `data_dir/checkpoint.dfc`: the whole `EngineCheckpoint` plus
/// each symbol's recent bars and features as the query store held them (the page's chart and
/// `GET /api/v1/symbols/{s}/bars` after a restart).
///
/// Layout: `"DFCKPT\r\n"`, u64 body length, u32 CRC-32 of the body, u32 format version, body
/// (little-endian, `BinaryWriter`): u64 taken-at ms, the engine state, the history. A torn
/// file (short), a damaged one (CRC), another version or bar interval is refused with the reason
/// and the server starts from the inputs it has. Written to a temporary file, synced, renamed
/// over the old one and the directory synced: a crash mid-write leaves the previous checkpoint.
public enum CheckpointFile {
    public static let fileName = "checkpoint.dfc"
    public static let formatVersion: UInt32 = 1
    static let magic = Array("DFCKPT\r\n".utf8)
    static let headerBytes = 24

    public struct Loaded {
        public let engine: EngineCheckpoint
        public let bars: [Bar]
        public let features: [Features]
        public let takenMs: Int64
    }

    public enum Outcome {
        case loaded(Loaded)
        /// No file: nothing to say beyond it.
        case missing(String)
        /// A file that cannot be used, and why.
        case unusable(String)
    }

    public static func encode(_ engine: EngineCheckpoint, history: [(bars: [Bar], features: [Features])],
                              takenMs: Int64) -> [UInt8] {
        var w = BinaryWriter(capacity: 64 * 1024)
        w.i64(takenMs)
        engine.write(&w)
        w.int(history.count)
        for (bars, features) in history {
            w.int(bars.count)
            for bar in bars { bar.write(&w) }
            w.int(features.count)
            for f in features { f.write(&w) }
        }
        let body = w.bytes
        var out: [UInt8] = magic
        out.reserveCapacity(headerBytes + body.count)
        appendLE(UInt64(body.count), &out)
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        appendLE(UInt32(truncatingIfNeeded: crc), &out)
        appendLE(formatVersion, &out)
        out += body
        return out
    }

    public static func decode(_ bytes: [UInt8], settings: EngineSettings) -> Result<Loaded, CheckpointError> {
        guard bytes.count >= headerBytes, Array(bytes[0..<8]) == magic else {
            return .failure(CheckpointError("not a checkpoint (\(bytes.count) bytes, no DFCKPT header)"))
        }
        var header = BinaryReader(bytes, offset: 8)
        guard let length = try? header.u64() else { return .failure(CheckpointError("torn header")) }
        let stored = UInt32(bytes[16]) | UInt32(bytes[17]) << 8 | UInt32(bytes[18]) << 16 | UInt32(bytes[19]) << 24
        let version = UInt32(bytes[20]) | UInt32(bytes[21]) << 8 | UInt32(bytes[22]) << 16 | UInt32(bytes[23]) << 24
        guard version == formatVersion else {
            return .failure(CheckpointError("format version \(version), this server reads \(formatVersion)"))
        }
        guard UInt64(bytes.count - headerBytes) == length else {
            return .failure(CheckpointError("torn: \(bytes.count - headerBytes) of \(length) body bytes"))
        }
        let crc = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress! + headerBytes, uInt(length)) }
        guard UInt32(truncatingIfNeeded: crc) == stored else { return .failure(CheckpointError("damaged: checksum mismatch")) }
        var r = BinaryReader(bytes, offset: headerBytes)
        do throws(CheckpointError) {
            let takenMs = try r.i64()
            let engine = try EngineCheckpoint(reading: &r, settings: settings)
            var bars: [Bar] = []
            var features: [Features] = []
            for _ in 0..<(try r.count()) {
                for _ in 0..<(try r.count()) { bars.append(try Bar(reading: &r)) }
                for _ in 0..<(try r.count()) { features.append(try Features(reading: &r)) }
            }
            guard r.atEnd else { throw CheckpointError("trailing bytes") }
            return .success(Loaded(engine: engine, bars: bars, features: features, takenMs: takenMs))
        } catch {
            return .failure(error)
        }
    }

    public static func read(from directory: String, settings: EngineSettings) -> Outcome {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return .missing("no checkpoint in \(directory)") }
        switch decode([UInt8](data), settings: settings) {
        case .success(let loaded): return .loaded(loaded)
        case .failure(let error): return .unusable("\(path): \(error)")
        }
    }

    /// Writes atomically: temporary file, (fdatasync), rename, (directory fsync).
    public static func write(_ bytes: [UInt8], to directory: String, sync: Bool) throws(CheckpointError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError("cannot create \(directory): \(error)")
        }
        let path = (directory as NSString).appendingPathComponent(fileName)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError("cannot open \(temporary): errno \(errno)") }
        var done = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return false }
            }
            return true
        }
        if ok && sync { _ = fdatasync(fd) }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CheckpointError("cannot write \(path): errno \(errno)")
        }
        if sync {
            let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dir >= 0 { _ = fsync(dir); close(dir) }
        }
    }

    private static func appendLE<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }
}

/// Takes the engine's checkpoints off the worker: the worker hands over a detached state between
/// two batches (`PipelineWorker.onCheckpoint`); a background queue adds the store's recent bars
/// and features, encodes, writes the file and then drops the input-journal segments the
/// checkpoint covers. One write at a time: a state that arrives while one is being written is
/// skipped (the next interval brings a newer one).
public final class Checkpointer: @unchecked Sendable {
    public let directory: String
    let sync: Bool
    let store: EventStore
    let inputs: Journal?
    private let queue = DispatchQueue(label: "df-checkpoint", qos: .utility)
    private let busy = Atomic<Bool>(false)
    /// Checkpoints written, skipped while busy, failed; size and time of the last one.
    public let written = Atomic<Int>(0)
    public let skipped = Atomic<Int>(0)
    public let failed = Atomic<Int>(0)
    public let lastBytes = Atomic<Int>(0)
    public let lastMicros = Atomic<Int>(0)
    /// Market-time bookkeeping of the last one written (`inputSeq`, for health).
    public let lastInputSeq = Atomic<UInt64>(0)

    public init(directory: String, sync: Bool, store: EventStore, inputs: Journal?) {
        self.directory = directory
        self.sync = sync
        self.store = store
        self.inputs = inputs
    }

    /// From the worker thread: never blocks.
    public func schedule(_ checkpoint: EngineCheckpoint) {
        guard !busy.exchange(true, ordering: .acquiringAndReleasing) else {
            skipped.wrappingAdd(1, ordering: .relaxed)
            return
        }
        queue.async { [self] in
            _ = try? save(checkpoint)
            busy.store(false, ordering: .releasing)
        }
    }

    /// Waits for a write in flight, then writes this one (shutdown).
    public func saveNow(_ checkpoint: EngineCheckpoint) throws(CheckpointError) {
        queue.sync {}
        try save(checkpoint)
    }

    private func save(_ checkpoint: EngineCheckpoint) throws(CheckpointError) {
        let start = DispatchTime.now().uptimeNanoseconds
        // The store may already hold bars the worker closed after the state was taken: keep only
        // those the state has seen, or the inputs replayed after it would record them twice.
        let lastBar = checkpoint.lastClosedBar
        var history: [(bars: [Bar], features: [Features])] = []
        for symbol in checkpoint.symbolNames {
            let through = lastBar[symbol] ?? .min
            history.append((store.bars(symbol, limit: store.perSymbolHistory).filter { $0.start <= through },
                            store.features(symbol, limit: store.perSymbolHistory).filter { $0.ts <= through }))
        }
        let bytes = CheckpointFile.encode(checkpoint, history: history, takenMs: WallClock.milliseconds())
        do {
            try CheckpointFile.write(bytes, to: directory, sync: sync)
        } catch {
            failed.wrappingAdd(1, ordering: .relaxed)
            throw error
        }
        inputs?.deleteSegments(through: checkpoint.inputSeq)
        written.wrappingAdd(1, ordering: .relaxed)
        lastBytes.store(bytes.count, ordering: .relaxed)
        lastInputSeq.store(checkpoint.inputSeq, ordering: .relaxed)
        lastMicros.store(Int((DispatchTime.now().uptimeNanoseconds - start) / 1000), ordering: .relaxed)
    }
}
