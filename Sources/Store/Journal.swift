import Locks
import CLinux
import Foundation
import Glibc
import Synchronization

/// When appended records reach the disk (the loss window on a machine crash; a process crash
/// loses nothing written, since `write` has handed the bytes to the kernel).
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// fdatasync after every batch: nothing acknowledged is lost, at the cost of a sync per batch.
    case always
    /// Group commit: a background thread syncs at most `intervalMs` after the first unsynced
    /// write; a machine crash loses at most that window.
    case interval
    /// Leave it to the kernel (~30 s writeback): fastest, the largest window.
    case never
}

public struct JournalSettings: Sendable {
    public var directory: String
    public var fsync: FsyncPolicy = .interval
    public var fsyncIntervalMs = 10
    /// A segment is closed and a new one started past this size.
    public var segmentBytes = 64 << 20
    /// Oldest closed segments are deleted while the journal is larger than this...
    public var retentionBytes: Int64 = 1 << 30
    /// ...or when they are older than this (seconds; 0 = no age limit).
    public var retentionSeconds: Int64 = 7 * 86_400

    public init(directory: String) { self.directory = directory }
}

/// Counters readable from any thread (health).
public final class JournalStats: Sendable {
    public let records = Atomic<Int>(0)
    public let bytes = Atomic<Int>(0)
    public let fsyncs = Atomic<Int>(0)
    public let segments = Atomic<Int>(0)
    public let lastSeq = Atomic<UInt64>(0)
    /// Bytes cut from a torn last record at recovery.
    public let truncatedBytes = Atomic<Int>(0)
    /// Records that failed their checksum (recovery stops reading a segment there).
    public let corruptRecords = Atomic<Int>(0)
    public let writeErrors = Atomic<Int>(0)
}

/// The append-only event journal: numbered segment files `journal-<first seq>.dfj` in one
/// directory, records as `JournalRecord` frames. One writer (the pipeline worker) appends a
/// batch and commits it with one `write`; a sync thread implements group commit. Opening it
/// recovers: the last segment is scanned, a torn tail truncated, and the last seq and the
/// newest records are handed back so the caller can restore its state.
public final class Journal: @unchecked Sendable {
    public let settings: JournalSettings
    public let stats = JournalStats()
    /// The newest intact records found at opening (oldest first), at most `tailLimit` of them.
    public private(set) var recoveredTail: [(seq: UInt64, payload: [UInt8])] = []
    public private(set) var lastSeq: UInt64 = 0
    /// What recovery did, for the log.
    public private(set) var recoveryReport = ""

    private var pending: [UInt8] = []
    private var pendingFirstSeq: UInt64 = 0
    /// What the writer shares with the sync thread (which must not keep the journal alive).
    private let shared = Shared()

    final class Shared: @unchecked Sendable {
        let file = PThreadLocked<ActiveSegment?>(nil)
        let dirty = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
        let running = Atomic<Bool>(true)
    }

    struct ActiveSegment {
        var fd: Int32
        var path: String
        var size: Int
    }

    public init(settings: JournalSettings, tailLimit: Int = 30_000) throws {
        self.settings = settings
        try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        try recover(tailLimit: tailLimit)
        if settings.fsync == .interval { startSyncThread() }
    }

    deinit { close() }

    // MARK: - Writing (one thread)

    /// Buffers one record; nothing reaches the file before `commit`.
    public func append(seq: UInt64, payload: UnsafeRawBufferPointer) {
        if pending.isEmpty { pendingFirstSeq = seq }
        JournalRecord.append(seq: seq, payload: payload, to: &pending)
        lastSeq = seq
        stats.records.wrappingAdd(1, ordering: .relaxed)
    }

    /// Writes the buffered records with one call (rolling to a new segment first when the
    /// current one is full), then syncs per the policy. Returns false on an I/O error (counted);
    /// the records stay buffered and are retried with the next commit.
    @discardableResult
    public func commit() -> Bool {
        guard !pending.isEmpty else { return true }
        let ok = shared.file.withLock { active -> Bool in
            if active == nil || active!.size >= settings.segmentBytes {
                guard roll(&active) else { return false }
            }
            guard var segment = active else { return false }
            let written = pending.withUnsafeBytes { writeAll(segment.fd, $0) }
            guard written else { return false }
            segment.size += pending.count
            active = segment
            if settings.fsync == .always {
                _ = fdatasync(segment.fd)
                stats.fsyncs.wrappingAdd(1, ordering: .relaxed)
            }
            return true
        }
        guard ok else {
            stats.writeErrors.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        stats.bytes.wrappingAdd(pending.count, ordering: .relaxed)
        stats.lastSeq.store(lastSeq, ordering: .relaxed)
        pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20)
        if settings.fsync == .interval, !shared.dirty.exchange(true, ordering: .acquiringAndReleasing) { shared.wake.signal() }
        return true
    }

