import Contracts
import Foundation

/// A tick file decoded chunk by chunk: the file is mapped read-only, cut into chunks of about
/// `chunkSize` bytes that end on a line boundary, and each chunk is decoded in place (no copy of
/// the file's bytes) into one reused result. CSV chunks after the first are decoded with the
/// file's header record beside them. JSON documents are decoded whole.
public final class ChunkedFile {
    private let fd: Int32
    private let chunkSize: Int

    /// `chunkSize`: about how many bytes are decoded at a time (8 MiB: a few hundred thousand
    /// ticks held at once, whatever the file's size).
    public init?(path: String, chunkSize: Int = 8 << 20) {
        self.chunkSize = max(1, chunkSize)
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    /// Calls `body` with each chunk's ticks (rejection indexes count from the chunk's first
    /// record, line numbers in messages from the file's first line); `body` returns false to stop.
    /// Stops after a document error too (the result that carries it is still handed over).
    public func forEachDecoded(format: TickFormat, _ body: (TickDecodeResult) -> Bool) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return }
        let size = Int(st.st_size)
        var result = TickDecodeResult()
        guard size > 0 else {
            TickDecoder.decode(UnsafeRawBufferPointer(start: nil, count: 0), format: format, csvHeader: nil, into: &result)
            _ = body(result)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else { return }
        defer { munmap(base, size) }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        let file = UnsafeRawBufferPointer(start: base, count: size)
        if format == .json {
            TickDecoder.decode(file, format: format, csvHeader: nil, into: &result)
            _ = body(result)
            return
        }
        // CSV: the header record once, beside every chunk of rows (line numbers then count on
        // from the header's line).
        var start = 0
        var header: UnsafeRawBufferPointer?
        if format == .csv {
            guard let length = TickDecoder.csvHeaderLength(file) else {
                TickDecoder.decode(file, format: format, csvHeader: nil, into: &result)  // says what is missing
                _ = body(result)
                return
            }
            header = UnsafeRawBufferPointer(rebasing: file[0..<length])
            start = length
        }
        var linesBefore = 0
        var first = true
        // At least once: a CSV of a header alone is decoded too (its header may be wrong).
        while first || start < size {
            first = false
            var end = min(start + chunkSize, size)
            if end < size {
                // Back to the last line end in the chunk, or on to the next one past it (a line
                // longer than a chunk).
                if let newline = Self.lastNewline(file, start, end) {
                    end = newline + 1
                } else {
                    end = Self.firstNewline(file, end, size).map { $0 + 1 } ?? size
                }
            }
            let chunk = UnsafeRawBufferPointer(rebasing: file[start..<end])
            TickDecoder.decode(chunk, format: format, lineOffset: linesBefore, csvHeader: header, into: &result)
            linesBefore += Self.newlines(chunk)
            guard body(result), result.documentError == nil else { return }
            start = end
        }
    }

    private static func lastNewline(_ file: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var i = end - 1
        while i >= start {
            if file[i] == 10 { return i }
            i -= 1
        }
        return nil
    }

    private static func firstNewline(_ file: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard start < end, let found = memchr(file.baseAddress! + start, 10, end - start) else { return nil }
        return file.baseAddress!.distance(to: UnsafeRawPointer(found))
    }

    private static func newlines(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard var p = bytes.baseAddress else { return 0 }
        let end = p + bytes.count
        var n = 0
        while p < end, let found = memchr(p, 10, end - p) {
            n += 1
            p = UnsafeRawPointer(found) + 1
        }
        return n
    }
}
