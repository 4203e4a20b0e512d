import Contracts
import Foundation

/// A tick file's parse kept beside it (`FILE.dfcache`, `--cache`): the valid ticks in file order
/// as fixed binary records, so a later `replay`, `backtest` or `sweep` of an unchanged file reads
/// them straight from the page cache instead of parsing text again.
///
/// Layout (little-endian): `DFTICK01`, the key (the file's size and mtime and its format), then
/// one record per tick — ts (i64), price, volume (f64), symbol number (u32), flags (u32:
/// bit 0 a bid follows, bit 1 an ask) and the bid and ask present — then a trailer: rows the parse
/// refused (count, first `BarCache.keptLines` messages), the symbols, the tick count; the last
/// 8 bytes are the trailer's offset. Written to a temporary file as ticks are parsed, renamed into
/// place only when complete; read only when the key matches and every record is in bounds.
public enum TickCache {
    static let magic = Array("DFTICK01".utf8)
    static let recordBytes = 32

    public struct Summary: Sendable, Equatable {
        public var ticks: Int
        public var rejectedCount: Int
        public var rejectedLines: [String]
    }

    public final class Writer {
        private let path: String
        private let temporary: String
        private let file: UnsafeMutablePointer<FILE>
        private var symbols: [String] = []
        private var numbers: [String: UInt32] = [:]
        private var lastSymbol = ""
        private var lastNumber: UInt32 = 0
        private var count = 0
        private var offset: UInt64 = 0
        private var record = [UInt8](repeating: 0, count: TickCache.recordBytes + 16)
        private var failed = false

        /// Starts `path` (nil when its directory cannot take a file).
        public init?(path: String, key: String) {
            self.path = path
            temporary = path + ".\(getpid()).tmp"
            guard let file = fopen(temporary, "w") else { return nil }
            self.file = file
            var head = BinaryWriter()
            head.bytes += TickCache.magic
            head.string(key)
            write(head.bytes)
        }

        private var finished = false

        deinit {
            // Not finished (an early exit): leave no partial file behind.
            if !finished {
                fclose(file)
                unlink(temporary)
            }
        }

        private func write(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { if fwrite($0.baseAddress, 1, $0.count, file) != $0.count { failed = true } }
            offset += UInt64(bytes.count)
        }

        public func add(_ tick: Tick) {
            if tick.symbol != lastSymbol || count == 0 {
                lastSymbol = tick.symbol
                lastNumber = numbers[tick.symbol] ?? {
                    symbols.append(tick.symbol)
                    numbers[tick.symbol] = UInt32(symbols.count - 1)
                    return UInt32(symbols.count - 1)
                }()
            }
            var flags: UInt32 = 0
            var length = TickCache.recordBytes
            record.withUnsafeMutableBytes { r in
                r.storeBytes(of: tick.ts, toByteOffset: 0, as: Int64.self)
                r.storeBytes(of: tick.price, toByteOffset: 8, as: Double.self)
                r.storeBytes(of: tick.volume, toByteOffset: 16, as: Double.self)
                r.storeBytes(of: lastNumber, toByteOffset: 24, as: UInt32.self)
                if let bid = tick.bid {
                    flags |= 1
                    r.storeBytes(of: bid, toByteOffset: length, as: Double.self)
                    length += 8
                }
                if let ask = tick.ask {
                    flags |= 2
                    r.storeBytes(of: ask, toByteOffset: length, as: Double.self)
                    length += 8
                }
                r.storeBytes(of: flags, toByteOffset: 28, as: UInt32.self)
                if fwrite(r.baseAddress, 1, length, file) != length { failed = true }
            }
            offset += UInt64(length)
            count += 1
        }

        /// Writes the trailer and moves the file into place; false (and no file) on any failure.
        public func finish(rejectedCount: Int, rejectedLines: [String]) -> Bool {
            var tail = BinaryWriter()
            tail.int(rejectedCount)
            tail.strings(Array(rejectedLines.prefix(BarCache.keptLines)))
            tail.strings(symbols)
            tail.int(count)
            let trailerAt = offset
            write(tail.bytes)
            var end = BinaryWriter()
            end.u64(trailerAt)
            write(end.bytes)
            let closed = fclose(file) == 0
            finished = true
            guard !failed, closed, rename(temporary, path) == 0 else {
                unlink(temporary)
                return false
            }
            return true
        }
    }

    /// The ticks of a cache file whose key is `key`, each to `body`, in file order; nil (and no
    /// call to `body`) when the bytes are not such a file: another key, another format, truncated.
    public static func read(_ bytes: UnsafeRawBufferPointer, key: String, _ body: (Tick) -> Void) -> Summary? {
        guard bytes.count >= magic.count + 16, bytes.starts(with: magic) else { return nil }
        // The key first (a stale cache is the common miss): a length and the bytes.
        let keyLength = bytes.loadUnaligned(fromByteOffset: magic.count, as: UInt64.self).littleEndian
        guard keyLength <= UInt64(bytes.count) else { return nil }
        let recordsAt = magic.count + 8 + Int(keyLength)
        guard recordsAt <= bytes.count - 8, bytes[(magic.count + 8)..<recordsAt].elementsEqual(key.utf8) else { return nil }
        let trailerRaw = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self).littleEndian
        guard trailerRaw <= UInt64(bytes.count) else { return nil }
        let trailerAt = Int(trailerRaw)
        guard trailerAt >= recordsAt, trailerAt <= bytes.count - 8 else { return nil }
        var reader = BinaryReader(Array(bytes[trailerAt..<(bytes.count - 8)]))
        guard let rejectedCount = try? reader.int(), let rejectedLines = try? reader.strings(), let symbols = try? reader.strings(),
              let count = try? reader.int(), reader.atEnd else { return nil }
        // Every record in bounds, with a known symbol, and exactly `count` of them, before any is used.
        var at = recordsAt, seen = 0
        while at < trailerAt {
            guard at + recordBytes <= trailerAt else { return nil }
            let symbol = Int(bytes.loadUnaligned(fromByteOffset: at + 24, as: UInt32.self))
            let flags = bytes.loadUnaligned(fromByteOffset: at + 28, as: UInt32.self)
            guard symbol < symbols.count, flags & ~3 == 0 else { return nil }
            at += recordBytes + (flags & 1 == 0 ? 0 : 8) + (flags & 2 == 0 ? 0 : 8)
            seen += 1
        }
        guard at == trailerAt, seen == count else { return nil }
        at = recordsAt
        while at < trailerAt {
            let flags = bytes.loadUnaligned(fromByteOffset: at + 28, as: UInt32.self)
            var extra = at + recordBytes
            var bid: Double?, ask: Double?
            if flags & 1 != 0 {
                bid = bytes.loadUnaligned(fromByteOffset: extra, as: Double.self)
                extra += 8
            }
            if flags & 2 != 0 {
                ask = bytes.loadUnaligned(fromByteOffset: extra, as: Double.self)
                extra += 8
            }
            body(Tick(symbol: symbols[Int(bytes.loadUnaligned(fromByteOffset: at + 24, as: UInt32.self))],
                      ts: bytes.loadUnaligned(fromByteOffset: at, as: Int64.self),
                      price: bytes.loadUnaligned(fromByteOffset: at + 8, as: Double.self),
                      volume: bytes.loadUnaligned(fromByteOffset: at + 16, as: Double.self), bid: bid, ask: ask))
            at = extra
        }
        return Summary(ticks: count, rejectedCount: rejectedCount, rejectedLines: rejectedLines)
    }
}