    /// Syncs and closes the active segment; stops the sync thread.
    public func close() {
        guard shared.running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        shared.wake.signal()
        shared.file.withLock { active in
            if let segment = active {
                if settings.fsync != .never { _ = fdatasync(segment.fd) }
                Glibc.close(segment.fd)
            }
            active = nil
        }
    }

    // MARK: - Reading

    /// Records with `after` < seq ≤ `upTo`, oldest first, at most `limit`, and the oldest seq the
    /// journal still holds (nil when empty). Any thread: it reads the files (only whole records,
    /// so a batch being written is simply not seen yet). File I/O: call it off the reactor.
    public func read(after: UInt64, upTo: UInt64 = .max, limit: Int) -> (records: [(seq: UInt64, payload: [UInt8])], oldest: UInt64?) {
        let paths = Self.segments(in: settings.directory)
        let firsts = paths.map { path -> UInt64 in
            let name = (path as NSString).lastPathComponent
            return UInt64(name.dropFirst("journal-".count).prefix(20)) ?? 0
        }
        guard let oldest = firsts.first else { return ([], nil) }
        // The last segment that starts at or before the first wanted seq.
        let startIndex = firsts.lastIndex { $0 <= after + 1 } ?? 0
        var out: [(seq: UInt64, payload: [UInt8])] = []
        for path in paths[startIndex...] {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            var done = false
            data.withUnsafeBytes { bytes in
                var offset = 0
                while case .record(let seq, let payload, let next) = JournalRecord.decode(bytes, at: offset) {
                    offset = next
                    if seq <= after { continue }
                    if seq > upTo || out.count >= limit { done = true; return }
                    out.append((seq, Array(bytes[payload])))
                }
            }
            if done { break }
        }
        return (out, oldest)
    }

    /// Deletes the closed segments whose records are all at or below `seq` (a checkpoint covers
    /// them). Any thread; the active segment is never deleted.
    public func deleteSegments(through seq: UInt64) {
        // The directory is listed outside the writer's lock; only the active segment's name is
        // read under it (a segment rolled meanwhile is newer than every one deleted here).
        let paths = Self.segments(in: settings.directory)
        let active = shared.file.withLock { $0?.path }
        var deleted = 0
        for (i, path) in paths.enumerated() where i + 1 < paths.count && path != active {
            let nextFirst = UInt64((paths[i + 1] as NSString).lastPathComponent.dropFirst("journal-".count).prefix(20)) ?? 0
            guard nextFirst > 0, nextFirst <= seq + 1 else { break }
            try? FileManager.default.removeItem(atPath: path)
            deleted += 1
        }
        if deleted > 0 { stats.segments.store(paths.count - deleted, ordering: .relaxed) }
    }

    // MARK: - Segments

    public static func segmentName(firstSeq: UInt64) -> String { String(format: "journal-%020llu.dfj", firstSeq) }

    /// Segment files, oldest first (their names sort by first seq).
    public static func segments(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("journal-") && $0.hasSuffix(".dfj") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    private func roll(_ active: inout ActiveSegment?) -> Bool {
        if let old = active {
            if settings.fsync != .never { _ = fdatasync(old.fd) }
            Glibc.close(old.fd)
            active = nil
        }
        let path = (settings.directory as NSString).appendingPathComponent(Self.segmentName(firstSeq: pendingFirstSeq))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        // The directory entry must survive a crash too.
        let dir = open(settings.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); Glibc.close(dir) }
        var st = stat()
        fstat(fd, &st)
        active = ActiveSegment(fd: fd, path: path, size: Int(st.st_size))
        stats.segments.store(Self.segments(in: settings.directory).count, ordering: .relaxed)
        applyRetention(keeping: path)
        return true
    }

