import Contracts
import Foundation

/// Reads a file in chunks that end on a line boundary; CSV chunks after the first get the
/// header row again, so each chunk decodes on its own. JSON documents are read whole.
public final class ChunkedFile {
    private let handle: FileHandle
    static let chunkSize = 8 << 20

    public init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Calls `body` with each chunk and the number of data lines before it (for messages).
    public func forEachChunk(format: TickFormat, _ body: (UnsafeRawBufferPointer, Int) -> Bool) {
        if format == .json {
            let data = handle.readDataToEndOfFile()
            _ = data.withUnsafeBytes { body($0, 0) }
            return
        }
        var linesBefore = 0
        var carry: [UInt8] = []
        var header: [UInt8]?
        while true {
            let data = handle.readData(ofLength: Self.chunkSize)
            let atEnd = data.isEmpty
            var chunk = carry
            chunk.append(contentsOf: data)
            carry = []
            if !atEnd, let lastNewline = chunk.lastIndex(of: 10) {
                carry = Array(chunk[(lastNewline + 1)...])
                chunk.removeSubrange((lastNewline + 1)...)
            } else if !atEnd {
                carry = chunk
                continue
            }
            if chunk.isEmpty { return }
            let lines = chunk.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            var offset = linesBefore
            if format == .csv {
                if let header {
                    chunk = header + chunk
                    offset -= 1  // the repeated header is not a line of the file
                } else if let firstNewline = chunk.firstIndex(of: 10) {
                    header = Array(chunk[...firstNewline])
                }
            }
            let keepGoing = chunk.withUnsafeBytes { body($0, offset) }
            linesBefore += lines
            if !keepGoing || atEnd { return }
        }
    }
}