    /// Deletes the oldest closed segments while the journal is over its size, or older than its age.
    private func applyRetention(keeping active: String) {
        let paths = Self.segments(in: settings.directory)
        var sizes: [(String, Int64, Double)] = paths.map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return (path, size, modified)
        }
        var total = sizes.reduce(Int64(0)) { $0 + $1.1 }
        let now = Date().timeIntervalSince1970
        while let oldest = sizes.first, oldest.0 != active {
            let tooOld = settings.retentionSeconds > 0 && now - oldest.2 > Double(settings.retentionSeconds)
            guard total > settings.retentionBytes || tooOld else { break }
            try? FileManager.default.removeItem(atPath: oldest.0)
            total -= oldest.1
            sizes.removeFirst()
        }
        stats.segments.store(sizes.count, ordering: .relaxed)
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            // A partial record on disk would read as a torn tail; cut it so the file stays whole.
            if done > 0 { _ = ftruncate(fd, lseek(fd, 0, SEEK_END) - off_t(done)) }
            return false
        }
        return true
    }

    // MARK: - Group commit

    private func startSyncThread() {
        let shared = self.shared, stats = self.stats, intervalMs = settings.fsyncIntervalMs
        let thread = Thread {
            while shared.running.load(ordering: .acquiring) {
                shared.wake.wait()
                guard shared.running.load(ordering: .acquiring) else { break }
                // The group-commit window: writes in the next few ms ride on this sync.
                var pause = timespec(tv_sec: 0, tv_nsec: intervalMs * 1_000_000)
                nanosleep(&pause, nil)
                shared.dirty.store(false, ordering: .releasing)
                // Synced through a duplicate of the descriptor, outside the lock: an fdatasync can
                // take milliseconds, and the worker's next commit (a write under that lock) must
                // not wait for it. A segment rolled meanwhile was synced by the roll; its file
                // stays open through the duplicate until this sync is done.
                let fd = shared.file.withLock { active in active.map { dup($0.fd) } ?? -1 }
                if fd >= 0 {
                    _ = fdatasync(fd)
                    Glibc.close(fd)
                    stats.fsyncs.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
        thread.name = "df-journal-sync"
        thread.start()
    }

    // MARK: - Recovery

    /// Scans segments newest first until `tailLimit` records are found; in the newest, cuts a
    /// torn tail; notes the last seq. Older segments were closed whole (synced at roll-over).
    private func recover(tailLimit: Int) throws {
        let paths = Self.segments(in: settings.directory)
        stats.segments.store(paths.count, ordering: .relaxed)
        var tail: [(UInt64, [UInt8])] = []
        var notes: [String] = []
        for (index, path) in paths.enumerated().reversed() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            var records: [(UInt64, [UInt8])] = []
            var offset = 0
            var stop: JournalRecord.Decoded?
            data.withUnsafeBytes { bytes in
                while true {
                    let decoded = JournalRecord.decode(bytes, at: offset)
                    guard case .record(let seq, let payload, let next) = decoded else { stop = decoded; break }
                    records.append((seq, Array(bytes[payload])))
                    offset = next
                }
            }
            if offset < data.count {
                if stop == .corrupt { stats.corruptRecords.wrappingAdd(1, ordering: .relaxed) }
                if index == paths.count - 1 {
                    // The newest segment ends in a torn or damaged record: cut it off.
                    _ = truncate(path, off_t(offset))
                    stats.truncatedBytes.wrappingAdd(data.count - offset, ordering: .relaxed)
                    notes.append("cut \(data.count - offset) bytes of a \(stop == .corrupt ? "damaged" : "torn") record from \((path as NSString).lastPathComponent)")
                } else {
                    notes.append("\((path as NSString).lastPathComponent) is damaged at byte \(offset); later records in it are skipped")
                }
            }
            if lastSeq == 0, let last = records.last { lastSeq = last.0 }
            tail.insert(contentsOf: records.suffix(max(0, tailLimit - tail.count)), at: 0)
            // Go on past an empty newest segment (created, then the process died before a whole
            // record reached it) until the last seq is known, whatever the tail limit.
            if tail.count >= tailLimit && lastSeq != 0 { break }
        }
        recoveredTail = tail.map { (seq: $0.0, payload: $0.1) }
        stats.lastSeq.store(lastSeq, ordering: .relaxed)
        // Appends continue in the newest segment.
        if let newest = paths.last {
            let fd = open(newest, O_WRONLY | O_APPEND | O_CLOEXEC)
            if fd >= 0 {
                var st = stat()
                fstat(fd, &st)
                shared.file.withLock { $0 = ActiveSegment(fd: fd, path: newest, size: Int(st.st_size)) }
            }
        }
        recoveryReport = "journal \(settings.directory): \(paths.count) segment(s), last seq \(lastSeq), "
            + "\(recoveredTail.count) recent record(s) restored" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
    }
}
